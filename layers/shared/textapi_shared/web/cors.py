"""CORS for both apps: Starlette's middleware, with refusals in the error shape, and the headers the
outermost middleware adds to the responses it builds itself (a 500 must reach the page that asked)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware

from textapi_shared.errors import AuthorizationError
from textapi_shared.web.errors import error_response

if TYPE_CHECKING:
    from collections.abc import Collection

    from starlette.types import ASGIApp, Receive, Scope, Send

ALLOWED_METHODS = ["GET", "POST", "PUT", "DELETE", "OPTIONS"]
ALLOWED_HEADERS = [
    "Authorization",
    "X-API-Key",
    "Content-Type",
    "Cache-Control",
    "X-Request-ID",
    "Idempotency-Key",
]
EXPOSED_HEADERS = [
    "X-Request-ID",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Location",
    "Idempotent-Replayed",
]


def cors_headers(origin: str | None, allowed_origins: Collection[str]) -> dict[str, str]:
    """What `CorsMiddleware` would add to a response for `origin`: nothing for a disallowed one."""
    if origin is None or not (origin in allowed_origins or "*" in allowed_origins):
        return {}
    return {
        "access-control-allow-origin": origin,
        "access-control-expose-headers": ", ".join(EXPOSED_HEADERS),
        "vary": "Origin",
    }


class CorsMiddleware(CORSMiddleware):
    """Starlette's CORS, except that a refused preflight is a 403 in the error shape, not text/plain."""

    def __init__(self, app: ASGIApp, *, allow_origins: Collection[str]) -> None:
        super().__init__(
            app,
            allow_origins=list(allow_origins),
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                response = self.preflight_response(request_headers=headers)
                if response.status_code >= 400:
                    refused = AuthorizationError(
                        "CORS preflight refused: this origin, method or request header is not allowed.",
                        headers={"vary": "Origin"},
                    )
                    response = error_response(refused, (scope.get("state") or {}).get("request_id", ""))
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
