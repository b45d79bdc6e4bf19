"""Builds either FastAPI app with the same error shape, middleware and docs behaviour."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from textapi_shared.aws import SecureParameters
from textapi_shared.config import require_installed
from textapi_shared.security.api_keys import ApiKeyAuthenticator
from textapi_shared.web.access_gate import AccessGateMiddleware
from textapi_shared.web.errors import install_error_handlers
from textapi_shared.web.middleware import RequestContextMiddleware
from textapi_shared.web.openapi import document_security

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from fastapi import APIRouter

    from textapi_shared.config import SharedSettings
    from textapi_shared.monitoring.observability import Observability


def create_api(
    settings: SharedSettings,
    observability: Observability,
    *,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    cors_origins: Collection[str] = (),
    docs_prefix: str = "",
    docs_enabled: bool = True,
) -> FastAPI:
    """A FastAPI app wired for Lambda: state holds settings, observability, the secrets reader and the
    key checker.

    Docs live under `docs_prefix` (`/internal` for the internal API) so both apps can share one
    HTTP API; under a named stage the middleware sets `root_path`, so `/dev/docs` loads
    `/dev/openapi.json`. Middleware, outermost first: request context (id, headers, log, last-resort
    500), CORS (only with `cors_origins`), the access gate (key check before the body, body limit).
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
        # Tracing is Powertools' (X-Ray, TRACING_ENABLED); FastAPI's own OpenTelemetry would otherwise look
        # up three global providers on every request to find out that none is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    if settings.ssm_parameters:
        require_installed("boto3", "boto3", ", ".join(sorted(settings.ssm_parameters)))
    logger = observability.logger
    app.state.settings = settings
    app.state.observability = observability
    app.state.secrets = secrets = SecureParameters(settings, logger=logger, metrics=observability)
    app.state.authenticator = ApiKeyAuthenticator(
        settings,
        secrets=secrets,
        logger=logger,
        on_open=lambda kind: logger.warning(ApiKeyAuthenticator.open_message(), extra={"key_kind": kind}),
    )
    install_error_handlers(app)
    app.state.routers = tuple(routers)
    for router in app.state.routers:
        # FastAPI (0.165) includes a router as a branch matched on every request before the routes in it;
        # these routers carry their prefix, tags and responses on their routes already, so the app takes
        # the routes themselves: one flat list, each request matched once.
        app.router.routes.extend(router.routes)
    routes = [route for router in app.state.routers for route in router.routes]
    document_security(app, routes)
    # Starlette tries routes in order and FastAPI added its docs routes first, at construction: the API's
    # routes go before them, so a request to the hot path is not matched against the docs' paths first.
    docs = {
        url
        for url in (app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
        if url
    }
    app.router.routes.sort(key=lambda route: getattr(route, "path", None) in docs)

    app.add_middleware(
        AccessGateMiddleware,
        authenticator=app.state.authenticator,
        routes=routes,
        max_body_bytes=settings.max_request_size,
    )
    if cors_origins:
        from textapi_shared.web.cors import CorsMiddleware

        app.add_middleware(CorsMiddleware, allow_origins=cors_origins)
    docs_paths = frozenset(p for p in (docs_url, redoc_url) if p)
    app.add_middleware(
        RequestContextMiddleware,
        observability=observability,
        docs_paths=docs_paths,
        cors_origins=cors_origins,
    )
    return app
