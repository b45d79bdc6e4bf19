"""Per-key request budgets over a fixed one-minute window, counted in a `CounterStore`."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, NamedTuple

from textapi_shared.errors import RateLimitExceededError

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.counters import CounterStore

WINDOW_S = 60


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


class RateLimiter:
    def __init__(
        self, store: CounterStore, *, per_minute: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._limit = per_minute
        self._clock = clock

    async def consume(self, subject: str, cost: int = 1) -> RateLimitState:
        """Spend `cost` units of `subject`'s budget (a key hash, never a raw key); 429 when exhausted."""
        now = self._clock()
        window = int(now // WINDOW_S)
        used = await self._store.incr(f"ratelimit:{subject}:{window}", cost, ttl_s=2 * WINDOW_S)
        state = RateLimitState(
            limit=self._limit,
            remaining=max(0, self._limit - used),
            reset_s=max(1, math.ceil((window + 1) * WINDOW_S - now)),
        )
        if used > self._limit:
            raise RateLimitExceededError(
                f"Rate limit of {self._limit} requests per minute exceeded"
                + (f" (this call counts {cost})." if cost > 1 else "."),
                details={"limit": self._limit, "cost": cost, "retry_after_seconds": state.reset_s},
                headers={"Retry-After": str(state.reset_s), **state.headers()},
            )
        return state
