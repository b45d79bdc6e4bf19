"""Two tiers: the in-process LRU in front of a shared backend (Redis or DynamoDB)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textapi_shared.cache.protocol import CacheStatus, InvalidationResult

if TYPE_CHECKING:
    from textapi_shared.cache.memory_cache import MemoryCache
    from textapi_shared.cache.protocol import CacheEntry, ResponseCache, StoredSize


class TieredCache:
    """Reads try the front, then the back (a back hit is copied to the front with its remaining TTL).

    An invalidation clears this instance's front tier and the back; other instances clear their fronts
    when they see the fleet's cache generation move (`cache.generation`), on the next request's round
    trip. A front copy also lives at most `front_ttl_s`.
    """

    def __init__(self, front: MemoryCache, back: ResponseCache, *, front_ttl_s: float = 60.0) -> None:
        self.front = front
        self.back = back
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
            f"{shared.detail}; front tier: {local.removed} local entries removed",
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
