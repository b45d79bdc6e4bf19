"""Two tiers: the in-process LRU in front of a shared backend (Redis or DynamoDB)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textapi_shared.cache.protocol import CacheStatus, InvalidationResult, KeptByCounters

if TYPE_CHECKING:
    from textapi_shared.cache.memory_cache import MemoryCache
    from textapi_shared.cache.protocol import Cache, CacheEntry, StoredSize


class TieredCache(KeptByCounters):
    """Reads try the front, then the back (a back hit is copied to the front with its remaining TTL).

    An invalidation clears this instance's front tier but cannot reach other instances' fronts, so a
    front copy lives at most `front_ttl_s`: that bounds how long any instance serves a removed entry.
    Counters and leases always go to the back, which makes them fleet-wide.
    """

    def __init__(self, front: MemoryCache, back: Cache, *, front_ttl_s: float = 60.0) -> None:
        self.front = front
        self.back = back
        self.counters = back  # counters, leases and budgets are the shared tier's alone
        self.name = f"tiered({front.name}+{back.name})"
        self._front_ttl_s = front_ttl_s

    async def get(self, key: str) -> CacheEntry | None:
        local = await self.front.get(key)
        if local is not None and local.fresh:
            return local
        shared = await self.back.get(key)
        if shared is None:
            return local  # a stale local copy still beats nothing
        self.front.put_entry(key, shared, keep_for_s=self._front_ttl_s)
        return shared

    async def set(self, key: str, value: dict[str, Any], *, ttl_s: int) -> StoredSize | None:
        local = await self.front.set(key, value, ttl_s=ttl_s, keep_for_s=self._front_ttl_s)
        shared = await self.back.set(key, value, ttl_s=ttl_s)
        return shared if shared is not None else local

    async def invalidate(
        self, *, pattern: str | None = None, operation: str | None = None, everything: bool = False
    ) -> InvalidationResult:
        """The front is cleared first, so it is clean even when the back raises."""
        local = await self.front.invalidate(pattern=pattern, operation=operation, everything=everything)
        shared = await self.back.invalidate(pattern=pattern, operation=operation, everything=everything)
        return InvalidationResult(
            shared.removed,
            shared.method,
            f"{shared.detail}; front tier: {local.removed} local entries removed "
            f"(other instances' copies expire within {self._front_ttl_s:g} s)",
        )

    async def status(self) -> CacheStatus:
        local = await self.front.status()
        shared = await self.back.status()
        return CacheStatus(
            backend=self.name,
            connected=shared.connected,
            latency_ms=shared.latency_ms,
            entries=shared.entries,
            memory_bytes=shared.memory_bytes,
            detail=f"front: {local.detail}; back: {shared.detail}",
            tiers=(local, shared),
        )

    async def ping(self) -> float:
        return await self.back.ping()
