"""Entry point of PublicApiFunction: builds the app from routers and exposes `lambda_handler`."""

import gc

gc.disable()  # for the cold start: `finish_cold_start` resumes it

from public_api.config import PublicApiSettings, get_settings
from public_api.routers import auth, health, jobs, text_processing
from public_api.services.jobs.factory import build_jobs
from public_api.services.processing import build_processing
from textapi_shared.idempotency.factory import build_idempotency_store
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.security.rate_limiter import RateLimiter
from textapi_shared.web.app_factory import create_api
from textapi_shared.web.lambda_handler import finish_cold_start


def create_app(settings: PublicApiSettings):
    observability = build_observability(settings)
    app = create_api(
        settings,
        observability,
        title="textapi",
        description="AI text processing: summarize, sentiment, key points, questions, Q&A.",
        routers=[health.router, auth.router, text_processing.router, jobs.router],
    )
    processing = build_processing(settings, observability)
    app.state.cache = processing.cache
    app.state.resilience = processing.resilience
    app.state.text_processor = processing.text_processor
    # Counted in the cache's shared backend, so limits hold across every instance of the function.
    app.state.rate_limiter = RateLimiter(processing.cache, per_minute=settings.rate_limit_per_minute)
    app.state.idempotency = build_idempotency_store(settings)
    app.state.jobs = build_jobs(settings, processing, observability)
    return app


app, lambda_handler = finish_cold_start(lambda: create_app(get_settings()))
