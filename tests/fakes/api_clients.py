"""The same calls through two doors: FastAPI's TestClient and the real Lambda handler with v2 events.

Tests parametrised over both prove the behaviour does not depend on how the app is reached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi.testclient import TestClient

from fakes.apigw_events import build_http_event, response_text
from fakes.lambda_context import FakeLambdaContext
from textapi_shared.web.lambda_handler import build_lambda_handler

if TYPE_CHECKING:
    from fastapi import FastAPI


@dataclass(frozen=True)
class ApiResponse:
    status_code: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class AsgiClient:
    kind = "testclient"

    def __init__(self, app: FastAPI) -> None:
        self._client = TestClient(app, raise_server_exceptions=False)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> ApiResponse:
        response = self._client.request(
            method, path, json=json_body, content=content, headers=headers, params=query
        )
        return ApiResponse(
            response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.text
        )


class LambdaClient:
    kind = "lambda"

    def __init__(self, app: FastAPI, *, timeout_ms: int = 29_000) -> None:
        self._handler = build_lambda_handler(app, app.state.services.observability)
        self._timeout_ms = timeout_ms

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout_ms: int | None = None,
        query: dict[str, str] | None = None,
    ) -> ApiResponse:
        body = (
            content
            if content is not None
            else (json.dumps(json_body).encode() if json_body is not None else None)
        )
        event = build_http_event(method, path, headers=headers, body=body, query=query)
        response = self._handler(event, FakeLambdaContext(timeout_ms=timeout_ms or self._timeout_ms))
        headers_out = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        return ApiResponse(response["statusCode"], headers_out, response_text(response))
