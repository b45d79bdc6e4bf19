from __future__ import annotations

from functools import partial

from fastapi import APIRouter

from internal_api.dependencies import AdminKey, Authenticator, ResilienceServices, Settings, SharedCache
from internal_api.schemas import MonitoringHealthResponse
from textapi_shared.monitoring.health import authentication_check, cache_check, run_checks
from textapi_shared.web.errors import utc_timestamp

router = APIRouter(prefix="/internal/monitoring", tags=["monitoring"])


@router.get("/health", response_model=MonitoringHealthResponse)
async def monitoring_health(
    _admin: AdminKey,
    settings: Settings,
    authenticator: Authenticator,
    cache: SharedCache,
    resilience: ResilienceServices,
) -> MonitoringHealthResponse:
    """Every component checked for real, key sources re-read (not from cache)."""
    overall, components = await run_checks(
        {
            "authentication": authentication_check(
                authenticator, production=settings.is_production, force=True
            ),
            "cache": cache_check(cache),
            "resilience": partial(resilience.health, sync=True),
        }
    )
    return MonitoringHealthResponse(
        status=overall,
        timestamp=utc_timestamp(),
        version=settings.version,
        components={name: c.as_dict() for name, c in components.items()},
        details={"stage": settings.stage},
    )
