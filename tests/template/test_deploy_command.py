"""`make deploy` (infra/deploy.py on the SAM CLI's own Python): samconfig.toml's parameters for the
environment, PARAMS on top, ReleaseDigest computed; anything unreadable or unknown stops the deploy."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fakes.cfn_template import REPO_ROOT

SCRIPT = REPO_ROOT / "infra" / "deploy.py"
SAM_PYTHON = REPO_ROOT / ".venv-sam" / "bin" / "python"


def deploy(*arguments: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    assert SAM_PYTHON.is_file(), "the SAM CLI environment is missing: run `make install`"
    return subprocess.run(
        [str(SAM_PYTHON), str(SCRIPT), "--region", "eu-west-1", "--dry-run", *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "")},
        timeout=60,
    )


def parameters(run: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert run.returncode == 0, run.stderr
    [line] = [line for line in run.stdout.splitlines() if line.startswith("make deploy: parameters ")]
    return dict(word.split("=", 1) for word in line.removeprefix("make deploy: parameters ").split(" "))


def test_prod_gets_samconfigs_parameters_with_params_added_and_a_release_digest():
    run = deploy("--config-env", "prod", "AlarmEmail=ops@example.com", "LogLevel=DEBUG")
    chosen = parameters(run)
    assert chosen["Stage"] == "prod"
    assert chosen["GeminiApiKeyParameterName"] == "/textapi-prod/gemini-api-key"
    assert chosen["DeploymentType"] == "Canary10Percent5Minutes"
    assert (chosen["AlarmEmail"], chosen["LogLevel"]) == ("ops@example.com", "DEBUG")
    assert re.fullmatch(r"[0-9a-f]{32}", chosen["ReleaseDigest"])
    [command] = [line for line in run.stdout.splitlines() if line.startswith("make deploy: would run ")]
    assert " deploy --config-env prod --region eu-west-1 --parameter-overrides file://" in command
    assert "/.venv-sam/bin/sam " in command


def test_params_override_samconfig_and_move_the_digest():
    base = parameters(deploy("--config-env", "default"))
    changed = parameters(deploy("--config-env", "default", "DeploymentType=Canary10Percent5Minutes"))
    assert (base["DeploymentType"], changed["DeploymentType"]) == ("AllAtOnce", "Canary10Percent5Minutes")
    assert base["ReleaseDigest"] != changed["ReleaseDigest"], "a parameter value reaches the versions"
    again = parameters(deploy("--config-env", "default"))
    assert again["ReleaseDigest"] == base["ReleaseDigest"], "nothing changed: nothing published"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--config-env", "qa"), "has no [qa.deploy.parameters] section"),
        (("--config-env", "prod", "Stagee=prod"), "not parameters of the template: Stagee"),
        (("--config-env", "prod", "Stage"), "'Stage' is not Name=value"),
        (("--config-env", "prod", "ReleaseDigest=0123456789abcdef"), "ReleaseDigest is computed"),
    ],
)
def test_what_cannot_be_read_or_is_unknown_stops_the_deploy(arguments, message):
    run = deploy(*arguments)
    assert run.returncode == 2
    assert message in run.stderr
    assert "would run" not in run.stdout


def test_an_unreadable_samconfig_stops_the_deploy(tmp_path):
    broken = tmp_path / "samconfig.toml"
    broken.write_text('[prod.deploy.parameters]\nparameter_overrides = "Stage=prod\n')
    run = deploy("--config-env", "prod", "--samconfig", str(broken))
    assert run.returncode == 2
    assert f"cannot read {broken}" in run.stderr
    missing = deploy("--config-env", "prod", "--samconfig", str(tmp_path / "nowhere.toml"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr


def test_the_digest_follows_the_layer_and_function_sources_not_their_bytecode(tmp_path):
    for name in ("template.yaml", "samconfig.toml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("functions", "layers"):
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder, ignore=ignore)
    copy = ("--config-env", "prod", "--template", str(tmp_path / "template.yaml"))

    def digest() -> str:
        return parameters(deploy(*copy, "--samconfig", str(tmp_path / "samconfig.toml")))["ReleaseDigest"]

    first = digest()
    cache = tmp_path / "layers/shared/textapi_shared/__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "config.cpython-313.pyc").write_bytes(b"\0" * 16)
    assert digest() == first
    layer_file = tmp_path / "layers/shared/requirements.txt"
    layer_file.write_text(layer_file.read_text() + "# a dependency bump\n")
    after_layer = digest()
    assert after_layer != first, "a layer-only change"
    handler = tmp_path / "functions/internal_api/internal_api/main.py"
    handler.write_text(handler.read_text() + "\n")
    assert digest() not in (first, after_layer)


def test_the_script_runs_on_every_python_the_makefile_may_give_the_sam_cli():
    """The SAM CLI's venv is made by whatever `python3` is (3.9 on macOS): no newer syntax, no tomllib."""
    tree = ast.parse(SCRIPT.read_text(), feature_version=(3, 9))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert "tomlkit" in imported
    assert "tomllib" not in imported
    makefile = (REPO_ROOT / "Makefile").read_text()
    [recipe] = [line for line in makefile.splitlines() if line.startswith("\t") and "infra/deploy.py" in line]
    assert recipe.strip().startswith("$(SAM_VENV)/bin/python infra/deploy.py --config-env $(SAM_CONFIG_ENV)")
    assert "tomllib" not in makefile
