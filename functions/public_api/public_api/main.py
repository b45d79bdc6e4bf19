"""Entry point of PublicApiFunction: builds the app from routers and exposes `lambda_handler`."""

import gc

gc.disable()  # for the cold start: `finish_cold_start` resumes it

from public_api.composition import PublicServices, build_services
from public_api.config import PublicApiSettings, get_settings
from public_api.routers import auth, health, jobs, text_processing, usage
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.web.app_factory import create_api
from textapi_shared.web.lambda_handler import finish_cold_start


def create_app(settings: PublicApiSettings, services: PublicServices | None = None):
    """The public app over `services` (by default those `settings` configure)."""
    if services is None:
        services = build_services(settings, build_observability(settings))
    return create_api(
        services,
        title="textapi",
        description="AI text processing: summarize, sentiment, key points, questions, Q&A.",
        # The hot routes first: a request is matched against the routers in this order.
        routers=[
            text_processing.router,
            text_processing.catalogue,
            jobs.router,
            usage.router,
            auth.router,
            health.router,
        ],
        cors_origins=settings.cors_origins,
    )


app, lambda_handler = finish_cold_start(lambda: create_app(get_settings()))
