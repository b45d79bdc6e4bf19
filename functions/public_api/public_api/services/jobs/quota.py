"""`JOB_ITEMS_PER_HOUR`: the items a key may submit as jobs per hour (a fixed window), counted in
the fleet state like the per-minute rate limit, and kept apart from it."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from textapi_shared.errors import InputValidationError, RateLimitExceededError

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.fleet.protocol import FleetState

WINDOW_S = 3600


class JobQuota:
    def __init__(self, store: FleetState, *, per_hour: int, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._limit = per_hour
        self._clock = clock

    def _key(self, subject: str) -> tuple[str, float]:
        now = self._clock()
        window = int(now // WINDOW_S)
        return f"jobquota:{subject}:{window}", (window + 1) * WINDOW_S - now

    async def consume(self, subject: str, items: int) -> None:
        """Charge `items`; 429 (charging nothing) when the hour's quota would be exceeded."""
        if items > self._limit:
            raise InputValidationError(
                f"A job of {items} items exceeds the quota of {self._limit} items per hour "
                "(JOB_ITEMS_PER_HOUR).",
                details={"limit": self._limit, "items": items},
            )
        key, reset_s = self._key(subject)
        used = await self._store.incr(key, items, ttl_s=2 * WINDOW_S)
        if used > self._limit:
            await self._store.incr(key, -items, ttl_s=2 * WINDOW_S)
            retry_after = max(1, math.ceil(reset_s))
            raise RateLimitExceededError(
                f"Job quota of {self._limit} items per hour exceeded (this job has {items}).",
                details={"limit": self._limit, "items": items, "retry_after_seconds": retry_after},
                headers={"Retry-After": str(retry_after)},
            )

    async def refund(self, subject: str, items: int) -> None:
        """Give back a charge for a job that was not accepted after all."""
        key, _ = self._key(subject)
        await self._store.incr(key, -items, ttl_s=2 * WINDOW_S)
