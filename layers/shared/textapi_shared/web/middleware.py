"""The outermost ASGI middleware: request id, stage root path, security headers, access log, the
request's metrics document off Lambda, `HEAD` as `GET` without the body, and the last-resort 500 in the
one error shape (with the CORS headers an allowed origin gets). The key check and the body limit sit
innermost, in `access_gate`.

Pure ASGI (not BaseHTTPMiddleware): it must see every response, including errors, and adds
no task or stream overhead per request.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers

from textapi_shared.errors import InternalError
from textapi_shared.web.errors import send_error
from textapi_shared.web.paths import route_path

if TYPE_CHECKING:
    from collections.abc import Collection

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from textapi_shared.monitoring.observability import Observability

_API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc load their bundles from the function (`web.docs`) and run an inline bootstrap
# script; ReDoc renders in a web worker.
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)
STATIC_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("strict-transport-security", "max-age=63072000; includeSubDomains"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("content-security-policy", _API_CSP),
)


_RAW_STATIC = tuple((name.encode(), value.encode()) for name, value in STATIC_HEADERS)
_RAW_CSP = {_API_CSP: _API_CSP.encode(), _DOCS_CSP: _DOCS_CSP.encode()}


def _with_headers(
    raw: list[tuple[bytes, bytes]], request_id: str, csp: str, *, no_store: bool
) -> list[tuple[bytes, bytes]]:
    """A response's raw headers plus the request id (replacing any), `Cache-Control: no-store` for a
    keyed route's (replacing any), and each security header it does not set itself (the CSP for its path
    first): one pass over what is there, no header object per name."""
    present = {name.lower() for name, _ in raw}
    replaced = {b"x-request-id", b"cache-control"} if no_store else {b"x-request-id"}
    if present & replaced:
        raw = [(name, value) for name, value in raw if name.lower() not in replaced]
    headers = [*raw, (b"x-request-id", request_id.encode("latin-1"))]
    if no_store:
        headers.append((b"cache-control", b"no-store"))
    if b"content-security-policy" not in present:
        headers.append((b"content-security-policy", _RAW_CSP[csp]))
        present.add(b"content-security-policy")
    headers.extend(header for header in _RAW_STATIC if header[0] not in present)
    return headers


def _lambda_request_context(scope: Scope) -> dict[str, Any]:
    event = scope.get("aws.event") or {}
    return event.get("requestContext") or {}


def _stage_root_path(scope: Scope) -> str:
    """`/dev` when API Gateway serves a named stage and the path carries it, else ``."""
    stage = _lambda_request_context(scope).get("stage") or "$default"
    if stage == "$default":
        return ""
    prefix = f"/{stage}"
    path = scope["path"]
    return prefix if path == prefix or path.startswith(prefix + "/") else ""


def _without_body(send: Send) -> Send:
    """`send` for a HEAD request answered as GET: the GET's status and headers (its `Content-Length`
    included), and no body."""

    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            message = {**message, "body": b""}
        await send(message)

    return send_head


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        observability: Observability,
        docs_paths: frozenset[str],
        cors_origins: Collection[str] = (),
    ) -> None:
        self.app = app
        self.observability = observability
        self.logger = observability.logger
        self.docs_paths = docs_paths
        self.cors_origins = frozenset(cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _lambda_request_context(scope).get("requestId") or uuid.uuid4().hex
        method = scope["method"]
        scope = dict(scope, root_path=_stage_root_path(scope) or scope.get("root_path", ""))
        if method == "HEAD":  # the routes declare GET only: HEAD is answered here, for every one of them
            scope["method"] = "GET"
            send = _without_body(send)
        scope.setdefault("state", {})["request_id"] = request_id
        self.logger.set_correlation_id(request_id)

        csp = _DOCS_CSP if route_path(scope) in self.docs_paths else _API_CSP
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = _with_headers(
                    message.get("headers") or [], request_id, csp, no_store=bool(state.get("no_store"))
                )
            await send(message)

        state = scope["state"]
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            self.logger.exception("unhandled error", extra={"path": scope["path"], "method": method})
            if response_started:
                raise
            error = InternalError()
            if self.cors_origins:  # the page that asked must be able to read the 500 (imported only then)
                from textapi_shared.web.cors import cors_headers

                error.headers.update(cors_headers(Headers(scope=scope).get("origin"), self.cors_origins))
            await send_error(error, scope, receive, send_with_headers)
        finally:
            # Every 5xx is an ERROR line carrying its code: alarms, the dashboard and the saved queries
            # find handled server errors (503, 502, 500 CONFIGURATION_ERROR) as well as crashes.
            self.observability.request_line(
                logging.ERROR if status >= 500 else logging.INFO,
                {
                    "method": method,
                    "path": route_path(scope),
                    "status": status,
                    "error_code": state.get("error_code"),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            if "aws.event" not in scope:  # in Lambda the handler writes them, with its own request metrics
                self.observability.flush_metrics()
