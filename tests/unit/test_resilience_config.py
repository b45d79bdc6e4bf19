"""Strategies, presets, templates, custom-configuration checks and the configuration in force
without SSM: pure logic, no sockets."""

from __future__ import annotations

import json
import os

import pytest

from fakes.cfn_template import REPO_ROOT
from textapi_shared.config import SharedSettings
from textapi_shared.resilience.config_source import ResilienceConfigSource
from textapi_shared.resilience.config_validation import (
    OPERATIONS,
    parse_custom_config,
    validate_custom_config,
    validate_custom_json,
)
from textapi_shared.resilience.presets import (
    PRESET_DIR,
    PresetError,
    bundled_presets,
    presets_document,
    presets_from_json,
    recommend_preset,
    resolve_policies,
    templates,
)
from textapi_shared.resilience.strategies import STRATEGIES

# The table: attempts / stop after / multiplier, min, max / jitter max / threshold / recovery.
STRATEGY_TABLE = {
    "aggressive": (2, 10, 0.5, 1, 5, 2, 3, 30),
    "balanced": (3, 30, 1, 2, 10, 2, 5, 60),
    "conservative": (5, 120, 2, 4, 30, 2, 8, 120),
    "critical": (7, 300, 1.5, 3, 60, 5, 10, 300),
}
PRESET_TABLE = {
    "simple": (3, 5, 60, "balanced", {}),
    "development": (2, 3, 30, "aggressive", {"sentiment": "aggressive", "qa": "balanced"}),
    "production": (
        5,
        10,
        120,
        "conservative",
        {
            "qa": "critical",
            "sentiment": "aggressive",
            "summarize": "conservative",
            "key_points": "balanced",
            "questions": "balanced",
        },
    ),
}


@pytest.mark.parametrize("name", STRATEGY_TABLE)
def test_strategies_keep_the_original_values(name):
    s = STRATEGIES[name]
    values = (
        s.max_attempts,
        s.max_delay_seconds,
        s.exponential_multiplier,
        s.exponential_min,
        s.exponential_max,
        s.jitter_max,
        s.failure_threshold,
        s.recovery_timeout,
    )
    assert values == STRATEGY_TABLE[name]
    assert s.jitter_enabled


@pytest.mark.parametrize("name", PRESET_TABLE)
def test_bundled_presets_keep_the_original_values(name):
    p = bundled_presets()[name]
    values = (
        p.retry_attempts,
        p.circuit_breaker_threshold,
        p.recovery_timeout,
        p.default_strategy,
        p.operation_overrides,
    )
    assert values == PRESET_TABLE[name]


def test_preset_files_are_the_infra_folder_through_a_relative_symlink():
    assert PRESET_DIR.is_symlink()
    assert not os.path.isabs(os.readlink(PRESET_DIR))
    assert PRESET_DIR.resolve() == REPO_ROOT / "infra" / "presets"
    assert sorted(p.name for p in PRESET_DIR.glob("*.json")) == [
        "development.json",
        "production.json",
        "simple.json",
        "templates.json",
    ]


def test_presets_document_round_trips_and_fits_a_standard_ssm_parameter():
    document = presets_document()
    assert len(document.encode()) < 4096
    assert presets_from_json(document) == bundled_presets()


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps({"simple": {}}),
        json.dumps({**json.loads(presets_document()), "extra": {}}),
        presets_document().replace('"retry_attempts":3', '"retry_attempts":30'),
    ],
    ids=["not-json", "missing-presets", "unknown-preset", "out-of-range"],
)
def test_broken_preset_documents_are_rejected(document):
    with pytest.raises(PresetError):
        presets_from_json(document)


def test_an_operation_without_override_gets_the_presets_numbers_and_default_backoff():
    policies = resolve_policies(bundled_presets()["production"])
    assert policies["qa"] == STRATEGIES["critical"]
    assert policies["sentiment"] == STRATEGIES["aggressive"]
    development = resolve_policies(bundled_presets()["development"])
    summarize = development["summarize"]
    assert (summarize.name, summarize.max_attempts, summarize.failure_threshold) == ("aggressive", 2, 3)
    assert development["qa"] == STRATEGIES["balanced"]


def test_custom_fields_tune_the_default_policy_and_overrides_add_up():
    custom = {
        "retry_attempts": 4,
        "circuit_breaker_threshold": 7,
        "exponential_min": 0.5,
        "jitter_enabled": False,
        "default_strategy": "critical",
        "operation_overrides": {"summarize": "aggressive"},
    }
    policies = resolve_policies(bundled_presets()["development"], custom)
    assert policies["summarize"] == STRATEGIES["aggressive"]
    assert policies["qa"] == STRATEGIES["balanced"]  # the preset's override stays
    default = policies["key_points"]
    assert default.name == "critical"
    assert (default.max_attempts, default.failure_threshold, default.exponential_min) == (4, 7, 0.5)
    assert (default.exponential_max, default.jitter_enabled, default.recovery_timeout) == (60, False, 30)


@pytest.mark.parametrize(
    "name", ["fast_development", "robust_production", "low_latency", "high_throughput", "maximum_reliability"]
)
def test_templates_are_valid_custom_configurations(name):
    template = templates()[name]
    assert template["name"]
    assert template["description"]
    assert validate_custom_config(template["configuration"]).is_valid


def test_a_valid_configuration_has_no_errors_or_warnings():
    result = validate_custom_config(
        {"retry_attempts": 3, "circuit_breaker_threshold": 5, "recovery_timeout": 60}
    )
    assert result.as_dict() == {"is_valid": True, "errors": [], "warnings": [], "suggestions": []}


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({}, "at least one"),
        ([], "JSON object"),
        ({"retry_attempts": 0}, "retry_attempts: must be an integer between 1 and 10"),
        ({"retry_attempts": 11}, "between 1 and 10"),
        ({"retry_attempts": True}, "retry_attempts"),
        ({"retry_attempts": 2.5}, "retry_attempts"),
        ({"circuit_breaker_threshold": 21}, "between 1 and 20"),
        ({"recovery_timeout": 5}, "between 10 and 300"),
        ({"exponential_multiplier": 6}, "between 0.1 and 5"),
        ({"exponential_min": 0.1}, "between 0.5 and 10"),
        ({"exponential_max": 200}, "between 5 and 120"),
        ({"jitter_max": 20}, "between 0.1 and 10"),
        ({"max_delay_seconds": 1000}, "between 5 and 600"),
        ({"jitter_enabled": "yes"}, "true or false"),
        ({"default_strategy": "reckless"}, "default_strategy"),
        ({"exponential_min": 8, "exponential_max": 6}, "exponential_min must be less than exponential_max"),
        ({"operation_overrides": {"translate": "balanced"}}, "unknown operation 'translate'"),
        ({"operation_overrides": {"qa": "reckless"}}, "operation_overrides.qa"),
        ({"operation_overrides": ["qa"]}, "operation_overrides: must be an object"),
        ({"retry_attempts": 3, "retries": 3}, "unknown field 'retries'"),
    ],
)
def test_invalid_configurations_name_the_problem(config, fragment):
    result = validate_custom_config(config)
    assert not result.is_valid
    assert any(fragment in error for error in result.errors), result.errors


def test_unknown_names_get_a_did_you_mean():
    result = validate_custom_config({"retry_atempts": 3, "operation_overrides": {"summarise": "balanced"}})
    assert "Did you mean 'retry_attempts'?" in result.suggestions
    assert any("Did you mean 'summarize'?" in s for s in result.suggestions)


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"retry_attempts": 5, "max_delay_seconds": 8}, "max_delay_seconds is less than 2 × retry_attempts"),
        ({"circuit_breaker_threshold": 2}, "threshold below 3"),
        ({"retry_attempts": 8}, "more than 7 retry attempts"),
    ],
)
def test_risky_values_are_warnings_not_errors(config, fragment):
    result = validate_custom_config(config)
    assert result.is_valid
    assert any(fragment in warning for warning in result.warnings), result.warnings
    assert result.suggestions


@pytest.mark.parametrize("text", ["", "  ", "{}", "null", "None"])
def test_empty_custom_texts_mean_no_custom_configuration(text):
    assert parse_custom_config(text) == (None, parse_custom_config(None)[1])
    assert parse_custom_config(text)[1].is_valid


def test_custom_json_errors_say_where_and_never_apply():
    config, result = parse_custom_config('{"retry_attempts": 3,,}')
    assert config is None
    assert not result.is_valid
    assert "not valid JSON (line 1" in result.errors[0]
    assert validate_custom_json("x" * 5000)[1].errors == ["the configuration exceeds 4096 characters"]


@pytest.mark.parametrize(
    ("environment", "preset"),
    [
        ("development", "development"),
        ("dev", "development"),
        ("testing", "development"),
        ("staging", "production"),
        ("production", "production"),
        ("PROD", "production"),
        ("prod-eu-west-1", "production"),
        ("feature-dev-42", "development"),
        ("zebra", "simple"),
    ],
)
def test_recommendations(environment, preset):
    recommendation = recommend_preset(environment)
    assert recommendation.preset == preset
    assert 0 < recommendation.confidence <= 1
    assert recommendation.reasoning


def _config(**settings):
    return ResilienceConfigSource(SharedSettings(**settings)).load()


def test_without_ssm_the_bundled_default_preset_applies():
    config = _config()
    assert (config.preset, config.source, config.preset_source, config.fallback) == (
        "simple",
        "bundled",
        "default",
        False,
    )
    assert set(config.policies) == set(OPERATIONS)
    assert config.loaded_at.endswith("Z")


def test_resilience_preset_from_the_environment_is_applied():
    config = _config(resilience_preset="production")
    assert (config.preset, config.source) == ("production", "env")
    assert config.policy_for("qa") == STRATEGIES["critical"]


def test_custom_configuration_from_the_environment_is_applied():
    config = _config(resilience_custom_config='{"retry_attempts": 6}')
    assert (config.source, config.custom_source, config.custom_config) == (
        "custom",
        "env",
        {"retry_attempts": 6},
    )
    assert config.policy_for("summarize").max_attempts == 6


def test_an_invalid_custom_configuration_is_never_applied():
    config = _config(resilience_preset="development", resilience_custom_config='{"retry_attempts": 99}')
    assert config.custom_config is None
    assert config.source == "env"
    assert config.policy_for("summarize").max_attempts == 2
    assert any("retry_attempts" in problem for problem in config.problems)


def test_an_unchanged_configuration_keeps_its_object_and_load_time():
    source = ResilienceConfigSource(SharedSettings())
    assert source.load() is source.load(force=True)


# Every JSON type in every field is an answer (is_valid false with errors), never a raise.
_JSON_VALUES = [
    None,
    True,
    0,
    -1,
    2.5,
    "",
    "balanced",
    "x" * 50,
    [],
    ["balanced"],
    {},
    {"qa": "balanced"},
    {"qa": []},
]


@pytest.mark.parametrize("value", _JSON_VALUES, ids=repr)
def test_custom_config_fields_of_any_json_type_never_raise(value):
    from textapi_shared.resilience.config_validation import (
        CUSTOM_FIELDS,
        preset_errors,
        validate_custom_config,
    )

    for name in CUSTOM_FIELDS:
        result = validate_custom_config({name: value})
        assert isinstance(result.is_valid, bool)
    assert isinstance(
        preset_errors("simple", {"environment_contexts": value, "default_strategy": value}), list
    )
    assert validate_custom_config(value).is_valid is False or isinstance(value, dict)


def test_many_unknown_fields_make_one_error():
    from textapi_shared.resilience.config_validation import validate_custom_config

    result = validate_custom_config({f"field_{i}": 1 for i in range(10_000)})
    assert result.is_valid is False
    assert len(result.errors) == 1
