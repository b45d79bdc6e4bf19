from fastapi import APIRouter

from internal_api.cache_schemas import (
    CacheInvalidateRequest,
    CacheInvalidateResponse,
    CacheMetricsResponse,
    CacheStatusResponse,
)
from internal_api.dependencies import AdminKey, CacheStats, SharedCache
from textapi_shared.ai.provider import Operation
from textapi_shared.errors import InputValidationError

router = APIRouter(prefix="/internal/cache", tags=["cache"])
OPERATIONS = [operation.value for operation in Operation]


@router.get("/status", response_model=CacheStatusResponse)
async def cache_status(_admin: AdminKey, cache: SharedCache, statistics: CacheStats) -> CacheStatusResponse:
    """Backend, connectivity (probed, with latency), entries or memory, and the fleet-wide hit ratio."""
    status = (await cache.status()).as_dict()
    snapshot = await statistics.snapshot(OPERATIONS)
    return CacheStatusResponse(**status, hit_ratio=snapshot["totals"]["hit_ratio"])


@router.get("/metrics", response_model=CacheMetricsResponse)
async def cache_metrics(_admin: AdminKey, cache: SharedCache, statistics: CacheStats) -> CacheMetricsResponse:
    """Hits and misses per operation, get/set latency and compression ratio, fleet-wide."""
    snapshot = await statistics.snapshot(OPERATIONS)
    return CacheMetricsResponse(backend=cache.name, **snapshot)


@router.post("/invalidate", response_model=CacheInvalidateResponse)
async def cache_invalidate(
    body: CacheInvalidateRequest, _admin: AdminKey, cache: SharedCache
) -> CacheInvalidateResponse:
    """Remove entries by `pattern` and/or `operation` (everything only with `all: true`); 503 if the
    backend failed, since then it did not happen."""
    if not (body.pattern or body.operation or body.everything):
        raise InputValidationError(
            "Say what to invalidate: a `pattern`, an `operation`, or `all: true` to wipe everything.",
            details={
                "errors": [{"field": "body", "location": ["body"], "message": "no target", "type": "missing"}]
            },
        )
    result = await cache.invalidate(
        pattern=body.pattern, operation=body.operation, everything=body.everything
    )
    return CacheInvalidateResponse(removed=result.removed, method=result.method, detail=result.detail)
