"""infra/resilience_cli.py, run as the Makefile runs it (a subprocess with the layer on PYTHONPATH)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fakes.cfn_template import REPO_ROOT
from textapi_shared.resilience.presets import bundled_presets, presets_from_json

pytestmark = pytest.mark.slow  # each case runs the command in a fresh interpreter

CLI = REPO_ROOT / "infra" / "resilience_cli.py"


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO_ROOT / "layers/shared"), **env}
    return subprocess.run(
        [sys.executable, str(CLI), *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


def test_list_shows_every_preset():
    result = cli("list")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert [row.split()[0] for row in rows[1:]] == ["simple", "development", "production"]
    assert "qa=critical" in rows[3]


def test_show_prints_a_preset_with_each_operations_policy():
    result = cli("show", "development")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["retry_attempts"] == 2
    assert shown["operations"]["qa"]["name"] == "balanced"


def test_show_unknown_preset_is_a_usage_error():
    result = cli("show", "turbo")
    assert result.returncode == 2
    assert "available: simple, development, production" in result.stderr


@pytest.mark.parametrize(
    ("env", "code", "fragment"),
    [
        ({}, 0, "RESILIENCE_CUSTOM_CONFIG: not set"),
        (
            {"RESILIENCE_PRESET": "production", "RESILIENCE_CUSTOM_CONFIG": '{"retry_attempts": 4}'},
            0,
            "valid",
        ),
        ({"RESILIENCE_CUSTOM_CONFIG": '{"retry_attempts": 0}'}, 1, "error: retry_attempts"),
        ({"RESILIENCE_CUSTOM_CONFIG": "{oops"}, 1, "error: not valid JSON"),
        (
            {"RESILIENCE_CUSTOM_CONFIG": '{"circuit_breaker_threshold": 1}'},
            0,
            "warning: circuit_breaker_threshold",
        ),
    ],
)
def test_validate_checks_this_environments_settings(env, code, fragment):
    result = cli("validate", **env)
    assert result.returncode == code, result.stdout + result.stderr
    assert fragment in result.stdout


def test_validate_rejects_an_unknown_preset():
    result = cli("validate", RESILIENCE_PRESET="turbo")
    assert result.returncode == 1
    assert "RESILIENCE_PRESET" in result.stderr


def test_recommend():
    result = cli("recommend", "staging")
    assert json.loads(result.stdout)["recommended_preset"] == "production"


@pytest.mark.parametrize(("stage", "preset"), [("dev", "development"), ("prod", "production")])
def test_ssm_values_are_what_the_template_creates(stage, preset):
    named = json.loads(cli("ssm-values", "--stage", stage, "--stack-name", "other").stdout)
    assert set(named) == {
        "/other/resilience/preset",
        "/other/resilience/custom-config",
        "/other/resilience/presets",
    }
    values = json.loads(cli("ssm-values", "--stage", stage).stdout)
    prefix = f"/textapi-{stage}/resilience"
    assert values[f"{prefix}/preset"] == preset
    assert values[f"{prefix}/custom-config"] == "{}"
    assert presets_from_json(values[f"{prefix}/presets"]) == bundled_presets()
