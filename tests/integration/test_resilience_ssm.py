"""The resilience configuration from SSM (moto server) through Powertools Parameters: the preset in force
changes the retries actually made (fake Gemini's request log) and what `/internal/resilience/config`
reports; SSM unreachable → bundled preset; an invalid custom JSON is never applied.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass

import boto3
import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY, assert_error_shape
from fakes.gemini_server import Fail
from fakes.services import free_port
from internal_api.composition import build_services as build_internal_services
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from public_api.composition import build_services as build_public_services
from public_api.config import PublicApiSettings
from public_api.main import create_app as create_public_app
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.resilience.breaker_store import MemoryBreakerStore
from textapi_shared.resilience.factory import build_resilience
from textapi_shared.resilience.presets import presets_document

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
TEXT = "The new library opened downtown with a rooftop garden, a maker space and late opening hours."
_SERIAL = itertools.count()


def unique_text() -> str:
    """A different text per call, so no answer comes from the response cache."""
    return f"{TEXT} Visit {next(_SERIAL)}."


# Fast retries in every test: 0.5 s between attempts, no jitter; thresholds high enough not to open.
FAST = {
    "exponential_min": 0.5,
    "exponential_multiplier": 0.1,
    "jitter_enabled": False,
    "circuit_breaker_threshold": 20,
}


@dataclass(frozen=True)
class Parameters:
    preset: str
    custom: str
    presets: str


@pytest.fixture
def ssm(moto_endpoint):
    return boto3.client("ssm", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def parameters(ssm):
    prefix = f"/textapi/test-{uuid.uuid4().hex[:8]}/resilience"
    names = Parameters(f"{prefix}/preset", f"{prefix}/custom-config", f"{prefix}/presets")
    ssm.put_parameter(Name=names.preset, Value="simple", Type="String")
    ssm.put_parameter(Name=names.custom, Value=json.dumps(FAST), Type="String")
    ssm.put_parameter(Name=names.presets, Value=presets_document(), Type="String")
    return names


@pytest.fixture
def apps(fake_gemini):
    """`apps(endpoint, names, **settings)` → (public client, internal client), wired as the mains will be."""

    def build(endpoint: str, names: Parameters | None, **overrides):
        common = {
            "stage": "dev",
            "api_key": PUBLIC_KEY,
            "internal_api_keys": [ADMIN_KEY],
            "aws_endpoint_url": endpoint,
            "aws_connect_timeout": 0.5,
            "resilience_config_max_age": 2,
            **overrides,
        }
        if names is not None:
            common["resilience_preset_ssm_parameter"] = names.preset
            common["resilience_custom_config_ssm_parameter"] = names.custom
        presets_parameter = names.presets if names is not None else ""
        store = MemoryBreakerStore()
        public_settings = PublicApiSettings(
            **common,
            ai_provider="gemini",
            gemini_api_key=fake_gemini.api_key,
            gemini_base_url=fake_gemini.base_url,
            rate_limit_per_minute=1000,
        )
        public_observability = build_observability(public_settings)
        public_resilience = build_resilience(
            public_settings,
            observability=public_observability,
            presets_ssm_parameter=presets_parameter,
            store=store,
        )
        public = create_public_app(
            public_settings,
            build_public_services(public_settings, public_observability, resilience=public_resilience),
        )

        internal_settings = InternalApiSettings(**common)
        internal_observability = build_observability(internal_settings)
        internal_resilience = build_resilience(
            internal_settings,
            observability=internal_observability,
            presets_ssm_parameter=presets_parameter,
            store=store,
        )
        internal = create_internal_app(
            internal_settings,
            build_internal_services(
                internal_settings, internal_observability, resilience=internal_resilience
            ),
        )
        return LambdaClient(public), LambdaClient(internal)

    return build


def process(public) -> int:
    body = {"text": unique_text(), "operation": "summarize"}
    return public.request(
        "POST", "/v1/text_processing/process", json_body=body, headers={"X-API-Key": PUBLIC_KEY}
    )


def config_of(internal) -> dict:
    response = internal.request("GET", "/internal/resilience/config", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def upstream_calls(fake_gemini, public) -> int:
    before = fake_gemini.request_count
    assert process(public).status_code == 503
    return fake_gemini.request_count - before


def test_a_new_active_preset_in_ssm_applies_after_the_cache_age(
    apps, moto_endpoint, parameters, ssm, fake_gemini
):
    public, internal = apps(moto_endpoint, parameters)
    fake_gemini.default = Fail(503)
    before = config_of(internal)
    assert (before["preset"], before["preset_source"], before["custom_source"]) == ("simple", "ssm", "ssm")
    assert (before["source"], before["definitions_source"]) == ("custom", "ssm")
    assert before["parameters"] == {
        "preset": parameters.preset,
        "custom_config": parameters.custom,
        "presets": parameters.presets,
    }
    assert upstream_calls(fake_gemini, public) == 3  # simple: 3 attempts

    ssm.put_parameter(Name=parameters.preset, Value="development", Type="String", Overwrite=True)
    assert config_of(internal)["preset"] == "simple"  # still within the cache age
    time.sleep(2.05)
    after = config_of(internal)
    assert (after["preset"], after["preset_source"]) == ("development", "ssm")
    assert after["loaded_at"] > before["loaded_at"]
    assert after["operations"]["summarize"]["max_attempts"] == 2
    assert upstream_calls(fake_gemini, public) == 2  # development: summarize runs aggressive, 2 attempts


def test_put_active_validates_writes_ssm_and_applies_at_once(apps, moto_endpoint, parameters, ssm):
    _, internal = apps(moto_endpoint, parameters)
    config_of(internal)
    response = internal.request(
        "PUT",
        "/internal/resilience/config/active",
        json_body={
            "preset": "production",
            "custom_config": {"retry_attempts": 4, "circuit_breaker_threshold": 2},
        },
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["written"] == [parameters.preset, parameters.custom]
    assert body["warnings"] == ["circuit_breaker_threshold below 3 may open the breaker on isolated failures"]
    assert (body["config"]["preset"], body["config"]["source"]) == ("production", "custom")
    assert ssm.get_parameter(Name=parameters.preset)["Parameter"]["Value"] == "production"
    assert json.loads(ssm.get_parameter(Name=parameters.custom)["Parameter"]["Value"]) == {
        "retry_attempts": 4,
        "circuit_breaker_threshold": 2,
    }
    assert config_of(internal)["preset"] == "production"

    cleared = internal.request(
        "PUT", "/internal/resilience/config/active", json_body={"custom_config": None}, headers=ADMIN
    )
    assert cleared.status_code == 200
    assert ssm.get_parameter(Name=parameters.custom)["Parameter"]["Value"] == "{}"
    assert (cleared.json()["config"]["source"], cleared.json()["config"]["custom_config"]) == ("ssm", None)


def test_an_invalid_custom_configuration_is_rejected_with_its_errors_and_not_written(
    apps, moto_endpoint, parameters, ssm
):
    _, internal = apps(moto_endpoint, parameters)
    response = internal.request(
        "PUT",
        "/internal/resilience/config/active",
        json_body={
            "preset": "production",
            "custom_config": {"retry_attempts": 0, "exponential_min": 9, "exponential_max": 6, "turbo": True},
        },
        headers=ADMIN,
    )
    assert response.status_code == 422
    assert_error_shape(response.json(), "VALIDATION_ERROR")
    messages = [e["message"] for e in response.json()["details"]["errors"]]
    assert "unknown field 'turbo'" in messages
    assert "retry_attempts: must be an integer between 1 and 10" in messages
    assert "exponential_min must be less than exponential_max" in messages
    assert ssm.get_parameter(Name=parameters.preset)["Parameter"]["Value"] == "simple"  # nothing written
    assert json.loads(ssm.get_parameter(Name=parameters.custom)["Parameter"]["Value"]) == FAST


def test_an_invalid_custom_configuration_in_ssm_is_never_applied(
    apps, moto_endpoint, parameters, ssm, fake_gemini, capsys
):
    ssm.put_parameter(Name=parameters.preset, Value="development", Type="String", Overwrite=True)
    bad = {**FAST, "retry_attempts": 50}
    ssm.put_parameter(Name=parameters.custom, Value=json.dumps(bad), Type="String", Overwrite=True)
    public, internal = apps(moto_endpoint, parameters)
    config = config_of(internal)
    assert (config["preset"], config["source"], config["custom_config"]) == ("development", "ssm", None)
    assert any("retry_attempts: must be an integer between 1 and 10" in p for p in config["problems"])
    fake_gemini.default = Fail(503)
    assert upstream_calls(fake_gemini, public) == 2  # the preset's 2 attempts, not 50
    assert '"ResilienceConfigInvalid"' in capsys.readouterr().out


def test_with_ssm_unreachable_the_bundled_preset_applies(apps, fake_gemini, capsys, caplog):
    dead_endpoint = f"http://127.0.0.1:{free_port()}"
    names = Parameters("/textapi/x/resilience/preset", "/textapi/x/resilience/custom-config", "")
    public, internal = apps(
        dead_endpoint, names, resilience_preset="development", resilience_custom_config=json.dumps(FAST)
    )
    config = config_of(internal)
    assert (config["preset"], config["source"], config["fallback"]) == ("development", "custom", True)
    assert config["fallback_reason"].startswith("SSM unavailable")
    assert config["definitions_source"] == "bundled"
    health = internal.request("GET", "/internal/resilience/health", headers=ADMIN).json()
    assert health["status"] == "degraded"
    assert "bundled preset applies" in health["detail"]
    fake_gemini.default = Fail(503)
    assert upstream_calls(fake_gemini, public) == 2
    assert '"ResilienceConfigFallback"' in capsys.readouterr().out
    assert "resilience configuration from SSM unavailable" in caplog.text


def test_a_missing_preset_parameter_falls_back_to_the_bundled_preset(apps, moto_endpoint, ssm):
    names = Parameters(f"/textapi/missing-{uuid.uuid4().hex[:8]}/preset", "", "")
    _, internal = apps(moto_endpoint, names)
    config = config_of(internal)
    assert (config["preset"], config["source"], config["fallback"]) == ("simple", "bundled", True)
    assert config["fallback_reason"] == "the active preset parameter was not found"


def test_broken_preset_definitions_in_ssm_are_ignored(apps, moto_endpoint, parameters, ssm):
    ssm.put_parameter(Name=parameters.presets, Value='{"simple": {}}', Type="String", Overwrite=True)
    _, internal = apps(moto_endpoint, parameters)
    config = config_of(internal)
    assert (config["preset"], config["definitions_source"], config["fallback"]) == (
        "simple",
        "bundled",
        False,
    )
    assert any("preset definitions from SSM ignored" in p for p in config["problems"])
