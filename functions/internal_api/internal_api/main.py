"""Entry point of InternalApiFunction: builds the app from routers and exposes `lambda_handler`."""

import gc

gc.disable()  # for the cold start: `finish_cold_start` resumes it

from internal_api.config import InternalApiSettings, get_settings
from internal_api.routers import cache, monitoring, resilience, root
from textapi_shared.cache.factory import build_cache
from textapi_shared.cache.statistics import CacheStatistics
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.monitoring.request_metrics import RequestMetrics
from textapi_shared.resilience.factory import build_resilience
from textapi_shared.web.app_factory import create_api
from textapi_shared.web.lambda_handler import finish_cold_start


def create_app(settings: InternalApiSettings):
    observability = build_observability(settings)
    app = create_api(
        settings,
        observability,
        title="textapi internal",
        description="Administration of cache, resilience, monitoring and configuration.",
        routers=[root.router, monitoring.router, cache.router, resilience.router],
        cors_origins=settings.internal_cors_origins,
        docs_prefix="/internal",
        docs_enabled=not settings.disable_internal_docs,
    )
    app.state.cache = build_cache(settings, on_error=observability.cache_error)
    app.state.cache_statistics = CacheStatistics(app.state.cache)
    app.state.request_metrics = RequestMetrics(app.state.cache)
    app.state.resilience = build_resilience(
        settings, observability=observability, presets_ssm_parameter=settings.resilience_presets_ssm_parameter
    )
    return app


app, lambda_handler = finish_cold_start(lambda: create_app(get_settings()))
