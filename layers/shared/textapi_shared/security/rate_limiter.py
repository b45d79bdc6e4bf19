"""Per-key request budgets over a fixed one-minute window, counted in a `CounterStore`.

Costs are counted in quarters of a request, so a request refused as invalid can be charged less than
one that reaches the AI (`INVALID_REQUEST_COST`); headers report whole requests.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from textapi_shared.errors import OverBudgetError, RateLimitExceededError
from textapi_shared.security.api_keys import key_hash

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from starlette.types import Scope

    from textapi_shared.counters import CounterStore
    from textapi_shared.errors import ApiError
    from textapi_shared.security.api_keys import Principal

WINDOW_S = 60
_UNITS_PER_REQUEST = 4
# An invalid request (422, 400 malformed, 413) costs a quarter of a valid one: rejecting it takes a
# parse and a bounded validation, not an AI call, so a client with a bug is not locked out by a few
# mistakes, yet a flood of them (issue 11's 690,000-item batches) spends the budget at 4x the limit.
INVALID_REQUEST_COST = 0.25


class RateLimitState(NamedTuple):
    limit: int
    remaining: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_s),
        }


def rate_limit_subject(principal: Principal, client_host: str | None) -> str:
    """Whose budget a call spends: the key's hash, or (open mode only) the client address's hash."""
    if principal.key_hash:
        return principal.key_hash
    return f"open:{key_hash(client_host or 'unknown')}"


class RateLimiter:
    def __init__(
        self, store: CounterStore, *, per_minute: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._limit = per_minute
        self._clock = clock

    @property
    def limit(self) -> int:
        return self._limit

    def check_affordable(self, cost: int, *, what: str, field: str) -> None:
        """Refuse, before charging anything, a call that costs more than a whole minute's budget."""
        if cost > self._limit:
            message = f"at most {self._limit} per call: the rate limit is {self._limit} requests per minute"
            raise OverBudgetError(
                f"{what} costs {cost} requests but the rate limit is {self._limit} per minute, so it could "
                "never be accepted: split it.",
                details={
                    "limit": self._limit,
                    "cost": cost,
                    "errors": [
                        {"field": field, "location": ["body", field], "message": message, "type": "too_long"}
                    ],
                },
            )

    async def consume(self, subject: str, cost: float = 1) -> RateLimitState:
        """Spend `cost` requests (a multiple of 0.25) of `subject`'s budget; 429 when exhausted.

        `subject` is a key hash, never a raw key.
        """
        now = self._clock()
        window = int(now // WINDOW_S)
        units = max(1, round(cost * _UNITS_PER_REQUEST))
        used_units = await self._store.incr(f"ratelimit:{subject}:{window}", units, ttl_s=2 * WINDOW_S)
        used = used_units / _UNITS_PER_REQUEST
        state = RateLimitState(
            limit=self._limit,
            remaining=max(0, math.floor(self._limit - used)),
            reset_s=max(1, math.ceil((window + 1) * WINDOW_S - now)),
        )
        if used > self._limit:
            raise RateLimitExceededError(
                f"Rate limit of {self._limit} requests per minute exceeded"
                + (f" (this call counts {cost:g})." if cost != 1 else "."),
                details={"limit": self._limit, "cost": cost, "retry_after_seconds": state.reset_s},
                headers={"Retry-After": str(state.reset_s), **state.headers()},
            )
        return state


class RejectionMeter:
    """Charges `INVALID_REQUEST_COST` for a request to a metered route refused as invalid.

    Called by the error mapping with the request's scope (where the access gate left the caller) and
    the error; returns the rate-limit headers, or raises the 429 once the budget is spent. A request
    refused for costing more than the whole budget (`OverBudgetError`) is not charged.
    """

    def __init__(self, limiter: RateLimiter, routes: Collection[tuple[str, str]]) -> None:
        self._limiter = limiter
        self._routes = frozenset(routes)

    async def __call__(self, scope: Scope, error: ApiError) -> dict[str, str]:
        from starlette._utils import get_route_path

        principal: Any = (scope.get("state") or {}).get("principal")
        if (
            principal is None
            or isinstance(error, OverBudgetError)
            or (scope["method"], get_route_path(scope)) not in self._routes
        ):
            return {}
        client = scope.get("client")
        subject = rate_limit_subject(principal, client[0] if client else None)
        state = await self._limiter.consume(subject, INVALID_REQUEST_COST)
        return state.headers()
