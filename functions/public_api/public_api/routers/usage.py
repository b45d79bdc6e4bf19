"""What the calling key has used: today and this month against its budgets."""

import time

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from public_api.dependencies import Context, Services
from textapi_shared.tenancy.records import TokenBudget
from textapi_shared.web.access import PublicKeyRoute
from textapi_shared.web.dependencies import METERED_READ
from textapi_shared.web.openapi import KEYED, error_responses

router = APIRouter(
    prefix="/v1", tags=["usage"], route_class=PublicKeyRoute, responses=error_responses(*KEYED)
)


class PeriodUsage(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built at the first /v1/usage, not at every cold start

    tokens_billed: int
    budget: int | None
    remaining: int | None
    resets_at: str


class DayUsageResponse(PeriodUsage):
    date: str


class MonthUsageResponse(PeriodUsage):
    month: str


class UsageResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    key_id: str
    name: str | None
    day: DayUsageResponse
    month: MonthUsageResponse
    requests: int
    ai_calls: int
    cache_hits: int
    tokens_saved: int
    estimated_cost_usd: float


@router.get(
    "/usage", response_model=UsageResponse, dependencies=[METERED_READ], responses=error_responses(429)
)
async def usage(ctx: Context, services: Services) -> UsageResponse:
    """Tokens billed today and this month against the key's budgets (null: unlimited), and today's requests,
    AI calls, cache hits, tokens saved and estimated cost (UTC days); costs a quarter request."""
    principal, subject = ctx.principal, ctx.meter.subject
    assert principal is not None
    record = principal.record
    budget = record.token_budget if record is not None else TokenBudget()
    from textapi_shared.tenancy.reports import UsageReports  # here: the usage route is a rare one

    report = await UsageReports(services.meters.usage, services.fleet).current(subject, budget, time.time())
    return UsageResponse(key_id=subject, name=record.name if record is not None else None, **report)
