"""`make deploy`: `sam deploy --config-env ENV` with samconfig.toml's parameters, PARAMS and ReleaseDigest.

Runs on the SAM CLI's own Python (.venv-sam, whatever python3 made it: 3.9 on macOS), so it reads
samconfig.toml with tomlkit (a SAM CLI dependency), not tomllib (3.11+). Anything it cannot read, or a
parameter the template does not declare, stops the deploy with a message: a prod deploy must never go out
with the template's defaults because a lookup failed quietly.

samconfig.toml's `parameter_overrides` for the environment come first, then PARAMS (`Name=value` words):
SAM would otherwise take PARAMS alone and drop the environment's own (Stage included). ReleaseDigest is
a digest of every function's and the layer's source folders, template.yaml and every effective parameter
value (declared defaults included), so a deploy that changes any of them publishes new function versions
(see the template's Globals), and a deploy that changes none publishes none.

    python infra/deploy.py --config-env prod --region eu-west-1 [--dry-run] [Name=value ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIGEST_PARAMETER = "ReleaseDigest"
_OVERRIDE = re.compile(r"^([A-Za-z0-9]+)=(.*)$", re.DOTALL)
_SKIPPED = ("__pycache__", ".pytest_cache")


class DeployError(Exception):
    """What stops the deploy, said in one line."""


def read_overrides(samconfig: Path, config_env: str) -> dict[str, str]:
    """`parameter_overrides` of `[<config_env>.deploy.parameters]` (a string of `Name=value` words, or a
    list of them), as SAM reads it."""
    try:
        import tomlkit
    except ImportError as exc:  # the SAM CLI environment always has it
        raise DeployError(
            f"tomlkit is missing ({exc}): run this with the SAM CLI's Python (.venv-sam)"
        ) from exc
    try:
        document = tomlkit.parse(samconfig.read_text(encoding="utf-8")).unwrap()
    except (OSError, ValueError) as exc:
        raise DeployError(f"cannot read {samconfig}: {exc}") from exc
    try:
        deploy = document[config_env]["deploy"]["parameters"]
    except (KeyError, TypeError) as exc:
        raise DeployError(f"{samconfig} has no [{config_env}.deploy.parameters] section") from exc
    raw = deploy.get("parameter_overrides", "")
    words = shlex.split(raw) if isinstance(raw, str) else [str(word) for word in raw]
    return parse_overrides(words, f"{samconfig} [{config_env}]")


def parse_overrides(words: list[str], origin: str) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for word in words:
        match = _OVERRIDE.match(word)
        if match is None:
            raise DeployError(f"{origin}: {word!r} is not Name=value")
        overrides[match.group(1)] = match.group(2)
    return overrides


def template_parameters(template: Path) -> dict[str, dict]:
    from samcli.yamlhelper import yaml_parse

    try:
        parameters = yaml_parse(template.read_text(encoding="utf-8")).get("Parameters") or {}
    except (OSError, ValueError) as exc:
        raise DeployError(f"cannot read {template}: {exc}") from exc
    return dict(parameters)


def effective_parameters(declared: dict[str, dict], overrides: dict[str, str]) -> dict[str, str]:
    """Every parameter's value in this deploy: the overrides, else the declared default."""
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise DeployError(f"not parameters of the template: {', '.join(unknown)}")
    if DIGEST_PARAMETER in overrides:
        raise DeployError(f"{DIGEST_PARAMETER} is computed by this script; do not pass it")
    values = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
    values.update(overrides)
    values.pop(DIGEST_PARAMETER, None)
    return values


def code_folders(template: Path) -> list[Path]:
    """The CodeUri of every function and the ContentUri of every layer: what `sam build` packages."""
    from samcli.yamlhelper import yaml_parse

    resources = yaml_parse(template.read_text(encoding="utf-8")).get("Resources") or {}
    folders = set()
    for resource in resources.values():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                folders.add((template.parent / properties[key]).resolve())
    return sorted(folders)


def release_digest(template: Path, values: dict[str, str]) -> str:
    """sha256 of the parameter values, template.yaml and every file of the code folders (path and bytes)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(values, sort_keys=True).encode())
    digest.update(b"\0template\0" + template.read_bytes())
    root = template.parent.resolve()
    for folder in code_folders(template):
        if not folder.is_dir():
            raise DeployError(f"{folder} (a CodeUri or ContentUri of {template.name}) does not exist")
        for path in sorted(folder.rglob("*")):
            if path.is_dir() or any(part in _SKIPPED for part in path.parts) or path.suffix == ".pyc":
                continue
            digest.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--config-env", required=True, help="samconfig.toml environment (default, staging, prod)"
    )
    parser.add_argument("--region", required=True)
    parser.add_argument("--samconfig", type=Path, default=ROOT / "samconfig.toml")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--dry-run", action="store_true", help="print the parameters and the command only")
    parser.add_argument("params", nargs="*", metavar="Name=value", help="PARAMS: added to samconfig's")
    args = parser.parse_args(argv)
    try:
        overrides = read_overrides(args.samconfig, args.config_env)
        overrides.update(parse_overrides(args.params, "PARAMS"))
        values = effective_parameters(template_parameters(args.template), overrides)
        digest = release_digest(args.template, values)
    except DeployError as exc:
        print(f"make deploy: {exc}", file=sys.stderr)
        return 2
    chosen = {**overrides, DIGEST_PARAMETER: digest}
    # A YAML file (JSON is YAML) carries every value exactly: no quoting rules for spaces or quotes.
    with tempfile.TemporaryDirectory(prefix="textapi-deploy-") as workspace:
        parameters_file = Path(workspace) / "parameters.yaml"
        parameters_file.write_text(json.dumps(chosen, indent=1), encoding="utf-8")
        command = [
            str(Path(sys.executable).parent / "sam"),
            "deploy",
            "--config-env",
            args.config_env,
            "--region",
            args.region,
            "--parameter-overrides",
            f"file://{parameters_file}",
        ]
        print("make deploy: parameters " + " ".join(f"{k}={v}" for k, v in sorted(chosen.items())))
        if args.dry_run:
            print("make deploy: would run " + " ".join(shlex.quote(part) for part in command))
            return 0
        sys.stdout.flush()
        return subprocess.call(command, cwd=args.template.parent, env=os.environ.copy())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
