from __future__ import annotations

from fastapi import APIRouter, Request

from internal_api.dependencies import Settings
from internal_api.schemas import EndpointInfo, ServiceInfoResponse

router = APIRouter(prefix="/internal", tags=["service"])


# `/internal` matches the HTTP API route `ANY /internal` exactly; `/internal/` is served too.
@router.get("", response_model=ServiceInfoResponse)
@router.get("/", response_model=ServiceInfoResponse, include_in_schema=False)
async def service_info(request: Request, settings: Settings) -> ServiceInfoResponse:
    """Service information and the index of internal endpoints (no key needed)."""
    # The OpenAPI document is the one complete list of routes, docs on or off.
    paths = request.app.openapi()["paths"]
    endpoints = [
        EndpointInfo(
            path=path, methods=sorted(m.upper() for m in ops), summary=next(iter(ops.values())).get("summary")
        )
        for path, ops in paths.items()
    ]
    return ServiceInfoResponse(
        service=settings.service_name,
        version=settings.version,
        stage=settings.stage,
        docs_url=request.app.docs_url,
        endpoints=endpoints,
    )
