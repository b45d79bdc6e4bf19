from fastapi import APIRouter

from public_api.dependencies import Authenticator, Processor, ResilienceServices, Settings, SharedCache
from public_api.schemas import HealthResponse
from textapi_shared.monitoring.health import (
    HealthStatus,
    ai_provider_check,
    authentication_check,
    cache_check,
    run_checks,
)
from textapi_shared.timestamps import utc_timestamp
from textapi_shared.web.openapi import error_responses

router = APIRouter(prefix="/v1", tags=["health"], responses=error_responses(500))


@router.get("/health", response_model=HealthResponse)
async def health(
    settings: Settings,
    authenticator: Authenticator,
    processor: Processor,
    cache: SharedCache,
    resilience: ResilienceServices,
) -> HealthResponse:
    """Service health and the state of each component; always 200, read `status`."""
    overall, components = await run_checks(
        {
            "authentication": authentication_check(authenticator, production=settings.is_production),
            "ai": ai_provider_check(processor.provider),
            "cache": cache_check(cache),
            "resilience": resilience.health,
        }
    )
    return HealthResponse(
        status=overall,
        timestamp=utc_timestamp(),
        version=settings.version,
        ai_model_available=components["ai"].status is HealthStatus.HEALTHY,
        cache_healthy=components["cache"].status is HealthStatus.HEALTHY,
        resilience_healthy=components["resilience"].status is HealthStatus.HEALTHY,
        components={name: c.as_dict() for name, c in components.items()},
    )
