"""Entry point of PublicApiFunction: builds the app from routers and exposes `lambda_handler`."""

import gc

gc.disable()  # for the cold start: `finish_cold_start` resumes it

from public_api.config import PublicApiSettings, get_settings
from public_api.routers import auth, health, jobs, text_processing
from public_api.services.jobs.factory import build_jobs
from public_api.services.processing import build_processing
from textapi_shared.idempotency.factory import build_idempotency_store
from textapi_shared.monitoring.health import (
    CachedStatus,
    ai_configuration_check,
    authentication_check,
    cache_ping_check,
)
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.security.rate_limiter import RateLimiter, RejectionMeter
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
        cors_origins=settings.cors_origins,
    )
    processing = build_processing(settings, observability, app.state.secrets)
    app.state.cache = processing.cache
    app.state.resilience = processing.resilience
    app.state.text_processor = processing.text_processor
    # Counted in the cache's shared backend, so limits hold across every instance of the function.
    app.state.rate_limiter = limiter = RateLimiter(
        processing.cache, per_minute=settings.rate_limit_per_minute, overrides=settings.rate_limit_overrides
    )
    # Requests to the AI routes refused as invalid still spend (a quarter of) the caller's budget.
    app.state.rejection_meter = RejectionMeter(limiter, text_processing.METERED_ROUTES + jobs.METERED_ROUTES)
    app.state.idempotency = build_idempotency_store(settings)
    app.state.jobs = build_jobs(settings, processing, observability)
    app.state.health = CachedStatus(
        {
            "authentication": authentication_check(
                app.state.authenticator, production=settings.is_production
            ),
            "ai": ai_configuration_check(settings, app.state.secrets),
            "cache": cache_ping_check(processing.cache),
            "resilience": processing.resilience.health,
        },
        max_age_s=settings.health_cache_seconds,
    )
    return app


app, lambda_handler = finish_cold_start(lambda: create_app(get_settings()))
