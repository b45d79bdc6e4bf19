"""Checks of the custom resilience configuration (`RESILIENCE_CUSTOM_CONFIG`) and of preset files.

A custom configuration is a JSON object with at least one of the fields below and no other field.
Errors make it invalid (it is then never applied); warnings flag legal but risky values; suggestions
say how to fix or improve it. Messages name the field and the accepted range, never echo long input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from textapi_shared.ai.provider import Operation
from textapi_shared.resilience.strategies import STRATEGIES

OPERATIONS: tuple[str, ...] = tuple(str(op) for op in Operation)
ENVIRONMENT_CONTEXTS = ("development", "testing", "staging", "production")
MAX_CUSTOM_CONFIG_CHARS = 4096
# Values that mean "no custom configuration" (an SSM parameter cannot be empty, so it holds `{}`).
EMPTY_VALUES = frozenset({"", "{}", "null", "none"})

_INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "retry_attempts": (1, 10),
    "circuit_breaker_threshold": (1, 20),
    "recovery_timeout": (10, 300),
    "max_delay_seconds": (5, 600),
}
_NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "exponential_multiplier": (0.1, 5.0),
    "exponential_min": (0.5, 10.0),
    "exponential_max": (5.0, 120.0),
    "jitter_max": (0.1, 10.0),
}
CUSTOM_FIELDS: tuple[str, ...] = (
    "retry_attempts",
    "circuit_breaker_threshold",
    "recovery_timeout",
    "default_strategy",
    "operation_overrides",
    "exponential_multiplier",
    "exponential_min",
    "exponential_max",
    "jitter_enabled",
    "jitter_max",
    "max_delay_seconds",
)
_PRESET_FIELDS = (
    "name",
    "description",
    "retry_attempts",
    "circuit_breaker_threshold",
    "recovery_timeout",
    "default_strategy",
    "operation_overrides",
    "environment_contexts",
)


@dataclass(frozen=True)
class ValidationResult:
    is_valid: bool
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "is_valid": self.is_valid,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "suggestions": list(self.suggestions),
        }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_strategy(value: object) -> bool:
    # Membership is asked only of strings: `[] in STRATEGIES` would raise (a list is unhashable).
    return isinstance(value, str) and value in STRATEGIES


def _closest(name: str, candidates: tuple[str, ...]) -> str | None:
    import difflib  # only for a misspelt name

    matches = difflib.get_close_matches(name, candidates, n=1)
    return matches[0] if matches else None


def _field_errors(name: str, value: object, suggestions: list[str]) -> list[str]:
    """Errors of one known field; appends a hint per error to `suggestions`."""
    strategies = ", ".join(STRATEGIES)
    if name in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[name]
        if not _is_int(value) or not low <= value <= high:  # type: ignore[operator]
            suggestions.append(f"Set {name} to a whole number from {low} to {high}.")
            return [f"{name}: must be an integer between {low} and {high}"]
    elif name in _NUMBER_RANGES:
        low_f, high_f = _NUMBER_RANGES[name]
        if not _is_number(value) or not low_f <= value <= high_f:  # type: ignore[operator]
            suggestions.append(f"Set {name} to a number from {low_f:g} to {high_f:g}.")
            return [f"{name}: must be a number between {low_f:g} and {high_f:g}"]
    elif name == "jitter_enabled":
        if not isinstance(value, bool):
            return ["jitter_enabled: must be true or false"]
    elif name == "default_strategy":
        if not _is_strategy(value):
            suggestions.append(f"Use one of the strategies: {strategies}.")
            return [f"default_strategy: must be one of {strategies}"]
    elif name == "operation_overrides":
        return _override_errors(value, suggestions)
    return []


def _override_errors(value: object, suggestions: list[str]) -> list[str]:
    if not isinstance(value, dict):
        return ["operation_overrides: must be an object mapping an operation to a strategy"]
    errors = []
    for operation, strategy in value.items():
        if operation not in OPERATIONS:
            errors.append(f"operation_overrides: unknown operation {str(operation)[:40]!r}")
            close = _closest(str(operation), OPERATIONS)
            hint = f" Did you mean {close!r}?" if close else ""
            suggestions.append(f"Operations are {', '.join(OPERATIONS)}.{hint}")
        elif not _is_strategy(strategy):
            errors.append(f"operation_overrides.{operation}: must be one of {', '.join(STRATEGIES)}")
    return errors


def validate_custom_config(data: object) -> ValidationResult:
    """Errors, warnings and suggestions for a custom configuration given as a parsed JSON value."""
    errors: list[str] = []
    warnings: list[str] = []
    suggestions: list[str] = []
    if not isinstance(data, dict):
        return ValidationResult(False, ["the configuration must be a JSON object"], [], [])
    if len(data) > 2 * len(CUSTOM_FIELDS):  # one error, not one (and a spelling hint) per stray name
        message = f"the configuration has {len(data)} fields; it takes at most {len(CUSTOM_FIELDS)}"
        return ValidationResult(False, [message], [], [f"Use only: {', '.join(CUSTOM_FIELDS)}."])
    if not any(name in data for name in CUSTOM_FIELDS):
        errors.append(f"at least one of these fields is required: {', '.join(CUSTOM_FIELDS)}")
    for name in data:
        if name not in CUSTOM_FIELDS:
            errors.append(f"unknown field {str(name)[:40]!r}")
            close = _closest(str(name), CUSTOM_FIELDS)
            if close:
                suggestions.append(f"Did you mean {close!r}?")
    for name in CUSTOM_FIELDS:
        if name in data:
            errors.extend(_field_errors(name, data[name], suggestions))
    low, high = data.get("exponential_min"), data.get("exponential_max")
    if _is_number(low) and _is_number(high) and low >= high:
        errors.append("exponential_min must be less than exponential_max")
        suggestions.append("Keep exponential_min below exponential_max, e.g. 1 and 10.")
    attempts = data.get("retry_attempts")
    threshold = data.get("circuit_breaker_threshold")
    max_delay = data.get("max_delay_seconds")
    if _is_int(attempts) and _is_int(max_delay) and max_delay < 2 * attempts:
        warnings.append("max_delay_seconds is less than 2 × retry_attempts: later attempts may never run")
        suggestions.append(f"Raise max_delay_seconds to at least {2 * attempts}, or lower retry_attempts.")
    if _is_int(threshold) and threshold < 3:
        warnings.append("circuit_breaker_threshold below 3 may open the breaker on isolated failures")
        suggestions.append("A threshold of 3 to 5 tolerates occasional errors.")
    if _is_int(attempts) and attempts > 7:
        warnings.append("more than 7 retry attempts add latency and load on a struggling AI service")
        suggestions.append(
            "Use 3 to 5 attempts, or the 'critical' strategy only for the operations that need it."
        )
    if errors:
        suggestions.append("Start from a template: GET /internal/resilience/config/templates.")
    return ValidationResult(not errors, errors, warnings, list(dict.fromkeys(suggestions)))


def validate_custom_json(text: str) -> tuple[Any, ValidationResult]:
    """(parsed value, result) for the JSON text of a custom configuration."""
    if len(text) > MAX_CUSTOM_CONFIG_CHARS:
        message = f"the configuration exceeds {MAX_CUSTOM_CONFIG_CHARS} characters"
        return None, ValidationResult(False, [message])
    try:
        data = json.loads(text)
    except RecursionError:
        return None, ValidationResult(False, ["not valid JSON here: nested too deeply"])
    except ValueError as exc:
        message = f"not valid JSON (line {getattr(exc, 'lineno', '?')}, column {getattr(exc, 'colno', '?')})"
        return None, ValidationResult(False, [message])
    return data, validate_custom_config(data)


def parse_custom_config(text: str | None) -> tuple[dict[str, Any] | None, ValidationResult]:
    """(configuration, result) for a JSON text; `(None, valid)` when the text means "none"."""
    if text is None or text.strip().lower() in EMPTY_VALUES:
        return None, ValidationResult(True)
    data, result = validate_custom_json(text)
    return (data if result.is_valid else None), result


def preset_errors(name: str, data: object) -> list[str]:
    """Errors of one preset definition (a bundled file or an entry of the SSM preset parameter)."""
    if not isinstance(data, dict):
        return [f"preset {name}: must be a JSON object"]
    errors = [f"preset {name}: missing field {f!r}" for f in _PRESET_FIELDS if f not in data]
    errors += [f"preset {name}: unknown field {str(f)[:40]!r}" for f in data if f not in _PRESET_FIELDS]
    if data.get("name", name) != name:
        errors.append(f"preset {name}: its name field says {str(data.get('name'))[:40]!r}")
    if not isinstance(data.get("description", ""), str):
        errors.append(f"preset {name}: description must be a string")
    contexts = data.get("environment_contexts", [])
    if not isinstance(contexts, list) or not all(
        isinstance(context, str) and context in ENVIRONMENT_CONTEXTS for context in contexts
    ):
        errors.append(
            f"preset {name}: environment_contexts must list some of {', '.join(ENVIRONMENT_CONTEXTS)}"
        )
    for key in ("retry_attempts", "circuit_breaker_threshold", "recovery_timeout", "default_strategy"):
        if key in data:
            errors += [f"preset {name}: {e}" for e in _field_errors(key, data[key], [])]
    if "operation_overrides" in data:
        errors += [f"preset {name}: {e}" for e in _override_errors(data["operation_overrides"], [])]
    return errors
