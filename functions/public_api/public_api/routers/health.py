from fastapi import APIRouter

from public_api.dependencies import Services
from public_api.schemas import HealthResponse
from textapi_shared.timestamps import utc_timestamp
from textapi_shared.web.openapi import error_responses

router = APIRouter(prefix="/v1", tags=["health"], responses=error_responses(500))


@router.get("/health", response_model=HealthResponse)
async def health(services: Services) -> HealthResponse:
    """Overall status (healthy, degraded, unhealthy); always 200. Details need an admin key:
    `GET /internal/monitoring/health`."""
    status = await services.health.get()
    return HealthResponse(status=status, timestamp=utc_timestamp(), version=services.settings.version)
