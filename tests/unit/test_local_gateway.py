"""`make run`'s gateway sends each path to the function API Gateway would invoke."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from local_gateway import INTERNAL, PUBLIC, create_gateway, joined_headers, resolve_route


@pytest.mark.parametrize(
    ("method", "path", "route_key", "function"),
    [
        ("GET", "/v1/health", "ANY /v1/{proxy+}", PUBLIC),
        ("POST", "/v1/text_processing/process", "ANY /v1/{proxy+}", PUBLIC),
        ("GET", "/docs", "GET /docs", PUBLIC),
        ("POST", "/docs", "$default", PUBLIC),
        ("GET", "/internal", "ANY /internal", INTERNAL),
        ("GET", "/internal/", "$default", PUBLIC),
        ("GET", "/internal/cache/status", "ANY /internal/{proxy+}", INTERNAL),
        ("GET", "/v1", "$default", PUBLIC),
        ("GET", "/", "$default", PUBLIC),
    ],
)
def test_resolve_route_matches_http_api_rules(method, path, route_key, function):
    assert resolve_route(method, path) == (route_key, function)


def test_gateway_serves_both_apps_on_one_port():
    client = TestClient(create_gateway())
    assert client.get("/v1/health").json()["status"] in ("healthy", "degraded")
    assert client.get("/internal").json()["service"] == "textapi-internal"
    assert client.get("/openapi.json").json()["info"]["title"] == "textapi"
    assert client.get("/internal/openapi.json").json()["info"]["title"] == "textapi internal"
    assert client.get("/elsewhere").json()["error_code"] == "NOT_FOUND"


def test_repeated_headers_are_joined_as_api_gateway_joins_them():
    headers = [
        (b"x-api-key", b"a"),
        (b"accept", b"*/*"),
        (b"x-api-key", b"b"),
        (b"cookie", b"c=1"),
        (b"cookie", b"d=2"),
    ]
    assert joined_headers(headers) == [
        (b"x-api-key", b"a,b"),
        (b"accept", b"*/*"),
        (b"cookie", b"c=1; d=2"),
    ]
    assert joined_headers([(b"x-api-key", b"a"), (b"accept", b"*/*")]) is None  # nothing to rebuild
