"""The assembled layout itself: what the layer holds, how big it is, that it matches the real arm64
`sam build` output, and that a package missing from the requirements fails loudly."""

from __future__ import annotations

import pytest

from artifact.lambda_instance import LambdaInstance, clean_environment, function_environment
from artifact.layout import build_artifact, distributions, real_requirements, tree_bytes
from artifact.stack import STACK_NAME
from fakes.cfn_resolve import TemplateResolver
from fakes.cfn_template import REPO_ROOT, load_template

LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
SAM_BUILD = REPO_ROOT / ".aws-sam" / "build"
DEV_TOOLS = {
    "pytest",
    "moto",
    "uvicorn",
    "ruff",
    "httpx",
    "pyyaml",
    "import-linter",
    "schemathesis",
    "hypothesis",
    "snapshot-restore-py",
    "aws-sam-cli",
    "cfn-lint",
}


def _pins(path) -> dict[str, str]:
    pins = {}
    for line in real_requirements(path):
        name, _, version = line.partition("==")
        pins[name.split("[")[0].strip().lower().replace("_", "-").replace(".", "-")] = version.strip()
    return pins


def test_layer_holds_exactly_the_pinned_runtime_closure_and_no_dev_tool(artifact):
    pinned = _pins(REPO_ROOT / "layers/shared/requirements.txt")
    installed = distributions(artifact.layer_python)
    assert installed == pinned, "pip installed something the requirements do not pin, or not what they pin"
    assert not DEV_TOOLS & installed.keys()
    assert (artifact.layer_python / "textapi_shared" / "__init__.py").is_file()


def test_function_and_layer_fit_lambdas_unzipped_limit(artifact):
    layer = tree_bytes(artifact.layer_python)
    print(f"\nunzipped (host build): layer {layer / 2**20:.1f} MB")
    for function_id, code in artifact.functions.items():
        size = tree_bytes(code.task_dir)
        total = (size + layer) / 2**20
        print(f"  {function_id}: {size / 2**10:.0f} KB; with the layer {total:.1f} MB of 250 MB")
        assert size + layer < LAMBDA_UNZIPPED_LIMIT


def test_the_real_arm64_sam_build_holds_the_same_distributions(artifact):
    """`make test-artifact` runs `make build` first: SAM's arm64 layer must hold what the tests ran."""
    assert SAM_BUILD.is_dir(), "no .aws-sam/build: run `make build` (make test-artifact does)"
    sam_layer = SAM_BUILD / "SharedLayer" / "python"
    assert distributions(sam_layer) == distributions(artifact.layer_python)
    assert not DEV_TOOLS & distributions(sam_layer).keys()
    print(f"\nunzipped (sam build, arm64): layer {tree_bytes(sam_layer) / 2**20:.1f} MB")
    for function_id in artifact.functions:
        size = tree_bytes(SAM_BUILD / function_id)
        total = (size + tree_bytes(sam_layer)) / 2**20
        print(f"  {function_id}: {size / 2**10:.0f} KB; with the layer {total:.1f} MB of 250 MB")
        handler_module = artifact.functions[function_id].handler.rsplit(".", 1)[0].replace(".", "/")
        assert (SAM_BUILD / function_id / f"{handler_module}.py").is_file()


def test_dropping_a_package_from_the_requirements_fails_the_cold_start(runtime_python, tmp_path):
    """The defect this level exists for: google-genai was missing from the layer, and every Gemini call
    answered 500 while every test passed. Now the cold start itself refuses, naming the package."""
    requirements = [
        line
        for line in real_requirements(REPO_ROOT / "layers/shared/requirements.txt")
        if not line.startswith("google-genai==")
    ]
    crippled = build_artifact(tmp_path / "build", python=runtime_python, layer_requirements=requirements)
    assert "google-genai" not in distributions(crippled.layer_python)
    resolver = TemplateResolver(
        load_template(),
        parameters={"Stage": "dev", "CacheBackend": "memory", "GeminiApiKeyParameterName": "/x/gemini"},
        stack_name=STACK_NAME,
    )
    environment = {**clean_environment(), **function_environment(resolver, "PublicApiFunction")}
    with pytest.raises(RuntimeError, match="failed its cold start: ConfigurationError") as failed:
        LambdaInstance(runtime_python, crippled, "PublicApiFunction", environment, log_path=tmp_path / "log")
    assert "google-genai" in str(failed.value)
