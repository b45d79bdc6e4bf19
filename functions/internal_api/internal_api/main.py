"""Entry point of InternalApiFunction: builds the app from routers and exposes `lambda_handler`."""

import gc

gc.disable()  # for the cold start: `finish_cold_start` resumes it

from internal_api.composition import InternalServices, build_services
from internal_api.config import InternalApiSettings, get_settings
from internal_api.routers import INDEXED, root
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.web.app_factory import create_api
from textapi_shared.web.lambda_handler import finish_cold_start


def create_app(settings: InternalApiSettings, services: InternalServices | None = None):
    """The internal app over `services` (by default those `settings` configure)."""
    if services is None:
        services = build_services(settings, build_observability(settings))
    return create_api(
        services,
        title="textapi internal",
        description="Administration of cache, resilience, monitoring and configuration.",
        routers=[root.router, *INDEXED],
        cors_origins=settings.internal_cors_origins,
        docs_prefix="/internal",
        docs_enabled=not settings.disable_internal_docs,
    )


app, lambda_handler = finish_cold_start(lambda: create_app(get_settings()))
