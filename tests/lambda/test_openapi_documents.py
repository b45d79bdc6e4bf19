"""Both OpenAPI documents: key schemes for the docs' Authorize button, and every
operation's error statuses documented with the one error schema."""

from __future__ import annotations

import pytest

from fakes.apigw_events import response_json

DOCUMENTS = [("public_handler", "/openapi.json"), ("internal_handler", "/internal/openapi.json")]
OPEN_OPERATIONS = {("/v1/health", "get"), ("/internal", "get")}


@pytest.mark.parametrize(("fixture", "path"), DOCUMENTS)
def test_documents_declare_both_key_schemes_and_keyed_operations_use_them(
    request, http_event, lambda_context, fixture, path
):
    handler = request.getfixturevalue(fixture)()
    spec = response_json(handler(http_event("GET", path), lambda_context))
    schemes = spec["components"]["securitySchemes"]
    assert schemes["BearerKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <key>`",
    }
    assert (schemes["HeaderKey"]["in"], schemes["HeaderKey"]["name"]) == ("header", "X-API-Key")
    for route, item in spec["paths"].items():
        for method, operation in item.items():
            if (route, method) in OPEN_OPERATIONS:
                assert "security" not in operation
                continue
            assert {"BearerKey": []} in operation["security"], (route, method)
            assert {"HeaderKey": []} in operation["security"], (route, method)
            assert "401" in operation["responses"], (route, method)


@pytest.mark.parametrize(("fixture", "path"), DOCUMENTS)
def test_every_error_status_uses_the_error_schema_with_an_example(
    request, http_event, lambda_context, fixture, path
):
    handler = request.getfixturevalue(fixture)()
    spec = response_json(handler(http_event("GET", path), lambda_context))
    assert spec["components"]["schemas"]["ErrorResponse"]["required"] == [
        "success",
        "error",
        "error_code",
        "details",
        "timestamp",
        "request_id",
    ]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for route, item in spec["paths"].items():
        for method, operation in item.items():
            errors = {status: r for status, r in operation["responses"].items() if int(status) >= 400}
            assert "500" in errors, (route, method)
            for status, response in errors.items():
                content = response["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}, (
                    route,
                    method,
                    status,
                )
                assert content["example"]["success"] is False


def test_optional_key_operation_may_also_be_called_without_one(public_handler, http_event, lambda_context):
    spec = response_json(public_handler()(http_event("GET", "/openapi.json"), lambda_context))
    assert {} in spec["paths"]["/v1/text_processing/operations"]["get"]["security"]
    assert {} not in spec["paths"]["/v1/text_processing/process"]["post"]["security"]
