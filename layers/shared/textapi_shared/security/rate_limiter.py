"""Per-key request budgets over a sliding one-minute window, fleet-wide in a `CounterStore`.

A key may spend `RATE_LIMIT_PER_MINUTE` requests (its own limit with `RATE_LIMIT_OVERRIDES`) in any 60
seconds, not per clock minute: no burst at a window edge (see `textapi_shared.windows`). A refused
request spends nothing. Costs are counted in quarters of a request, so a request refused as invalid
can be charged less than one that reaches the AI (`INVALID_REQUEST_COST`); headers report whole
requests.

A request's charge (`Charge`) is spent up front when the request is about to do something with
effects (an AI call, a single-flight lease, a batch), and otherwise, when it only read (a cache hit),
at the end together with the request's fleet counters: one store round trip for both.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from textapi_shared.errors import OverBudgetError, RateLimitExceededError
from textapi_shared.security.api_keys import key_hash

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping

    from starlette.types import Scope

    from textapi_shared.counters import CounterBatch, CounterStore
    from textapi_shared.errors import ApiError
    from textapi_shared.security.api_keys import Principal
    from textapi_shared.windows import Admission

WINDOW_S = 60
_UNITS_PER_REQUEST = 4
# An invalid request (422, 400 malformed, 413) costs a quarter of a valid one: rejecting it takes a
# parse and a bounded validation, not an AI call, so a client with a bug is not locked out by a few
# mistakes, yet a flood of them (issue 11's 690,000-item batches) spends the budget at 4x the limit.
INVALID_REQUEST_COST = 0.25


class RateLimitState(NamedTuple):
    limit: int
    remaining: int
    reset_s: int  # until the oldest counted request leaves the window (the budget starts coming back)

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
        self,
        store: CounterStore,
        *,
        per_minute: int,
        overrides: Mapping[str, int] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`overrides`: key-hash prefix -> that key's per-minute limit (the longest matching prefix wins)."""
        self._store = store
        self._limit = per_minute
        self._overrides = sorted((overrides or {}).items(), key=lambda item: -len(item[0]))
        self._clock = clock

    @property
    def limit(self) -> int:
        """The default per-minute limit (`limit_for` gives a key's own)."""
        return self._limit

    def limit_for(self, subject: str) -> int:
        return next((limit for prefix, limit in self._overrides if subject.startswith(prefix)), self._limit)

    def check_affordable(self, cost: int, *, subject: str, what: str, field: str) -> None:
        """Refuse, before charging anything, a call that costs more than a whole minute's budget."""
        limit = self.limit_for(subject)
        if cost > limit:
            message = f"at most {limit} per call: the rate limit is {limit} requests per minute"
            raise OverBudgetError(
                f"{what} costs {cost} requests but the rate limit is {limit} per minute, so it could "
                "never be accepted: split it.",
                details={
                    "limit": limit,
                    "cost": cost,
                    "errors": [
                        {"field": field, "location": ["body", field], "message": message, "type": "too_long"}
                    ],
                },
            )

    def charge(self, subject: str, cost: float = 1) -> Charge:
        """`subject`'s charge of `cost` requests (a multiple of 0.25), not spent yet; `subject` is a key
        hash, never a raw key."""
        return Charge(self, subject, cost)

    async def consume(self, subject: str, cost: float = 1) -> RateLimitState:
        """Spend `cost` requests of `subject`'s budget now; 429 when it does not fit."""
        return await self.charge(subject, cost).now()

    async def _spend(self, charge: Charge, counts: CounterBatch | None) -> Admission:
        amounts, ttls = counts.take() if counts is not None else ({}, {})
        return await self._store.admit(
            f"ratelimit:{charge.subject}",
            max(1, round(charge.cost * _UNITS_PER_REQUEST)),
            limit=charge.limit * _UNITS_PER_REQUEST,
            window_s=WINDOW_S,
            now=self._clock(),
            counts=amounts,
            ttls=ttls,
        )

    def _state(self, limit: int, admission: Admission) -> RateLimitState:
        now = self._clock()
        return RateLimitState(
            limit=limit,
            remaining=max(0, math.floor(limit - admission.used / _UNITS_PER_REQUEST)),
            reset_s=max(1, math.ceil(admission.reset_at - now)),
        )


class Charge:
    """One request's rate-limit charge: spent by `now` (before anything with effects) or by `settle`
    (at the end, with the request's counters in the same round trip). A refused charge raises
    `RateLimitExceededError` (429, `Retry-After`) from whichever spends it, and the counters of a refused
    request are dropped: it was not served."""

    __slots__ = ("_admission", "_limiter", "_state", "cost", "limit", "subject")

    def __init__(self, limiter: RateLimiter, subject: str, cost: float) -> None:
        self._limiter = limiter
        self.subject = subject
        self.cost = cost
        self.limit = limiter.limit_for(subject)
        self._admission: Admission | None = None
        self._state: RateLimitState | None = None

    @property
    def spent(self) -> bool:
        return self._admission is not None

    async def now(self) -> RateLimitState:
        if self._admission is None:
            self._admission = await self._limiter._spend(self, None)
        return self._outcome()

    async def settle(self, counts: CounterBatch) -> RateLimitState:
        """Spend the charge with `counts` if it is not spent yet; else write `counts` (if admitted)."""
        if self._admission is None:
            self._admission = await self._limiter._spend(self, counts)
        elif self._admission.admitted:
            await counts.flush()
        else:
            counts.take()
        return self._outcome()

    def headers(self) -> dict[str, str]:
        return {} if self._state is None else self._state.headers()

    def _outcome(self) -> RateLimitState:
        assert self._admission is not None
        if self._state is None:
            self._state = self._limiter._state(self.limit, self._admission)
        state = self._state
        if self._admission.admitted:
            return state
        retry_after = max(1, math.ceil(self._admission.retry_at - self._limiter._clock()))
        raise RateLimitExceededError(
            f"Rate limit of {self.limit} requests per minute exceeded"
            + (f" (this call counts {self.cost:g})." if self.cost != 1 else "."),
            details={"limit": self.limit, "cost": self.cost, "retry_after_seconds": retry_after},
            headers={"Retry-After": str(retry_after), **state.headers()},
        )


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
