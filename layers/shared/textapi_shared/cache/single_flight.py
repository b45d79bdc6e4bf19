"""One AI call per distinct cache key: within an instance, and across the fleet through a lease.

In one instance, concurrent requests for a key share one computation (`share`): the first runs it,
the others await its outcome, answer or error (batch duplicates included). Across instances, the one
computation takes a short lease on the key in the shared store (`claim`); an instance that misses
while another holds it waits a bounded time for the cache to fill and answers from it, or goes on
by itself when the lease lapses, its holder gives it up without an answer, or the wait is over.

Leases are the fleet state's, answers the cache's. Nothing here fails a request: a store that cannot
answer grants the lease (`GuardedFleetState`), a lease outlives its holder by at most its TTL, and a
wait never exceeds what the caller allows. With the memory backend every lease is granted: sharing
stays within the instance.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textapi_shared.cache.protocol import CacheEntry, ResponseCache
    from textapi_shared.fleet.protocol import FleetState

T = TypeVar("T")


class Claim(NamedTuple):
    """How a computation may go on: with another request's answer, holding the lease, or alone."""

    entry: CacheEntry | None = None  # the answer another request stored while this one waited
    owner: str | None = None  # this computation holds the lease under this token: release it


class SingleFlight:
    def __init__(
        self,
        cache: ResponseCache,
        fleet: FleetState,
        *,
        poll_min_s: float = 0.02,
        poll_max_s: float = 0.25,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cache = cache
        self._fleet = fleet
        self._poll_min_s = poll_min_s
        self._poll_max_s = poll_max_s
        self._sleep = sleep
        self._monotonic = monotonic
        self._flights: dict[str, asyncio.Future[Any]] = {}

    async def share(self, key: str, compute: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """`(result, joined)`: the first caller for `key` runs `compute`; callers that come while it runs
        get its result or its error (`joined` True) instead of computing again. When the first caller is
        cancelled (a batch item cut off by the deadline) or refused for itself (an error marked
        `personal`), the waiters do not inherit that: one of them computes in its place."""
        while True:
            flight = self._flights.get(key)
            if flight is None:
                return await self._lead(key, compute), False
            try:
                return await asyncio.shield(flight), True
            except asyncio.CancelledError:
                if flight.cancelled():  # the leader was cancelled, not this caller: take over
                    continue
                raise
            except Exception as exc:
                if getattr(exc, "personal", False):  # the leader's own refusal (its key's budget)
                    continue
                raise

    async def _lead(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        flight: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            result = await compute()
        except asyncio.CancelledError:
            flight.cancel()
            raise
        except BaseException as exc:
            flight.set_exception(exc)
            flight.exception()  # retrieved: nobody waiting is not an unhandled error
            raise
        else:
            flight.set_result(result)
            return result
        finally:
            if self._flights.get(key) is flight:
                del self._flights[key]

    async def claim(self, key: str, *, lease_s: float, wait_s: float, not_before: float = 0.0) -> Claim:
        """The fleet-wide step before computing `key`: take the lease, or wait up to `wait_s` for the
        answer of whoever holds it (an entry stored at `not_before` or later, fresh). Each round takes the
        lease if it is free and then reads the cache, so an answer stored just before the lease was given
        up is still found, and the one computation never runs twice in a row."""
        owner = secrets.token_hex(8)
        give_up_at = self._monotonic() + max(0.0, wait_s)
        pause = self._poll_min_s
        while True:
            acquired = await self._fleet.acquire_lease(key, owner, lease_s)
            entry = await self._cache.get(key)
            if entry is not None and entry.fresh and entry.stored_at >= not_before:
                if acquired:
                    await self._fleet.release_lease(key, owner)
                return Claim(entry=entry)
            if acquired:
                return Claim(owner=owner)
            left = give_up_at - self._monotonic()
            if left <= 0:
                return Claim()  # waited long enough: compute without the lease
            await self._sleep(min(pause, left))
            pause = min(pause * 1.5, self._poll_max_s)

    async def release(self, key: str, claim: Claim) -> None:
        """Give up the lease `claim` holds, if any (after the answer is stored, or the call failed)."""
        if claim.owner is not None:
            await self._fleet.release_lease(key, claim.owner)
