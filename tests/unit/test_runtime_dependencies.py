"""One list of runtime dependencies: what Lambda installs is `layers/shared/requirements.txt` (and each
function's own `requirements.txt`), so every third-party module the code imports, lazily or not, must
come from a distribution pinned there; the pins must be the complete closure the dev venv tested; and no
development tool may ride along into the layer."""

from __future__ import annotations

import ast
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared"
FUNCTIONS = sorted(p for p in (ROOT / "functions").iterdir() if (p / "requirements.txt").is_file())
FIRST_PARTY = {"textapi_shared", *(p.name for p in FUNCTIONS)}
# Provided by the Lambda Python runtime itself (SnapStart hooks); the code imports it when present.
RUNTIME_PROVIDED = {"snapshot_restore_py"}
# What Lambda's python3.13 on arm64 Linux evaluates environment markers as.
LAMBDA_MARKERS = {**default_environment(), "python_version": "3.13", "sys_platform": "linux"}


def pins(path: Path) -> dict[str, str]:
    """name → version of each `name==version` line (other lines, `-r` includes, are not pins)."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            requirement = Requirement(line)
            found[_normalise(requirement.name)] = str(requirement.specifier).removeprefix("==")
    return found


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """Top-level module → files importing it, from every `import` in the code (inside functions too)."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def third_party(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    return {
        module: files
        for module, files in modules.items()
        if module not in sys.stdlib_module_names and module not in FIRST_PARTY | RUNTIME_PROVIDED
    }


def test_every_third_party_import_is_provided_by_a_runtime_requirement():
    providers = metadata.packages_distributions()
    layer = pins(LAYER / "requirements.txt")
    missing = []
    for folder, allowed in [
        (LAYER, layer),
        *((f, {**layer, **pins(f / "requirements.txt")}) for f in FUNCTIONS),
    ]:
        for module, files in third_party(imported_modules(folder)).items():
            distributions = {_normalise(d) for d in providers.get(module, [])}
            if not distributions & allowed.keys():
                missing.append(
                    f"{module} ({', '.join(sorted(distributions)) or 'no distribution'}): {sorted(files)}"
                )
    assert not missing, "imported at run time but not in a runtime requirements file:\n" + "\n".join(missing)


def test_the_layer_pins_its_complete_closure_at_the_versions_the_tests_ran():
    layer = pins(LAYER / "requirements.txt")
    unpinned, drifted = [], []
    for name, version in layer.items():
        installed = metadata.distribution(name)
        if installed.version != version:
            drifted.append(f"{name}: pinned {version}, dev venv has {installed.version}")
        for spec in installed.requires or []:
            requirement = Requirement(spec)
            if requirement.marker is not None and not requirement.marker.evaluate(
                {**LAMBDA_MARKERS, "extra": ""}
            ):
                continue
            if _normalise(requirement.name) not in layer:
                unpinned.append(f"{requirement.name} (required by {name})")
    assert not drifted, "\n".join(drifted)
    assert not unpinned, "sam build would install these unpinned:\n" + "\n".join(sorted(set(unpinned)))


def test_no_development_tool_is_a_runtime_requirement():
    dev_tools = set(pins(ROOT / "requirements-dev.txt")) | {
        "pytest",
        "moto",
        "uvicorn",
        "ruff",
        "httpx",
        "schemathesis",
        "hypothesis",
        "import-linter",
        "pyyaml",
        "snapshot-restore-py",
        "aws-sam-cli",
    }
    runtime = set(pins(LAYER / "requirements.txt"))
    for folder in FUNCTIONS:
        runtime |= set(pins(folder / "requirements.txt"))
    assert not dev_tools & runtime
    assert "-r layers/shared/requirements.txt" in (ROOT / "requirements-dev.txt").read_text()


def test_the_check_sees_lazy_imports():
    modules = third_party(imported_modules(LAYER))
    assert {"google", "redis", "tenacity", "boto3", "botocore"} <= modules.keys()
