"""The deployable tree, assembled the way `sam build` assembles it, from template.yaml.

For each `AWS::Serverless::LayerVersion`: `pip install -r <ContentUri>/requirements.txt` into
`<build>/<LayerId>/python` plus a copy of `<ContentUri>` (what Lambda mounts at /opt/python). For each
`AWS::Serverless::Function`: its `<CodeUri>/requirements.txt` installed into `<build>/<FunctionId>` plus a
copy of `<CodeUri>` (what Lambda mounts at /var/task). Symbolic links are followed, as `sam build` does.
Packages are built for this machine's platform (the real build is arm64: `make build`); installs are
cached under `<build>/.deps` by the hash of the requirements and the interpreter, code is copied afresh.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

from fakes.cfn_template import REPO_ROOT, load_template

BUILD_ROOT = REPO_ROOT / "build" / "artifact"
LAMBDA_PYTHON_VERSION = "3.13"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


class FunctionCode(NamedTuple):
    task_dir: Path  # /var/task
    handler: str  # module.attribute


class Artifact(NamedTuple):
    layer_python: Path  # /opt/python
    functions: dict[str, FunctionCode]  # by logical id
    layer_dir: Path  # the layer's build directory (python/ inside)


def lambda_python() -> str:
    """The runtime's interpreter (python3.13, plain or pyenv), found as the Makefile finds it."""
    found = subprocess.run(
        [str(REPO_ROOT / "infra" / "find_python.sh"), LAMBDA_PYTHON_VERSION],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not found:
        raise RuntimeError(
            f"the artifact test needs python{LAMBDA_PYTHON_VERSION} (the Lambda runtime): none works here "
            f"(try `pyenv install {LAMBDA_PYTHON_VERSION}`)"
        )
    return found


def real_requirements(path: Path) -> list[str]:
    """The requirement lines of a requirements file (comments and blanks dropped)."""
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def _install(python: str, requirements: list[str], build_root: Path) -> Path | None:
    """A directory holding `requirements` installed for `python`, reused while they do not change."""
    if not requirements:
        return None
    version = subprocess.run([python, "-VV"], capture_output=True, text=True, check=True).stdout
    digest = hashlib.sha256("\n".join([version, *requirements]).encode()).hexdigest()[:16]
    target = build_root / ".deps" / digest
    if (target / ".complete").is_file():
        return target / "site"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    listing = target / "requirements.txt"
    listing.write_text("\n".join(requirements) + "\n")
    installed = subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            "--root-user-action=ignore",
            "--requirement",
            str(listing),
            "--target",
            str(target / "site"),
        ],
        capture_output=True,
        text=True,
    )
    if installed.returncode != 0:
        raise RuntimeError(f"pip could not install the requirements:\n{installed.stderr[-4000:]}")
    (target / ".complete").touch()
    return target / "site"


def _assemble(deps: Path | None, code: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    if deps is not None:  # hard links: the cached install is never modified, only read
        shutil.copytree(deps, target, copy_function=os.link, ignore=_IGNORED)
    shutil.copytree(code, target, symlinks=False, ignore=_IGNORED, dirs_exist_ok=True)


def build_artifact(
    build_root: Path = BUILD_ROOT,
    *,
    python: str | None = None,
    layer_requirements: list[str] | None = None,
) -> Artifact:
    """Assemble every layer and function of template.yaml under `build_root`.

    `layer_requirements` replaces the layer's requirements file (to prove that dropping a package breaks
    the artifact); the default is the file itself.
    """
    python = python or lambda_python()
    resources = load_template()["Resources"]
    layers = {k: r for k, r in resources.items() if r["Type"] == "AWS::Serverless::LayerVersion"}
    ((layer_id, layer),) = layers.items()
    content = REPO_ROOT / layer["Properties"]["ContentUri"]
    requirements = layer_requirements
    if requirements is None:
        requirements = real_requirements(content / "requirements.txt")
    layer_dir = build_root / layer_id
    _assemble(_install(python, requirements, build_root), content, layer_dir / "python")

    functions = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        code = REPO_ROOT / resource["Properties"]["CodeUri"]
        target = build_root / logical_id
        _assemble(_install(python, real_requirements(code / "requirements.txt"), build_root), code, target)
        functions[logical_id] = FunctionCode(target, resource["Properties"]["Handler"])
    return Artifact(layer_dir / "python", functions, layer_dir)


def distributions(site: Path) -> dict[str, str]:
    """Installed distributions in a directory: normalised name → version (from *.dist-info)."""
    found = {}
    for info in site.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        found[name.lower().replace("_", "-").replace(".", "-")] = version
    return found


def tree_bytes(path: Path) -> int:
    """Unzipped size, as Lambda counts it against its 250 MB limit."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
