"""The response-cache port: entries, results and the `ResponseCache` protocol every backend implements."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol


@dataclass(frozen=True)
class CacheEntry:
    """A cached value with its logical lifetime (epoch seconds).

    `checked_at` is the backend clock's reading when the entry was read, so `fresh` means "fresh when
    it was read" and stays consistent with an injected clock.
    """

    value: dict[str, Any]
    stored_at: float
    expires_at: float
    checked_at: float = field(default_factory=time.time, compare=False, repr=False)

    @property
    def fresh(self) -> bool:
        """Within its TTL; a stale entry (past TTL, within the grace period) is still returned by `get`."""
        return self.checked_at < self.expires_at


class StoredSize(NamedTuple):
    """What `set` wrote: the JSON size and the size actually stored (after compression)."""

    raw_bytes: int
    stored_bytes: int

    @property
    def compressed(self) -> bool:
        return self.stored_bytes < self.raw_bytes


class InvalidationResult(NamedTuple):
    removed: int | None  # None when the backend cannot count (DynamoDB namespace bump)
    method: str
    detail: str


class CacheStatus(NamedTuple):
    backend: str
    connected: bool
    latency_ms: float | None
    entries: int | None
    memory_bytes: int | None
    detail: str
    tiers: tuple[CacheStatus, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "backend": self.backend,
            "connected": self.connected,
            "latency_ms": self.latency_ms,
            "entries": self.entries,
            "memory_bytes": self.memory_bytes,
            "detail": self.detail,
        }
        if self.tiers:
            data["tiers"] = [tier.as_dict() for tier in self.tiers]
        return data


def require_invalidation_target(pattern: str | None, operation: str | None, everything: bool) -> None:
    if not (pattern or operation or everything):
        raise ValueError("invalidate needs a pattern, an operation, or everything=True")


class ResponseCache(Protocol):
    """Cached answers: a memory LRU, Redis, DynamoDB, or the memory tier in front of one of them.

    Backends never raise `KeyError` for a miss; connectivity errors propagate and are absorbed by
    `GuardedCache`. Invalidation patterns are globs (`fnmatch`) over logical keys (`textapi:v1:...`);
    pattern and operation together select entries matching both. Counters, budgets and leases are not
    the cache's: they are the fleet state's (`textapi_shared.fleet`).
    """

    name: str

    async def get(self, key: str) -> CacheEntry | None:
        """The entry, fresh or stale (past its TTL but within the grace period); None beyond that."""
        ...

    async def set(self, key: str, value: dict[str, Any], *, ttl_s: int) -> StoredSize | None:
        """Store `value` for `ttl_s` seconds (kept `ttl_s + grace` for stale reads); None if skipped."""
        ...

    async def invalidate(
        self, *, pattern: str | None = None, operation: str | None = None, everything: bool = False
    ) -> InvalidationResult:
        """Remove entries; ValueError if no target is given."""
        ...

    async def status(self) -> CacheStatus:
        """Probe the backend for real (ping latency, size); reports failures, never raises them."""
        ...

    async def ping(self) -> float:
        """One round trip to the backend, nothing scanned: its latency in ms. Raises when unreachable."""
        ...
