"""Entry point of PublicApiFunction: builds the app from routers and exposes `lambda_handler`."""

import gc

gc.disable()  # for the cold start: `finish_cold_start` resumes it

from public_api.config import PublicApiSettings, get_settings
from public_api.routers import auth, health, text_processing
from public_api.services.text_processor import TextProcessor
from textapi_shared.ai.factory import build_provider
from textapi_shared.cache.factory import build_cache
from textapi_shared.cache.single_flight import SingleFlight
from textapi_shared.cache.statistics import CacheStatistics
from textapi_shared.monitoring.health import (
    CachedStatus,
    ai_configuration_check,
    authentication_check,
    cache_ping_check,
)
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.monitoring.request_metrics import RequestMetrics
from textapi_shared.resilience.factory import build_resilience
from textapi_shared.security.prompt_guard import GuardMode, PromptGuard
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
        routers=[health.router, auth.router, text_processing.router],
        cors_origins=settings.cors_origins,
    )
    cache = build_cache(
        settings,
        on_error=observability.cache_error,
        on_oversize=observability.cache_oversize,
    )
    app.state.cache = cache
    app.state.resilience = resilience = build_resilience(
        settings, observability=observability, presets_ssm_parameter=settings.resilience_presets_ssm_parameter
    )
    app.state.text_processor = TextProcessor(
        provider=resilience.wrap(build_provider(settings, app.state.secrets)),
        guard=PromptGuard(GuardMode(settings.prompt_guard_mode)),
        settings=settings,
        observability=observability,
        cache=cache,
        statistics=CacheStatistics(cache),
        request_metrics=RequestMetrics(cache),
        flights=SingleFlight(cache),
    )
    # Counted in the cache's shared backend, so limits hold across every instance of the function.
    app.state.rate_limiter = limiter = RateLimiter(
        cache, per_minute=settings.rate_limit_per_minute, overrides=settings.rate_limit_overrides
    )
    # Requests to the AI routes refused as invalid still spend (a quarter of) the caller's budget.
    app.state.rejection_meter = RejectionMeter(limiter, text_processing.METERED_ROUTES)
    authenticator = app.state.authenticator
    app.state.health = CachedStatus(
        {
            "authentication": authentication_check(authenticator, production=settings.is_production),
            "ai": ai_configuration_check(settings, app.state.secrets),
            "cache": cache_ping_check(cache),
            "resilience": resilience.health,
        },
        max_age_s=settings.health_cache_seconds,
    )
    return app


app, lambda_handler = finish_cold_start(lambda: create_app(get_settings()))
