"""The in-process cache: an LRU bounded by entries and by encoded bytes, with TTL and stale grace.

Alone it is the `memory` backend (per execution environment); in front of a shared backend it is the
first tier of `TieredCache`. Values are stored encoded, so a caller can never mutate a cached dict.
Meant for one event loop: no method awaits while it touches the table.
"""

from __future__ import annotations

import fnmatch
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, NamedTuple

from textapi_shared.cache.codec import decode, encode
from textapi_shared.cache.keys import operation_of
from textapi_shared.cache.protocol import (
    CacheEntry,
    CacheStatus,
    InvalidationResult,
    StoredSize,
    require_invalidation_target,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.config import SharedSettings


class _Slot(NamedTuple):
    data: bytes
    stored_at: float
    expires_at: float
    keep_until: float  # after this the slot is gone, stale or not


class MemoryCache:
    name = "memory"

    def __init__(
        self,
        *,
        max_entries: int = 1000,
        max_bytes: int = 32 * 1024 * 1024,
        compression_threshold: int = 1000,
        stale_grace_s: float = 86_400,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._bytes = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._threshold = compression_threshold
        self._grace = stale_grace_s
        self._clock = clock
        self.evictions = 0

    @classmethod
    def from_settings(
        cls, settings: SharedSettings, *, clock: Callable[[], float] = time.time
    ) -> MemoryCache:
        return cls(
            max_entries=settings.cache_memory_max_entries,
            max_bytes=settings.cache_memory_max_bytes,
            compression_threshold=settings.cache_compression_threshold,
            stale_grace_s=settings.cache_stale_grace_seconds,
            clock=clock,
        )

    async def get(self, key: str) -> CacheEntry | None:
        slot = self._slots.get(key)
        if slot is None:
            return None
        now = self._clock()
        if now >= slot.keep_until:
            self._drop(key)
            return None
        self._slots.move_to_end(key)
        return CacheEntry(decode(slot.data), slot.stored_at, slot.expires_at, checked_at=now)

    async def set(
        self, key: str, value: dict[str, Any], *, ttl_s: int, keep_for_s: float | None = None
    ) -> StoredSize | None:
        """`keep_for_s` caps how long the slot lives (the front tier uses it to bound staleness)."""
        now = self._clock()
        encoded = encode(value, threshold=self._threshold)
        keep_until = now + ttl_s + self._grace
        if keep_for_s is not None:
            keep_until = min(keep_until, now + keep_for_s)
        if not self._put(key, _Slot(encoded.data, now, now + ttl_s, keep_until)):
            return None
        return StoredSize(encoded.raw_bytes, encoded.stored_bytes)

    def put_entry(self, key: str, entry: CacheEntry, *, keep_for_s: float | None = None) -> None:
        """Copy an entry read elsewhere, keeping its own timestamps (the remaining TTL is preserved)."""
        keep_until = entry.expires_at + self._grace
        if keep_for_s is not None:
            keep_until = min(keep_until, self._clock() + keep_for_s)
        data = encode(entry.value, threshold=self._threshold).data
        self._put(key, _Slot(data, entry.stored_at, entry.expires_at, keep_until))

    async def invalidate(
        self, *, pattern: str | None = None, operation: str | None = None, everything: bool = False
    ) -> InvalidationResult:
        require_invalidation_target(pattern, operation, everything)
        if everything:
            removed = len(self._slots)
            self.clear()
            return InvalidationResult(removed, "memory_clear", f"removed {removed} entries")
        doomed = [
            key
            for key in self._slots
            if (pattern is None or fnmatch.fnmatchcase(key, pattern))
            and (operation is None or operation_of(key) == operation)
        ]
        for key in doomed:
            self._drop(key)
        return InvalidationResult(len(doomed), "memory_match", f"removed {len(doomed)} entries")

    async def status(self) -> CacheStatus:
        return CacheStatus(
            backend=self.name,
            connected=True,
            latency_ms=0.0,
            entries=len(self._slots),
            memory_bytes=self._bytes,
            detail=(
                f"{len(self._slots)}/{self._max_entries} entries, {self._bytes}/{self._max_bytes} bytes, "
                f"{self.evictions} evictions"
            ),
        )

    async def ping(self) -> float:
        return 0.0

    def clear(self) -> None:
        """Drop every entry (the fleet's cache generation moved: another instance invalidated)."""
        self._slots.clear()
        self._bytes = 0

    def stored_keys(self) -> list[str]:
        """The keys held, least recently used first."""
        return list(self._slots)

    def _put(self, key: str, slot: _Slot) -> bool:
        self._drop(key)
        if len(slot.data) > self._max_bytes:
            return False
        self._slots[key] = slot
        self._bytes += len(slot.data)
        while len(self._slots) > self._max_entries or self._bytes > self._max_bytes:
            oldest = next(iter(self._slots))
            self._drop(oldest)
            self.evictions += 1
        return True

    def _drop(self, key: str) -> None:
        slot = self._slots.pop(key, None)
        if slot is not None:
            self._bytes -= len(slot.data)
