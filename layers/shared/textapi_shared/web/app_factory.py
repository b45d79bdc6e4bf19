"""Builds either FastAPI app with the same error shape, middleware and docs behaviour."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from textapi_shared.security.api_keys import ApiKeyAuthenticator
from textapi_shared.web.errors import install_error_handlers
from textapi_shared.web.middleware import RequestContextMiddleware

if TYPE_CHECKING:
    from collections.abc import Iterable

    from fastapi import APIRouter

    from textapi_shared.config import SharedSettings
    from textapi_shared.monitoring.observability import Observability

_CORS_HEADERS = [
    "Authorization",
    "X-API-Key",
    "Content-Type",
    "Cache-Control",
    "X-Request-ID",
    "Idempotency-Key",
]
_EXPOSED_HEADERS = [
    "X-Request-ID",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Location",
    "Idempotent-Replayed",
]


def create_api(
    settings: SharedSettings,
    observability: Observability,
    *,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    docs_prefix: str = "",
    docs_enabled: bool = True,
) -> FastAPI:
    """A FastAPI app wired for Lambda: state holds settings, observability and the key checker.

    Docs live under `docs_prefix` (`/internal` for the internal API) so both apps can share one
    HTTP API; under a named stage the middleware sets `root_path`, so `/dev/docs` loads
    `/dev/openapi.json`.
    """
    docs_url = f"{docs_prefix}/docs" if docs_enabled else None
    redoc_url = f"{docs_prefix}/redoc" if docs_enabled else None
    app = FastAPI(
        title=title,
        description=description,
        version=settings.version,
        docs_url=docs_url,
        redoc_url=redoc_url,
        openapi_url=f"{docs_prefix}/openapi.json" if docs_enabled else None,
        swagger_ui_oauth2_redirect_url=f"{docs_prefix}/docs/oauth2-redirect" if docs_enabled else None,
        debug=False,
    )
    logger = observability.logger
    app.state.settings = settings
    app.state.observability = observability
    app.state.authenticator = ApiKeyAuthenticator(
        settings,
        on_open=lambda kind: logger.warning(ApiKeyAuthenticator.open_message(), extra={"key_kind": kind}),
    )
    install_error_handlers(app)
    app.state.routers = tuple(routers)
    for router in app.state.routers:
        app.include_router(router)

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=_CORS_HEADERS,
            expose_headers=_EXPOSED_HEADERS,
            max_age=600,
        )
    docs_paths = frozenset(p for p in (docs_url, redoc_url) if p)
    app.add_middleware(
        RequestContextMiddleware,
        logger=logger,
        max_body_bytes=settings.max_request_size,
        docs_paths=docs_paths,
    )
    return app
