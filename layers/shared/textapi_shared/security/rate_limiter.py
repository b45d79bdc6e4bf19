"""Per-key request budgets over a sliding one-minute window, fleet-wide in the `FleetState`.

A key may spend `RATE_LIMIT_PER_MINUTE` requests (its own limit with `RATE_LIMIT_OVERRIDES`) in any 60
seconds, not per clock minute: no burst at a window edge (see `fleet.windows`). A refused request spends
nothing. Costs are counted in quarters of a request, so a request refused as invalid or one that only
reads can cost less than one that reaches the AI; headers report whole requests.

Each authenticated request has one `Charge`. It is spent once: up front when the request is about to do
something with effects (an AI call, a single-flight lease, a batch, a job), or at the end together with
the request's fleet counters when it only read (a cache hit): one store round trip for both.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, NamedTuple

from textapi_shared.errors import OverBudgetError, RateLimitExceededError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from textapi_shared.fleet.counters import CounterBatch
    from textapi_shared.fleet.protocol import FleetState, Watch
    from textapi_shared.fleet.windows import Admission

WINDOW_S = 60
_UNITS_PER_REQUEST = 4
# An invalid request (422, 400 malformed, 413) costs a quarter of a valid one: rejecting it takes a
# parse and a bounded validation, not an AI call, so a client with a bug is not locked out by a few
# mistakes, yet a flood of them spends the budget at 4x the limit. Reads of stored results (job status,
# usage) cost the same quarter: they are metered, yet polling stays affordable.
INVALID_REQUEST_COST = 0.25
READ_COST = 0.25


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

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """`headers()` as an ASGI response's raw header list holds them."""
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset_s).encode()),
        ]


class RateLimiter:
    def __init__(
        self,
        fleet: FleetState,
        *,
        per_minute: int,
        overrides: Mapping[str, int] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`overrides`: key-hash prefix -> that key's per-minute limit (the longest matching prefix wins)."""
        self._fleet = fleet
        self._limit = per_minute
        self._overrides = sorted((overrides or {}).items(), key=lambda item: -len(item[0]))
        self.clock = clock

    @property
    def limit(self) -> int:
        """The default per-minute limit (`limit_for` gives a key's own)."""
        return self._limit

    def limit_for(self, subject: str) -> int:
        return next((limit for prefix, limit in self._overrides if subject.startswith(prefix)), self._limit)

    def charge(self, subject: str, cost: float = 1, *, limit: int | None = None) -> Charge:
        """`subject`'s charge of `cost` requests (a multiple of 0.25), not spent yet; `subject` is a key
        hash, never a raw key; `limit` replaces the configured one (a key record's own)."""
        return Charge(self, subject, cost, self.limit_for(subject) if limit is None else limit)

    async def consume(self, subject: str, cost: float = 1) -> RateLimitState:
        """Spend `cost` requests of `subject`'s budget now; 429 when it does not fit."""
        return await self.charge(subject, cost).spend()

    async def admit(
        self, charge: Charge, *, counts: CounterBatch | None = None, watch: Watch | None = None
    ) -> Admission:
        """One spend of `charge` in the fleet state, with `counts` added only when admitted."""
        amounts, ttls = counts.take() if counts is not None else ({}, {})
        return await self._fleet.admit(
            f"ratelimit:{charge.subject}",
            max(1, round(charge.cost * _UNITS_PER_REQUEST)),
            limit=charge.limit * _UNITS_PER_REQUEST,
            window_s=WINDOW_S,
            now=self.clock(),
            counts=amounts,
            ttls=ttls,
            watch=watch,
        )

    def state(self, limit: int, admission: Admission) -> RateLimitState:
        return RateLimitState(
            limit=limit,
            remaining=max(0, math.floor(limit - admission.used / _UNITS_PER_REQUEST)),
            reset_s=max(1, math.ceil(admission.reset_at - self.clock())),
        )


class Charge:
    """One request's rate-limit charge, spent at most once (`spend` or `settle`); a refused charge raises
    `RateLimitExceededError` (429, `Retry-After`), and the counters of a refused request are dropped: it
    was not served. `waive` marks a request refused before it could cost anything."""

    __slots__ = ("_limiter", "_state", "admission", "cost", "limit", "subject", "waived")

    def __init__(self, limiter: RateLimiter, subject: str, cost: float, limit: int) -> None:
        self._limiter = limiter
        self.subject = subject
        self.cost = cost
        self.limit = limit
        self.admission: Admission | None = None
        self.waived = False
        self._state: RateLimitState | None = None

    @property
    def spent(self) -> bool:
        return self.admission is not None

    def check_affordable(self, cost: int, *, what: str, field: str) -> None:
        """Refuse, waived, a call that costs more than a whole minute's budget: it could never pass."""
        if cost <= self.limit:
            return
        self.waived = True
        message = f"at most {self.limit} per call: the rate limit is {self.limit} requests per minute"
        raise OverBudgetError(
            f"{what} costs {cost} requests but the rate limit is {self.limit} per minute, so it could "
            "never be accepted: split it.",
            details={
                "limit": self.limit,
                "cost": cost,
                "errors": [
                    {"field": field, "location": ["body", field], "message": message, "type": "too_long"}
                ],
            },
        )

    async def spend(self, *, cost: float | None = None, watch: Watch | None = None) -> RateLimitState:
        """Spend now (at `cost` if given), before anything with effects; spent already: its outcome."""
        if self.admission is None:
            if cost is not None:
                self.cost = cost
            self.admission = await self._limiter.admit(self, watch=watch)
        return self._outcome()

    async def settle(self, counts: CounterBatch, *, watch: Watch | None = None) -> RateLimitState:
        """Spend with `counts` in the same round trip if not spent yet; else write `counts` alone (when
        the spend was admitted; a refused request's counts are dropped)."""
        if self.admission is None:
            self.admission = await self._limiter.admit(self, counts=counts, watch=watch)
        elif self.admission.admitted:
            await counts.flush()
        else:
            counts.take()
        return self._outcome()

    @property
    def state(self) -> RateLimitState | None:
        """The budget after the spend (None before it)."""
        if self._state is None and self.admission is not None:
            self._state = self._limiter.state(self.limit, self.admission)
        return self._state

    def _outcome(self) -> RateLimitState:
        state = self.state
        assert self.admission is not None
        assert state is not None
        if self.admission.admitted:
            return state
        retry_after = max(1, math.ceil(self.admission.retry_at - self._limiter.clock()))
        raise RateLimitExceededError(
            f"Rate limit of {self.limit} requests per minute exceeded"
            + (f" (this call counts {self.cost:g})." if self.cost != 1 else "."),
            details={"limit": self.limit, "cost": self.cost, "retry_after_seconds": retry_after},
            headers={"Retry-After": str(retry_after), **state.headers()},
        )
