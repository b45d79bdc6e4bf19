from functools import partial

from fastapi import APIRouter

from internal_api.dependencies import Services
from internal_api.schemas import MonitoringHealthResponse, MonitoringMetricsResponse
from textapi_shared.ai.provider import Operation
from textapi_shared.health_checks import ai_configuration_check, authentication_check, cache_check
from textapi_shared.monitoring.health import run_checks
from textapi_shared.resilience.config_source import ssm_check
from textapi_shared.timestamps import utc_timestamp
from textapi_shared.web.access import AdminKeyRoute
from textapi_shared.web.openapi import ADMIN, error_responses

router = APIRouter(
    prefix="/internal/monitoring",
    tags=["monitoring"],
    route_class=AdminKeyRoute,
    responses=error_responses(*ADMIN),
)


@router.get("/health", response_model=MonitoringHealthResponse)
async def monitoring_health(services: Services) -> MonitoringHealthResponse:
    """Every component checked for real: key sources and the Gemini key re-read from SSM, the cache
    backend probed, breakers synced from the store, the resilience parameters read."""
    settings, resilience = services.settings, services.resilience
    overall, components = await run_checks(
        {
            "authentication": authentication_check(
                services.authenticator, production=settings.is_production, force=True
            ),
            "ai": ai_configuration_check(settings, services.secrets, force=True),
            "cache": cache_check(services.cache),
            "resilience": partial(resilience.health, sync=True),
            "ssm": ssm_check(resilience.config),
        }
    )
    return MonitoringHealthResponse(
        status=overall,
        timestamp=utc_timestamp(),
        version=settings.version,
        components={name: c.as_dict() for name, c in components.items()},
        details={"stage": settings.stage},
    )


@router.get("/metrics", response_model=MonitoringMetricsResponse)
async def monitoring_metrics(services: Services) -> MonitoringMetricsResponse:
    """Requests, errors, latency percentiles and cache hit ratio per operation, fleet-wide."""
    operations = [operation.value for operation in Operation]
    requests = await services.request_metrics.snapshot(operations)
    cache = await services.cache_statistics.snapshot(operations)
    per_operation = {
        op: {**requests["operations"][op], "cache_hit_ratio": cache["operations"][op]["hit_ratio"]}
        for op in operations
    }
    return MonitoringMetricsResponse(
        scope="instance" if services.settings.cache_backend == "memory" else "fleet",
        window_s=requests["window_s"],
        operations=per_operation,
        totals={**requests["totals"], "cache_hit_ratio": cache["totals"]["hit_ratio"]},
        timestamp=utc_timestamp(),
    )
