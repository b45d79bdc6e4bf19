"""Entry point of InternalApiFunction: builds the app from routers and exposes `lambda_handler`."""

from __future__ import annotations

from internal_api.config import InternalApiSettings, get_settings
from internal_api.routers import monitoring, root
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.web.app_factory import create_api
from textapi_shared.web.lambda_handler import build_lambda_handler


def create_app(settings: InternalApiSettings):
    return create_api(
        settings,
        build_observability(settings),
        title="textapi internal",
        description="Administration of cache, resilience, monitoring and configuration.",
        routers=[root.router, monitoring.router],
        docs_prefix="/internal",
        docs_enabled=not settings.disable_internal_docs,
    )


app = create_app(get_settings())
lambda_handler = build_lambda_handler(app, app.state.observability)
