"""The internal function's real lambda_handler, fed API Gateway HTTP API v2 events."""

from __future__ import annotations

import pytest

from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY, assert_error_shape
from fakes.apigw_events import response_json, response_text


def test_service_info_needs_no_key(internal_handler, http_event, lambda_context):
    response = internal_handler()(http_event("GET", "/internal"), lambda_context)
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["service"] == "textapi-internal"
    paths = {e["path"] for e in body["endpoints"]}
    assert {"/internal", "/internal/monitoring/health"} <= paths


def test_monitoring_health_without_key_is_401(internal_handler, http_event, lambda_context):
    response = internal_handler()(
        http_event("GET", "/internal/monitoring/health", request_id="i-401"), lambda_context
    )
    assert response["statusCode"] == 401
    assert response["headers"]["www-authenticate"] == "Bearer"
    assert_error_shape(response_json(response), "AUTHENTICATION_ERROR", "i-401")


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_monitoring_health_with_public_key_is_403(internal_handler, http_event, lambda_context, header):
    value = f"Bearer {PUBLIC_KEY}" if header == "Authorization" else PUBLIC_KEY
    event = http_event("GET", "/internal/monitoring/health", headers={header: value}, request_id="i-403")
    response = internal_handler()(event, lambda_context)
    assert response["statusCode"] == 403
    assert_error_shape(response_json(response), "AUTHORIZATION_ERROR", "i-403")


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_monitoring_health_with_admin_key_is_200(internal_handler, http_event, lambda_context, header):
    value = f"Bearer {ADMIN_KEY}" if header == "Authorization" else ADMIN_KEY
    event = http_event("GET", "/internal/monitoring/health", headers={header: value})
    response = internal_handler()(event, lambda_context)
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["status"] == "healthy"
    assert body["components"]["authentication"]["admin_keys"] == 1
    assert ADMIN_KEY not in response_text(response)


def test_unknown_internal_path_is_404_in_error_shape(internal_handler, http_event, lambda_context):
    response = internal_handler()(http_event("GET", "/internal/nope", request_id="i-404"), lambda_context)
    assert response["statusCode"] == 404
    assert_error_shape(response_json(response), "NOT_FOUND", "i-404")


def test_wrong_method_is_405_in_error_shape(internal_handler, http_event, lambda_context):
    response = internal_handler()(http_event("POST", "/internal", request_id="i-405"), lambda_context)
    assert response["statusCode"] == 405
    assert_error_shape(response_json(response), "METHOD_NOT_ALLOWED", "i-405")


def test_named_stage_docs_reference_staged_openapi(internal_handler, http_event, lambda_context):
    handler = internal_handler()
    docs = handler(http_event("GET", "/internal/docs", stage="dev"), lambda_context)
    assert docs["statusCode"] == 200
    assert "/dev/internal/openapi.json" in response_text(docs)
    spec = handler(http_event("GET", "/internal/openapi.json", stage="dev"), lambda_context)
    assert spec["statusCode"] == 200
    assert "/internal/monitoring/health" in response_json(spec)["paths"]
    info = handler(http_event("GET", "/internal", stage="dev"), lambda_context)
    assert response_json(info)["docs_url"] == "/internal/docs"


def test_docs_can_be_disabled(internal_handler, http_event, lambda_context):
    handler = internal_handler(disable_internal_docs=True)
    for path in ("/internal/docs", "/internal/redoc", "/internal/openapi.json"):
        assert handler(http_event("GET", path), lambda_context)["statusCode"] == 404


def test_production_without_admin_keys_is_configuration_error(internal_handler, http_event, lambda_context):
    handler = internal_handler(stage="prod", internal_api_keys=[])
    event = http_event(
        "GET", "/internal/monitoring/health", headers={"X-API-Key": PUBLIC_KEY}, request_id="i-500"
    )
    response = handler(event, lambda_context)
    assert response["statusCode"] == 500
    assert_error_shape(response_json(response), "CONFIGURATION_ERROR", "i-500")
