"""Builds either FastAPI app with the same error shape, middleware and docs behaviour."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from textapi_shared.web.access_gate import AccessGateMiddleware
from textapi_shared.web.docs import add_docs, docs_paths
from textapi_shared.web.errors import install_error_handlers
from textapi_shared.web.middleware import RequestContextMiddleware
from textapi_shared.web.openapi import document_security

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from fastapi import APIRouter
    from starlette.routing import BaseRoute

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
    app = FastAPI(
        title=title,
        description=description,
        version=settings.version,
        # The docs are `web.docs`' (served without a CDN), added after the API's routes.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        debug=False,
        # A path with a trailing slash is 404 in the error shape, not a 307: Starlette's redirect answers
        # before authentication, outside the error shape, with a `Location` built from the `Host` header.
        redirect_slashes=False,
        # Tracing is Powertools' (X-Ray, TRACING_ENABLED); FastAPI's own OpenTelemetry would otherwise look
        # up three global providers on every request to find out that none is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.services = services
    routes = [route for router in routers for route in router.routes]
    _add_routes(app, routes)
    if docs_enabled:
        add_docs(app, prefix=docs_prefix, title=title)
    install_error_handlers(app, routes)
    document_security(app, routes)
    app.add_middleware(AccessGateMiddleware, services=services, routes=routes)
    if cors_origins:
        from textapi_shared.web.cors import CorsMiddleware

        app.add_middleware(CorsMiddleware, allow_origins=cors_origins)
    app.add_middleware(
        RequestContextMiddleware,
        observability=services.observability,
        docs_paths=docs_paths(docs_prefix) if docs_enabled else frozenset(),
        cors_origins=cors_origins,
    )
    return app


def _add_routes(app: FastAPI, routes: Sequence[BaseRoute]) -> None:
    """The routers' routes as the app's own, in order: the one fast path of the app's construction.
    `include_router` would add a branch FastAPI matches on every request before the routes in it (2.5 %
    of a cache hit's instructions); these routers carry their prefix, tags and route class on each route,
    so nothing `include_router` adds is lost."""
    app.router.routes.extend(routes)
