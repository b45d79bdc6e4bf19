"""The public function's real lambda_handler, fed API Gateway HTTP API v2 events."""

from __future__ import annotations

import base64
import re
import time
from unittest.mock import ANY

import pytest

from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY, SECOND_PUBLIC_KEY, assert_error_shape
from fakes.apigw_events import load_event, response_json, response_text

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


def test_health_returns_200_with_status_timestamp_and_version_only(
    public_handler, http_event, lambda_context
):
    event = http_event("GET", "/v1/health", request_id="req-health-1")
    response = public_handler()(event, lambda_context)
    assert response["statusCode"] == 200
    body = response_json(response)
    assert set(body) == {"status", "timestamp", "version"}, "key counts and backends are for admins"
    assert body["status"] == "healthy"
    assert body["version"]
    assert response["headers"]["x-request-id"] == "req-health-1"
    for name, value in SECURITY_HEADERS.items():
        assert response["headers"][name] == value
    assert "max-age" in response["headers"]["strict-transport-security"]
    assert response["headers"]["content-security-policy"].startswith("default-src 'none'")


def test_health_reports_degraded_when_running_open(public_handler, http_event, lambda_context):
    handler = public_handler(api_key="", additional_api_keys=[])
    body = response_json(handler(http_event("GET", "/v1/health"), lambda_context))
    assert body["status"] == "degraded"


def test_health_is_recomputed_at_most_every_few_seconds(public_handler, http_event, lambda_context):
    """Anyone may call it, so calling it again within the cache age costs no backend round trip."""
    handler = public_handler(cache_backend="redis", redis_url="redis://127.0.0.1:1", health_cache_seconds=60)
    first = response_json(handler(http_event("GET", "/v1/health"), lambda_context))
    assert first["status"] == "degraded"  # the cache backend does not answer
    started = time.perf_counter()
    for _ in range(20):
        assert response_json(handler(http_event("GET", "/v1/health"), lambda_context)) == {
            **first,
            "timestamp": ANY,
        }
    assert time.perf_counter() - started < 1.0


def test_recorded_event_file_is_served(public_handler, lambda_context):
    event = load_event("http_api_get.json")
    response = public_handler()(event, lambda_context)
    assert response["statusCode"] == 200
    assert response["headers"]["x-request-id"] == event["requestContext"]["requestId"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key-000000"},
        {"X-API-Key": "wrong-key-000000"},
        {"Authorization": "Basic abc"},
    ],
    ids=["missing", "wrong-bearer", "wrong-x-api-key", "other-scheme"],
)
def test_auth_status_without_valid_key_is_401(public_handler, http_event, lambda_context, headers):
    event = http_event("GET", "/v1/auth/status", headers=headers, request_id="req-401")
    response = public_handler()(event, lambda_context)
    assert response["statusCode"] == 401
    assert response["headers"]["www-authenticate"] == "Bearer"
    assert_error_shape(response_json(response), "AUTHENTICATION_ERROR", "req-401")
    assert "wrong-key" not in response_text(response)


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ({"Authorization": f"Bearer {PUBLIC_KEY}"}, PUBLIC_KEY),
        ({"X-API-Key": PUBLIC_KEY}, PUBLIC_KEY),
        ({"authorization": f"bearer {SECOND_PUBLIC_KEY}"}, SECOND_PUBLIC_KEY),
    ],
    ids=["bearer", "x-api-key", "additional-key"],
)
def test_auth_status_with_valid_key_is_200(public_handler, http_event, lambda_context, headers, key):
    response = public_handler()(http_event("GET", "/v1/auth/status", headers=headers), lambda_context)
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["authenticated"] is True
    assert body["api_key_prefix"] == f"{key[:8]}..."
    assert key not in response_text(response)


def test_auth_status_open_in_development_says_so(public_handler, http_event, lambda_context):
    handler = public_handler(api_key="", additional_api_keys=[])
    body = response_json(handler(http_event("GET", "/v1/auth/status"), lambda_context))
    assert body["authenticated"] is True
    assert body["details"]["open_access"] is True
    assert "disabled" in body["message"]


def test_production_without_keys_never_runs_open(public_handler, http_event, lambda_context):
    handler = public_handler(stage="prod", api_key="", additional_api_keys=[], ai_provider="local")
    response = handler(http_event("GET", "/v1/auth/status", request_id="req-prod"), lambda_context)
    assert response["statusCode"] == 500
    assert_error_shape(response_json(response), "CONFIGURATION_ERROR", "req-prod")
    health = response_json(handler(http_event("GET", "/v1/health"), lambda_context))
    assert health["status"] == "unhealthy"


def test_unknown_path_is_404_in_error_shape(public_handler, http_event, lambda_context):
    response = public_handler()(http_event("GET", "/v1/nope", request_id="req-404"), lambda_context)
    assert response["statusCode"] == 404
    assert_error_shape(response_json(response), "NOT_FOUND", "req-404")
    assert response["headers"]["x-request-id"] == "req-404"


def test_path_outside_v1_reaches_default_route_and_is_404(public_handler, http_event, lambda_context):
    event = http_event("GET", "/wp-login.php", request_id="req-default")
    assert event["routeKey"] == "$default"
    response = public_handler()(event, lambda_context)
    assert response["statusCode"] == 404
    assert_error_shape(response_json(response), "NOT_FOUND", "req-default")


def test_wrong_method_is_405_in_error_shape(public_handler, http_event, lambda_context):
    response = public_handler()(http_event("DELETE", "/v1/health", request_id="req-405"), lambda_context)
    assert response["statusCode"] == 405
    assert_error_shape(response_json(response), "METHOD_NOT_ALLOWED", "req-405")


def test_named_stage_routes_and_docs_reference_staged_openapi(public_handler, http_event, lambda_context):
    handler = public_handler()
    health = handler(http_event("GET", "/v1/health", stage="dev"), lambda_context)
    assert health["statusCode"] == 200

    docs = handler(http_event("GET", "/docs", stage="dev"), lambda_context)
    assert docs["statusCode"] == 200
    html = response_text(docs)
    assert "'/dev/openapi.json'" in html or '"/dev/openapi.json"' in html
    policy = docs["headers"]["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline';" in policy
    assert "http" not in policy  # no CDN: the docs work offline

    spec = handler(http_event("GET", "/openapi.json", stage="dev"), lambda_context)
    assert spec["statusCode"] == 200
    assert "/v1/health" in response_json(spec)["paths"]
    assert response_json(spec)["servers"] == [{"url": "/dev"}]

    redoc = handler(http_event("GET", "/redoc", stage="dev"), lambda_context)
    assert "/dev/openapi.json" in response_text(redoc)
    assets = re.findall(r'(?:src|href)="(/dev/docs/assets/[^"]+)"', html + response_text(redoc))
    assert {asset.rsplit("/", 1)[1] for asset in assets} == {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "favicon.png",
        "redoc.standalone.js",
    }
    assert "http" not in html.replace("http-equiv", "")  # nothing fetched from elsewhere
    for asset in assets:
        loaded = handler(http_event("GET", asset.removeprefix("/dev"), stage="dev"), lambda_context)
        assert loaded["statusCode"] == 200, asset
        assert len(base64.b64decode(loaded["body"]) if loaded["isBase64Encoded"] else loaded["body"]) > 1000
    unknown = handler(http_event("GET", "/docs/assets/secrets.txt", stage="dev"), lambda_context)
    assert unknown["statusCode"] == 404


def test_named_stage_404_keeps_error_shape(public_handler, http_event, lambda_context):
    response = public_handler()(
        http_event("GET", "/v1/missing", stage="dev", request_id="r-s"), lambda_context
    )
    assert response["statusCode"] == 404
    assert_error_shape(response_json(response), "NOT_FOUND", "r-s")


def test_body_over_limit_is_413(public_handler, lambda_context):
    event = load_event("http_api_post_named_stage.json")
    oversized = b'{"text": "' + b"a" * 5000 + b'"}'
    event["body"] = base64.b64encode(oversized).decode()
    event["headers"]["content-length"] = str(len(oversized))
    event["headers"]["authorization"] = f"Bearer {PUBLIC_KEY}"  # a keyed route: a bad key is a 401 first
    response = public_handler(max_request_size=4096)(event, lambda_context)
    assert response["statusCode"] == 413
    assert_error_shape(response_json(response), "REQUEST_TOO_LARGE", event["requestContext"]["requestId"])


def test_body_over_limit_without_content_length_is_413(public_handler, http_event, lambda_context):
    event = http_event("POST", "/v1/health", body="x" * 5000)
    del event["headers"]["content-length"]
    response = public_handler(max_request_size=4096)(event, lambda_context)
    assert response["statusCode"] == 413


def test_cors_preflight_allows_configured_origin(public_handler, http_event, lambda_context):
    handler = public_handler(cors_origins=["https://app.example.com"])
    event = http_event(
        "OPTIONS",
        "/v1/health",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
    )
    response = handler(event, lambda_context)
    assert response["statusCode"] == 200
    assert response["headers"]["access-control-allow-origin"] == "https://app.example.com"
    assert response["headers"]["x-request-id"]

    other = http_event("GET", "/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in handler(other, lambda_context)["headers"]


def test_method_not_allowed_lists_every_method_of_the_path(public_handler, http_event, lambda_context):
    """Starlette names only the first route that matched: the job path has a GET and a DELETE route (and
    HEAD, answered wherever GET is)."""
    path = "/v1/text_processing/jobs/job_e3d924436e3049088aeb0c98c731d8c8"
    response = public_handler()(http_event("PUT", path, headers={"X-API-Key": PUBLIC_KEY}), lambda_context)
    assert response["statusCode"] == 405
    assert response["headers"]["allow"] == "DELETE, GET, HEAD"
    assert_error_shape(response_json(response), "METHOD_NOT_ALLOWED")


def test_a_path_keeps_its_own_methods_when_a_broader_template_also_matches(
    internal_handler, http_event, lambda_context
):
    event = http_event("PUT", "/internal/resilience/metrics/reset", headers={"X-API-Key": ADMIN_KEY})
    response = internal_handler()(event, lambda_context)
    assert response["statusCode"] == 405
    assert response["headers"]["allow"] == "POST"


def test_tracing_makes_each_invocation_an_xray_segment_only_when_enabled(
    public_handler, http_event, lambda_context
):
    """TRACING_ENABLED (the template's TracingEnabled): Powertools' Tracer wraps the handler; off, nothing
    does (outside Lambda the Tracer records nothing, so this checks the wiring and that requests pass)."""
    traced, plain = public_handler(tracing_enabled=True), public_handler()
    assert hasattr(traced, "__wrapped__")
    assert not hasattr(plain, "__wrapped__")
    for handler in (traced, plain):
        assert handler(http_event("GET", "/v1/health"), lambda_context)["statusCode"] == 200
