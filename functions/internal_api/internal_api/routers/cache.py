from fastapi import APIRouter

from internal_api.cache_schemas import (
    CacheInvalidateRequest,
    CacheInvalidateResponse,
    CacheMetricsResponse,
    CacheStatusResponse,
)
from internal_api.dependencies import Services
from textapi_shared.ai.provider import Operation
from textapi_shared.cache.keys import matches_every_entry
from textapi_shared.errors import InputValidationError
from textapi_shared.web.access import AdminKeyRoute
from textapi_shared.web.openapi import ADMIN, WITH_BODY, error_responses

router = APIRouter(
    prefix="/internal/cache", tags=["cache"], route_class=AdminKeyRoute, responses=error_responses(*ADMIN)
)
OPERATIONS = [operation.value for operation in Operation]


def _refused(message: str, field: str, reason: str, kind: str) -> InputValidationError:
    location = ["body"] if field == "body" else ["body", field]
    error = {"field": field, "location": location, "message": reason, "type": kind}
    return InputValidationError(message, details={"errors": [error]})


@router.get("/status", response_model=CacheStatusResponse)
async def cache_status(services: Services) -> CacheStatusResponse:
    """Backend, connectivity (probed, with latency), entries or memory, and the fleet-wide hit ratio."""
    status = (await services.cache.status()).as_dict()
    snapshot = await services.cache_statistics.snapshot(OPERATIONS)
    return CacheStatusResponse(**status, hit_ratio=snapshot["totals"]["hit_ratio"])


@router.get("/metrics", response_model=CacheMetricsResponse)
async def cache_metrics(services: Services) -> CacheMetricsResponse:
    """Hits and misses per operation, get/set latency and compression ratio, fleet-wide."""
    snapshot = await services.cache_statistics.snapshot(OPERATIONS)
    return CacheMetricsResponse(backend=services.cache.name, **snapshot)


@router.post("/invalidate", response_model=CacheInvalidateResponse, responses=error_responses(*WITH_BODY))
async def cache_invalidate(body: CacheInvalidateRequest, services: Services) -> CacheInvalidateResponse:
    """Remove entries by `pattern` and/or `operation` (everything only with `all: true`); every instance
    stops serving them from memory at its next request; 503 if the backend failed, since then it did not
    happen."""
    if not (body.pattern or body.operation or body.everything):
        raise _refused(
            "Say what to invalidate: a `pattern`, an `operation`, or `all: true` to wipe everything.",
            "body",
            "no target",
            "missing",
        )
    if body.everything and (body.pattern or body.operation):
        raise _refused(
            "`all: true` wipes every entry: send it alone, or drop it to select by pattern or operation.",
            "all",
            "all: true cannot be combined with a pattern or an operation",
            "conflict",
        )
    if body.pattern and not body.operation and matches_every_entry(body.pattern):
        raise _refused(
            f"The pattern {body.pattern[:40]!r} matches every entry: wiping everything needs `all: true`.",
            "pattern",
            "matches every entry; send all: true to wipe everything",
            "match_everything",
        )
    result = await services.cache.invalidate(
        pattern=body.pattern, operation=body.operation, everything=body.everything
    )
    generation = await services.generation.bump(services.fleet)
    detail = f"{result.detail}; cache generation {generation}: other instances drop their memory tier"
    return CacheInvalidateResponse(removed=result.removed, method=result.method, detail=detail)
