"""Resilience presets and operator templates, and how a preset becomes per-operation policies.

The preset files live in `infra/presets/` (the single source of truth); the layer reaches them through
the `preset_files` symlink, which `sam build` copies into the layer as plain files. The template's SSM
parameters are generated from the same files (`infra/resilience_cli.py ssm-values`).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from textapi_shared.resilience.config_validation import OPERATIONS, preset_errors
from textapi_shared.resilience.strategies import STRATEGIES, Strategy

PRESET_NAMES: tuple[str, ...] = ("simple", "development", "production")
PRESET_DIR = Path(__file__).resolve().parent / "preset_files"
_TEMPLATES_FILE = "templates.json"

# Custom fields that tune the default policy directly (same name on `Strategy` after the arrow).
_CUSTOM_TO_STRATEGY = {
    "retry_attempts": "max_attempts",
    "circuit_breaker_threshold": "failure_threshold",
    "recovery_timeout": "recovery_timeout",
    "max_delay_seconds": "max_delay_seconds",
    "exponential_multiplier": "exponential_multiplier",
    "exponential_min": "exponential_min",
    "exponential_max": "exponential_max",
    "jitter_enabled": "jitter_enabled",
    "jitter_max": "jitter_max",
}


class PresetError(ValueError):
    """A preset definition that cannot be used (bundled file or SSM value)."""


class Preset(NamedTuple):
    name: str
    description: str
    retry_attempts: int
    circuit_breaker_threshold: int
    recovery_timeout: int
    default_strategy: str
    operation_overrides: dict[str, str]
    environment_contexts: tuple[str, ...]

    @classmethod
    def from_dict(cls, name: str, data: Any) -> Preset:
        errors = preset_errors(name, data)
        if errors:
            raise PresetError("; ".join(errors))
        return cls(
            name=name,
            description=data["description"],
            retry_attempts=data["retry_attempts"],
            circuit_breaker_threshold=data["circuit_breaker_threshold"],
            recovery_timeout=data["recovery_timeout"],
            default_strategy=data["default_strategy"],
            operation_overrides=dict(data["operation_overrides"]),
            environment_contexts=tuple(data["environment_contexts"]),
        )


def presets_from_mapping(data: Any) -> dict[str, Preset]:
    """Every preset of `{name: definition}`; all three names are required."""
    if not isinstance(data, dict):
        raise PresetError("preset definitions must be a JSON object keyed by preset name")
    missing = [name for name in PRESET_NAMES if name not in data]
    unknown = [str(name)[:40] for name in data if name not in PRESET_NAMES]
    if missing or unknown:
        raise PresetError(f"preset definitions: missing {missing}, unknown {unknown}")
    return {name: Preset.from_dict(name, data[name]) for name in PRESET_NAMES}


def presets_from_json(text: str) -> dict[str, Preset]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PresetError("preset definitions are not valid JSON") from exc
    return presets_from_mapping(data)


@cache
def bundled_presets() -> dict[str, Preset]:
    """The presets shipped with the layer; a broken file fails loudly (it is a build defect)."""
    data = {name: json.loads((PRESET_DIR / f"{name}.json").read_text("utf-8")) for name in PRESET_NAMES}
    return presets_from_mapping(data)


def presets_document(presets: dict[str, Preset] | None = None) -> str:
    """The compact JSON of every preset: the value of the SSM preset-definitions parameter."""
    presets = presets or bundled_presets()
    return json.dumps({name: p._asdict() for name, p in presets.items()}, separators=(",", ":"))


@cache
def templates() -> dict[str, dict[str, Any]]:
    """Operator templates: `{name: {name, description, configuration}}` (custom configurations)."""
    return json.loads((PRESET_DIR / _TEMPLATES_FILE).read_text("utf-8"))


def resolve_policies(preset: Preset, custom: dict[str, Any] | None = None) -> dict[str, Strategy]:
    """The policy of each operation under `preset` and an (already validated) custom configuration.

    An operation with an override (preset's, then custom's) runs that strategy as defined. Every other
    operation runs the default strategy's backoff with the preset's attempts, breaker threshold and
    recovery timeout, each replaceable by the custom configuration's field of the same meaning.
    """
    custom = custom or {}
    default_name = custom.get("default_strategy", preset.default_strategy)
    tuned = {
        "max_attempts": preset.retry_attempts,
        "failure_threshold": preset.circuit_breaker_threshold,
        "recovery_timeout": preset.recovery_timeout,
    }
    tuned.update({_CUSTOM_TO_STRATEGY[k]: v for k, v in custom.items() if k in _CUSTOM_TO_STRATEGY})
    default_policy: Strategy = replace(STRATEGIES[default_name], **tuned)
    overrides = {**preset.operation_overrides, **custom.get("operation_overrides", {})}
    return {op: STRATEGIES[overrides[op]] if op in overrides else default_policy for op in OPERATIONS}


class PresetRecommendation(NamedTuple):
    environment: str
    preset: str
    confidence: float
    reasoning: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "recommended_preset": self.preset,
            "confidence": self.confidence,
            "reasoning": self.reasoning,
        }


_EXACT = {
    "development": ("development", 0.95, "Development favours fast feedback: few retries, quick recovery."),
    "dev": ("development", 0.95, "Development favours fast feedback: few retries, quick recovery."),
    "local": ("development", 0.9, "Local runs favour fast feedback over reliability."),
    "test": ("development", 0.9, "Tests want failures to surface quickly."),
    "testing": ("development", 0.9, "Tests want failures to surface quickly."),
    "staging": ("production", 0.9, "Staging should behave like production."),
    "stage": ("production", 0.85, "Staging should behave like production."),
    "production": ("production", 0.95, "Production needs patient retries and robust breakers."),
    "prod": ("production", 0.95, "Production needs patient retries and robust breakers."),
}
_PATTERNS = (
    (re.compile(r"prod|live"), "production", 0.75, "The name looks like a production environment."),
    (
        re.compile(r"stag|uat|preprod|perf"),
        "production",
        0.7,
        "The name looks like a pre-production environment.",
    ),
    (
        re.compile(r"dev|test|local|sandbox|ci|qa"),
        "development",
        0.7,
        "The name looks like a development environment.",
    ),
)


def recommend_preset(environment: str) -> PresetRecommendation:
    """The preset for an environment name; an unrecognised name gets `simple` with low confidence."""
    env = environment.strip().lower()[:64]
    if env in _EXACT:
        preset, confidence, reasoning = _EXACT[env]
        return PresetRecommendation(env, preset, confidence, reasoning)
    for pattern, preset, confidence, reasoning in _PATTERNS:
        if pattern.search(env):
            return PresetRecommendation(env, preset, confidence, reasoning)
    return PresetRecommendation(env, "simple", 0.5, "Unrecognised environment: simple is a safe default.")
