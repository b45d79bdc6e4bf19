"""Requests that are nearly right, through the real lambda_handler of each function: a trailing slash, a
HEAD, a body in UTF-16 or without its Content-Type. Each gets a plain answer in the error shape (or
GET's, for HEAD), never a redirect and never a guess."""

from __future__ import annotations

import json
import re

import pytest

from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY, assert_error_shape
from fakes.apigw_events import response_json, response_text
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from public_api.config import PublicApiSettings
from public_api.main import create_app as create_public_app
from textapi_shared.web.lambda_handler import build_lambda_handler

PROCESS = "/v1/text_processing/process"
AUTH = {"X-API-Key": PUBLIC_KEY}
ADMIN = {"X-API-Key": ADMIN_KEY}
TEXT = "The harbour authority approved a new ferry terminal after two years of public consultation."
SETTINGS = {"stage": "dev", "api_key": PUBLIC_KEY, "internal_api_keys": [ADMIN_KEY]}
APPS = {
    "public": lambda: create_public_app(PublicApiSettings(**SETTINGS)),
    "internal": lambda: create_internal_app(InternalApiSettings(**SETTINGS)),
}


def handler_of(app):
    return build_lambda_handler(app, app.state.services.observability)


def every_route(app) -> list[tuple[str, str]]:
    """(method, path) of each route of `app`, with a sample value in each path parameter."""
    found = []
    for route in app.routes:
        for method in sorted(getattr(route, "methods", None) or ()):
            found.append((method, re.sub(r"\{[^}]+\}", "x", route.path)))
    return found


# -- trailing slashes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", list(APPS))
def test_every_route_with_a_trailing_slash_is_404_in_the_error_shape_never_a_redirect(
    api, http_event, lambda_context
):
    app = APPS[api]()
    handler = handler_of(app)
    routes = every_route(app)
    assert len(routes) > 10
    for method, path in routes:
        headers = {"Host": "evil.example", **ADMIN}
        event = http_event(method, path + "/", headers=headers, body=b"{}", stage="dev")
        response = handler(event, lambda_context)
        where = f"{method} {path}/"
        assert response["statusCode"] == 404, where
        assert "location" not in response["headers"], where
        assert_error_shape(response_json(response), "NOT_FOUND")
        assert "evil.example" not in json.dumps(response), where


def test_a_slash_is_404_before_any_key_is_asked_for(
    public_handler, internal_handler, http_event, lambda_context
):
    public = public_handler()(
        http_event("POST", PROCESS + "/", headers={"Host": "evil.example"}, body={"text": TEXT}),
        lambda_context,
    )
    internal = internal_handler()(
        http_event("GET", "/internal/monitoring/health/", headers={"Host": "evil.example"}), lambda_context
    )
    for response in (public, internal):
        assert response["statusCode"] == 404
        assert "location" not in response["headers"]
        assert_error_shape(response_json(response), "NOT_FOUND")


# -- HEAD ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "path", "headers"),
    [
        ("public", "/v1/health", {}),
        ("public", "/v1/text_processing/operations", {}),
        ("public", "/v1/auth/status", AUTH),
        ("public", "/openapi.json", {}),
        ("public", "/docs", {}),
        ("internal", "/internal", {}),
        ("internal", "/internal/resilience/config/presets", ADMIN),
    ],
)
def test_head_answers_as_get_without_the_body(api, path, headers, http_event, lambda_context):
    handler = handler_of(APPS[api]())
    got = handler(http_event("GET", path, headers=headers), lambda_context)
    head = handler(http_event("HEAD", path, headers=headers), lambda_context)
    assert (head["statusCode"], got["statusCode"]) == (200, 200)
    assert response_text(head) == ""
    assert head["headers"]["content-type"] == got["headers"]["content-type"]
    assert head["headers"]["content-length"] == got["headers"]["content-length"]
    assert int(head["headers"]["content-length"]) == len(response_text(got).encode())


def test_head_keeps_the_answers_of_get_refusals_without_their_bodies(
    public_handler, http_event, lambda_context
):
    handler = public_handler()
    unknown = handler(http_event("HEAD", "/v1/nothing-here"), lambda_context)
    unauthenticated = handler(http_event("HEAD", "/v1/auth/status"), lambda_context)
    post_only = handler(http_event("HEAD", PROCESS, headers=AUTH), lambda_context)
    for response, status in zip((unknown, unauthenticated, post_only), (404, 401, 405), strict=True):
        assert response["statusCode"] == status
        assert response_text(response) == ""
        assert response["headers"]["content-type"] == "application/json"
        assert int(response["headers"]["content-length"]) > 0
        assert response["headers"]["x-request-id"]
        assert response["headers"]["x-content-type-options"] == "nosniff"
    assert unauthenticated["headers"]["www-authenticate"] == "Bearer"
    assert post_only["headers"]["allow"] == "POST"
    got = handler(http_event("GET", "/v1/nothing-here"), lambda_context)
    assert_error_shape(response_json(got), "NOT_FOUND")
    assert unknown["headers"]["content-length"] == got["headers"]["content-length"]


def test_allow_names_head_wherever_get_is(public_handler, http_event, lambda_context):
    response = public_handler()(http_event("POST", "/v1/health", body={}), lambda_context)
    assert response["statusCode"] == 405
    assert response["headers"]["allow"] == "GET, HEAD"


# -- bodies: UTF-8 only, JSON only when declared so ------------------------------------------------------


def _body_event(http_event, raw: bytes, path: str = PROCESS, headers=AUTH):
    return http_event("POST", path, headers=headers, body=raw)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_a_json_body_in_utf16_or_utf32_is_400_malformed_request(
    public_handler, http_event, lambda_context, encoding
):
    raw = json.dumps({"text": TEXT, "operation": "summarize"}).encode(encoding)
    response = public_handler()(_body_event(http_event, raw), lambda_context)
    assert response["statusCode"] == 400
    data = response_json(response)
    assert_error_shape(data, "MALFORMED_REQUEST")
    assert data["details"] == {"reason": "not_utf8"}
    assert "UTF-8" in data["error"]


def test_the_internal_api_refuses_utf16_bodies_too(internal_handler, http_event, lambda_context):
    raw = json.dumps({"configuration": {"retry_attempts": 3}}).encode("utf-16")
    event = _body_event(http_event, raw, "/internal/resilience/config/validate", ADMIN)
    response = internal_handler()(event, lambda_context)
    assert response["statusCode"] == 400
    assert response_json(response)["details"] == {"reason": "not_utf8"}


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(
            {"text": TEXT + " Caf\u00e9 \u6e2f", "operation": "summarize"}, ensure_ascii=False
        ).encode(),
        b"\xef\xbb\xbf" + json.dumps({"text": TEXT, "operation": "summarize"}).encode(),
    ],
    ids=["utf-8", "utf-8-with-bom"],
)
def test_utf8_bodies_pass_with_or_without_a_byte_order_mark(public_handler, http_event, lambda_context, raw):
    assert public_handler()(_body_event(http_event, raw), lambda_context)["statusCode"] == 200


@pytest.mark.parametrize(
    ("content_type", "said"),
    [(None, "has no Content-Type"), ("text/plain", "has Content-Type 'text/plain'")],
    ids=["missing", "text-plain"],
)
def test_a_body_not_declared_json_is_400_saying_what_is_missing(
    public_handler, http_event, lambda_context, content_type, said
):
    handler = public_handler()
    for path, body in (
        (PROCESS, {"text": TEXT, "operation": "summarize"}),
        ("/v1/text_processing/batch_process", {"requests": [{"text": TEXT, "operation": "summarize"}]}),
    ):
        event = http_event("POST", path, headers=AUTH, body=body)
        del event["headers"]["content-type"]
        if content_type is not None:
            event["headers"]["content-type"] = content_type
        response = handler(event, lambda_context)
        assert response["statusCode"] == 400, path
        data = response_json(response)
        assert_error_shape(data, "MALFORMED_REQUEST")
        assert data["details"] == {"reason": "content_type"}
        assert "Content-Type: application/json" in data["error"]
        assert said in data["error"]
