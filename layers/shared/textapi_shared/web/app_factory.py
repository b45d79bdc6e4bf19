"""Builds either FastAPI app with the same error shape, middleware and docs behaviour."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from textapi_shared.web.access_gate import AccessGateMiddleware
from textapi_shared.web.errors import install_error_handlers
from textapi_shared.web.middleware import RequestContextMiddleware
from textapi_shared.web.openapi import document_security

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from fastapi import APIRouter

    from textapi_shared.web.services import WebServices


def create_api(
    services: WebServices,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    cors_origins: Collection[str] = (),
    docs_prefix: str = "",
    docs_enabled: bool = True,
) -> FastAPI:
    """A FastAPI app wired for Lambda, holding `services` (its composition root's) as its only state.

    Docs live under `docs_prefix` (`/internal` for the internal API) so both apps can share one
    HTTP API; under a named stage the middleware sets `root_path`, so `/dev/docs` loads
    `/dev/openapi.json`. Middleware, outermost first: request context (id, headers, log, last-resort
    500), CORS (only with `cors_origins`), the access gate (key check before the body, body limit,
    metering).
    """
    settings = services.settings
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
        # Tracing is Powertools' (X-Ray, TRACING_ENABLED); FastAPI's own OpenTelemetry would otherwise look
        # up three global providers on every request to find out that none is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.services = services
    for router in routers:
        app.include_router(router)
    routes = [route for router in routers for route in router.routes]
    install_error_handlers(app, routes)
    document_security(app, routes)
    app.add_middleware(AccessGateMiddleware, services=services, routes=routes)
    if cors_origins:
        from textapi_shared.web.cors import CorsMiddleware

        app.add_middleware(CorsMiddleware, allow_origins=cors_origins)
    docs_paths = frozenset(p for p in (docs_url, redoc_url) if p)
    app.add_middleware(
        RequestContextMiddleware,
        observability=services.observability,
        docs_paths=docs_paths,
        cors_origins=cors_origins,
    )
    return app
