from fastapi import APIRouter, Request
from fastapi.routing import APIRoute

from internal_api.dependencies import Services
from internal_api.routers import INDEXED
from internal_api.schemas import EndpointInfo, ServiceInfoResponse
from textapi_shared.web.openapi import error_responses

router = APIRouter(prefix="/internal", tags=["service"], responses=error_responses(500))


# `/internal` matches the HTTP API route `ANY /internal` exactly. `/internal/` is 404 like every path
# with a trailing slash (API Gateway sends it to `$default`, the public function, anyway).
@router.get("", response_model=ServiceInfoResponse)
async def service_info(request: Request, services: Services) -> ServiceInfoResponse:
    """Service information and the index of internal endpoints (no key needed)."""
    # From the routers themselves: building the OpenAPI document would cost ~100 ms on a cold start.
    endpoints = [
        EndpointInfo(
            path=route.path,
            methods=sorted(route.methods),
            summary=route.summary or route.name.replace("_", " ").title(),
        )
        for indexed in (router, *INDEXED)
        for route in indexed.routes
        if isinstance(route, APIRoute) and route.include_in_schema
    ]
    return ServiceInfoResponse(
        service=services.settings.service_name,
        version=services.settings.version,
        stage=services.settings.stage,
        docs_url=None if services.settings.disable_internal_docs else "/internal/docs",
        endpoints=endpoints,
    )
