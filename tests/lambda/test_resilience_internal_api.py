"""`/internal/resilience/*` through the internal function's real lambda_handler (no SSM: environment
and bundled presets; breakers on an in-memory store shared with a public-side registry).

`internal_client` builds the app as `internal_api.main` does, with the breaker store handed in through
the composition root.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY, assert_error_shape
from internal_api.composition import build_services
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from textapi_shared.errors import AIUnavailableError
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.resilience.breaker_store import MemoryBreakerStore
from textapi_shared.resilience.factory import build_resilience

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
OPERATIONS = ["summarize", "sentiment", "key_points", "questions", "qa"]


@pytest.fixture
def store():
    return MemoryBreakerStore()


@pytest.fixture
def internal_client(store):
    def build(**overrides):
        values = {"stage": "dev", "api_key": PUBLIC_KEY, "internal_api_keys": [ADMIN_KEY], **overrides}
        settings = InternalApiSettings(**values)
        observability = build_observability(settings)
        resilience = build_resilience(settings, observability=observability, store=store)
        return LambdaClient(
            create_internal_app(settings, build_services(settings, observability, resilience=resilience))
        )

    return build


def get(client, path, **kwargs):
    return client.request("GET", f"/internal/resilience{path}", headers=ADMIN, **kwargs)


def open_breaker(store, operation="qa", failures=5):
    """Fail `failures` calls through a public-side registry on the same store."""
    public = build_resilience(InternalApiSettings(), store=store)
    breaker = public.breakers.get(operation)

    async def fail():
        raise AIUnavailableError(retry_after=5)

    async def scenario():
        policy = (await public.config.get()).policy_for(operation)
        for _ in range(failures):
            with contextlib.suppress(AIUnavailableError):
                await breaker.call(fail, policy)
        await public.breakers.sync_all()  # what its next periodic sync does: push the statistics

    # A loop of its own: asyncio.run would unset the loop Mangum runs every invocation on.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", "/config"),
        ("GET", "/config/presets"),
        ("GET", "/config/presets/simple"),
        ("GET", "/config/templates"),
        ("GET", "/config/templates/low_latency"),
        ("GET", "/config/recommend-preset/staging"),
        ("POST", "/config/validate"),
        ("PUT", "/config/active"),
        ("GET", "/circuit-breakers"),
        ("GET", "/circuit-breakers/qa"),
        ("POST", "/circuit-breakers/qa/reset"),
        ("GET", "/metrics"),
        ("GET", "/metrics/qa"),
        ("POST", "/metrics/reset"),
    ],
)
def test_every_route_needs_an_admin_key(internal_client, method, path):
    client = internal_client()
    anonymous = client.request(method, f"/internal/resilience{path}", json_body={})
    assert anonymous.status_code == 401
    assert_error_shape(anonymous.json(), "AUTHENTICATION_ERROR")
    public = client.request(
        method, f"/internal/resilience{path}", json_body={}, headers={"X-API-Key": PUBLIC_KEY}
    )
    assert public.status_code == 403


def test_routes_are_listed_in_the_internal_index(internal_client):
    paths = {e["path"] for e in internal_client().request("GET", "/internal").json()["endpoints"]}
    assert "/internal/resilience/circuit-breakers/{name}/reset" in paths
    assert "/internal/resilience/config/recommend-preset/{environment}" in paths


def test_config_in_force_from_the_environment(internal_client):
    body = get(internal_client(resilience_preset="production"), "/config").json()
    assert (body["preset"], body["source"], body["preset_source"], body["fallback"]) == (
        "production",
        "env",
        "env",
        False,
    )
    assert body["operations"]["qa"]["name"] == "critical"
    assert body["operations"]["qa"]["max_attempts"] == 7
    assert body["parameters"] == {}
    assert body["loaded_at"].endswith("Z")


def test_presets_and_templates(internal_client):
    client = internal_client()
    presets = get(client, "/config/presets").json()
    assert presets["active"] == "simple"
    assert [p["name"] for p in presets["presets"]] == ["simple", "development", "production"]
    production = get(client, "/config/presets/production").json()
    assert production["circuit_breaker_threshold"] == 10
    assert production["operations"]["sentiment"]["name"] == "aggressive"
    templates = get(client, "/config/templates").json()["templates"]
    assert [t["id"] for t in templates] == [
        "fast_development",
        "robust_production",
        "low_latency",
        "high_throughput",
        "maximum_reliability",
    ]
    assert get(client, "/config/templates/robust_production").json()["configuration"]["retry_attempts"] == 6


@pytest.mark.parametrize(
    "path", ["/config/presets/turbo", "/config/templates/turbo", "/circuit-breakers/turbo", "/metrics/turbo"]
)
def test_unknown_names_are_404_in_the_error_shape(internal_client, path):
    response = get(internal_client(), path)
    assert response.status_code == 404
    assert_error_shape(response.json(), "NOT_FOUND", response.headers["x-request-id"])
    assert response.json()["details"]["available"]


def test_unknown_breaker_reset_is_404(internal_client):
    response = internal_client().request(
        "POST", "/internal/resilience/circuit-breakers/turbo/reset", headers=ADMIN
    )
    assert response.status_code == 404


def test_recommend_preset(internal_client):
    body = get(internal_client(), "/config/recommend-preset/production").json()
    assert body["recommended_preset"] == "production"
    assert body["available_presets"] == ["simple", "development", "production"]


@pytest.mark.parametrize(
    ("configuration", "valid", "fragment"),
    [
        ({"retry_attempts": 3}, True, None),
        ('{"retry_attempts": 3}', True, None),
        ({"retry_attempts": 3, "turbo": True}, False, "unknown field 'turbo'"),
        ({"exponential_min": 9, "exponential_max": 6}, False, "exponential_min must be less than"),
        ("{not json", False, "not valid JSON"),
        ({}, False, "at least one"),
    ],
)
def test_validate(internal_client, configuration, valid, fragment):
    response = internal_client().request(
        "POST",
        "/internal/resilience/config/validate",
        json_body={"configuration": configuration},
        headers=ADMIN,
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"is_valid", "errors", "warnings", "suggestions"}
    assert body["is_valid"] is valid
    if fragment:
        assert any(fragment in e for e in body["errors"])


def test_validate_reports_warnings_for_a_valid_configuration(internal_client):
    body = (
        internal_client()
        .request(
            "POST",
            "/internal/resilience/config/validate",
            json_body={"configuration": {"retry_attempts": 8, "circuit_breaker_threshold": 2}},
            headers=ADMIN,
        )
        .json()
    )
    assert body["is_valid"] is True
    assert len(body["warnings"]) == 2


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({"preset": "production"}, "RESILIENCE_PRESET_SSM_PARAMETER"),
        ({"custom_config": {"retry_attempts": 3}}, "RESILIENCE_CUSTOM_CONFIG_SSM_PARAMETER"),
        ({"custom_config": None}, "RESILIENCE_CUSTOM_CONFIG_SSM_PARAMETER"),
    ],
)
def test_activating_without_ssm_parameters_is_409_not_configured(internal_client, body, missing):
    """Found by schemathesis as a 500 CONFIGURATION_ERROR."""
    response = internal_client().request(
        "PUT", "/internal/resilience/config/active", json_body=body, headers=ADMIN
    )
    assert response.status_code == 409
    assert_error_shape(response.json(), "NOT_CONFIGURED")
    assert response.json()["details"] == {"missing": missing}


@pytest.mark.parametrize(
    "body", [{}, {"preset": "turbo"}, {"custom_config": {"retry_attempts": 0}}, {"preset": "simple", "x": 1}]
)
def test_activating_an_invalid_configuration_is_422(internal_client, body):
    response = internal_client().request(
        "PUT", "/internal/resilience/config/active", json_body=body, headers=ADMIN
    )
    assert response.status_code == 422
    assert_error_shape(response.json(), "VALIDATION_ERROR")
    assert response.json()["details"]["errors"]


def test_breakers_health_and_reset_show_the_fleet_state(internal_client, store):
    client = internal_client()
    assert get(client, "/health").json()["status"] == "healthy"
    open_breaker(store, "qa")
    health = get(client, "/health").json()
    assert (health["status"], health["healthy"]) == ("degraded", False)
    assert health["breakers"]["open"] == ["qa"]
    assert sorted(health["breakers"]["closed"]) == sorted(set(OPERATIONS) - {"qa"})
    breakers = get(client, "/circuit-breakers").json()["breakers"]
    assert list(breakers) == OPERATIONS
    qa = breakers["qa"]
    assert (qa["state"], qa["failure_threshold"], qa["recovery_timeout"]) == ("open", 5, 60)
    assert qa["opened_at"].endswith("Z")
    assert 0 < qa["seconds_until_half_open"] <= 60
    assert get(client, "/circuit-breakers/summarize").json()["state"] == "closed"
    reset = client.request("POST", "/internal/resilience/circuit-breakers/qa/reset", headers=ADMIN).json()
    assert reset["reset"] is True
    assert reset["breaker"]["state"] == "closed"
    assert get(internal_client(), "/circuit-breakers/qa").json()["state"] == "closed"  # gone from the store


def test_metrics_per_operation_and_reset(internal_client, store):
    client = internal_client()
    open_breaker(store, "qa", failures=7)
    metrics = get(client, "/metrics").json()
    assert metrics["scope"] == "instance"  # the memory store: one execution environment
    qa = metrics["operations"]["qa"]
    assert (qa["calls"], qa["failures"], qa["rejections"], qa["opens"], qa["success_rate"]) == (
        5,
        5,
        2,
        1,
        0.0,
    )
    assert metrics["totals"]["calls"] == 5
    assert get(client, "/metrics/qa").json()["rejections"] == 2
    assert client.request("POST", "/internal/resilience/metrics/reset", headers=ADMIN).json()["reset"] is True
    assert get(client, "/metrics/qa").json()["calls"] == 0


# -- wrong JSON types are answers, never 500s -----------------------------------

WRONG_TYPES = [
    {"default_strategy": []},
    {"default_strategy": {}},
    {"operation_overrides": {"qa": []}},
    {"operation_overrides": {"qa": {"x": 1}}},
    {"operation_overrides": []},
    {"retry_attempts": [3]},
    {"retry_attempts": "3"},
    {"jitter_enabled": "yes"},
    {"exponential_min": None, "exponential_max": []},
]


@pytest.mark.parametrize("configuration", WRONG_TYPES)
def test_validate_with_wrong_types_is_invalid_not_500(internal_client, configuration):
    response = internal_client().request(
        "POST",
        "/internal/resilience/config/validate",
        json_body={"configuration": configuration},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_valid"] is False
    assert response.json()["errors"]


@pytest.mark.parametrize("body", [{}, {"configuration": []}, {"configuration": None}, {"configuration": 3}])
def test_validate_without_a_configuration_object_is_422(internal_client, body):
    response = internal_client().request(
        "POST", "/internal/resilience/config/validate", json_body=body, headers=ADMIN
    )
    assert response.status_code == 422
    assert_error_shape(response.json(), "VALIDATION_ERROR")


def test_validate_json_text_nested_too_deep_is_invalid_not_500(internal_client):
    body = {"configuration": "[" * 3000}
    response = internal_client().request(
        "POST", "/internal/resilience/config/validate", json_body=body, headers=ADMIN
    )
    assert response.status_code == 200
    assert response.json()["is_valid"] is False


@pytest.mark.parametrize("configuration", WRONG_TYPES)
def test_activating_wrong_types_is_422_not_500(internal_client, configuration):
    response = internal_client().request(
        "PUT", "/internal/resilience/config/active", json_body={"custom_config": configuration}, headers=ADMIN
    )
    assert response.status_code == 422, response.text
    assert_error_shape(response.json(), "VALIDATION_ERROR")


def test_activating_a_null_preset_says_what_is_missing(internal_client):
    response = internal_client().request(
        "PUT", "/internal/resilience/config/active", json_body={"preset": None}, headers=ADMIN
    )
    assert response.status_code == 422
    data = response.json()
    assert_error_shape(data, "VALIDATION_ERROR")
    assert [e["field"] for e in data["details"]["errors"]] == ["preset"]
    assert "'simple', 'development' or 'production'" in data["error"]
