"""Resilience presets from the command line (the `make *-resil-*` targets).

    PYTHONPATH=layers/shared python infra/resilience_cli.py list
    PYTHONPATH=layers/shared python infra/resilience_cli.py show production
    PYTHONPATH=layers/shared python infra/resilience_cli.py validate          # this environment's settings
    PYTHONPATH=layers/shared python infra/resilience_cli.py recommend staging
    PYTHONPATH=layers/shared python infra/resilience_cli.py templates
    PYTHONPATH=layers/shared python infra/resilience_cli.py ssm-values --stage dev [--stack-name textapi-dev]

Exit status: 0 on success, 1 when the configuration is invalid, 2 on a usage error (unknown name).
"""

from __future__ import annotations

import argparse
import json
import sys

from textapi_shared.resilience.config_validation import parse_custom_config
from textapi_shared.resilience.presets import (
    PRESET_NAMES,
    bundled_presets,
    presets_document,
    recommend_preset,
    resolve_policies,
    templates,
)

STAGE_PRESETS = {"prod": "production", "production": "production", "staging": "production"}


def ssm_parameters(stage: str, stack_name: str | None = None) -> dict[str, str]:
    """The SSM parameters the template creates for `stage`, with their initial values. Their names start
    with the stack's name (`textapi-<stage>` in samconfig.toml), so two stacks never share them."""
    prefix = f"/{stack_name or f'textapi-{stage}'}/resilience"
    return {
        f"{prefix}/preset": STAGE_PRESETS.get(stage, "development" if stage in ("dev", "test") else "simple"),
        f"{prefix}/custom-config": "{}",
        f"{prefix}/presets": presets_document(),
    }


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2))


def cmd_list(_: argparse.Namespace) -> int:
    print(f"{'preset':<12} {'attempts':>8} {'threshold':>9} {'recovery':>8}  {'strategy':<13} overrides")
    for preset in bundled_presets().values():
        overrides = ", ".join(f"{op}={s}" for op, s in preset.operation_overrides.items()) or "-"
        print(
            f"{preset.name:<12} {preset.retry_attempts:>8} {preset.circuit_breaker_threshold:>9} "
            f"{preset.recovery_timeout:>7}s  {preset.default_strategy:<13} {overrides}"
        )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    presets = bundled_presets()
    if args.name not in presets:
        print(f"unknown preset {args.name!r}; available: {', '.join(PRESET_NAMES)}", file=sys.stderr)
        return 2
    preset = presets[args.name]
    policies = {op: p.as_dict() for op, p in resolve_policies(preset).items()}
    _print_json({**preset._asdict(), "operations": policies})
    return 0


def cmd_validate(_: argparse.Namespace) -> int:
    from textapi_shared.config import SharedSettings, load_settings
    from textapi_shared.errors import ConfigurationError

    try:
        settings = load_settings(SharedSettings)
    except ConfigurationError as exc:
        print(f"invalid: {exc.message}", file=sys.stderr)
        return 1
    custom, result = parse_custom_config(settings.resilience_custom_config)
    print(f"RESILIENCE_PRESET={settings.resilience_preset}: valid")
    label = "RESILIENCE_CUSTOM_CONFIG"
    if not settings.resilience_custom_config.strip():
        print(f"{label}: not set")
    else:
        print(f"{label}: {'valid' if result.is_valid else 'INVALID'}")
    for kind in ("errors", "warnings", "suggestions"):
        for line in getattr(result, kind):
            print(f"  {kind[:-1]}: {line}")
    if not result.is_valid:
        return 1
    policies = resolve_policies(bundled_presets()[settings.resilience_preset], custom)
    print("policies in force (before any SSM parameter):")
    for op, policy in policies.items():
        print(
            f"  {op:<11} {policy.name:<13} attempts={policy.max_attempts} "
            f"threshold={policy.failure_threshold} recovery={policy.recovery_timeout:g}s"
        )
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    _print_json(recommend_preset(args.environment).as_dict())
    return 0


def cmd_templates(_: argparse.Namespace) -> int:
    _print_json(templates())
    return 0


def cmd_ssm_values(args: argparse.Namespace) -> int:
    _print_json(ssm_parameters(args.stage, args.stack_name))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the bundled presets").set_defaults(run=cmd_list)
    show = commands.add_parser("show", help="one preset and the policy of each operation")
    show.add_argument("name")
    show.set_defaults(run=cmd_show)
    commands.add_parser("validate", help="RESILIENCE_PRESET and RESILIENCE_CUSTOM_CONFIG of this environment")
    commands.choices["validate"].set_defaults(run=cmd_validate)
    recommend = commands.add_parser("recommend", help="the preset for an environment name")
    recommend.add_argument("environment")
    recommend.set_defaults(run=cmd_recommend)
    commands.add_parser("templates", help="custom-configuration templates").set_defaults(run=cmd_templates)
    ssm = commands.add_parser("ssm-values", help="the SSM parameters the template creates, with values")
    ssm.add_argument("--stage", default="dev")
    ssm.add_argument("--stack-name", help="default: textapi-<stage>")
    ssm.set_defaults(run=cmd_ssm_values)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
