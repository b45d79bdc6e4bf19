"""Atomic counters with expiry: the store behind rate limits and fleet-wide cache statistics.

The memory store counts per execution environment; shared backends (Redis, DynamoDB) implement the
same protocol to make the counts fleet-wide.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping


class CounterStore(Protocol):
    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        """Add `amount` to `key` (created at 0, expiring `ttl_s` after creation); the new value."""
        ...

    async def incr_many(self, amounts: Mapping[str, int], ttl_s: int) -> None:
        """`incr` for several keys in one round trip (shared stores); each key is atomic on its own."""
        ...

    async def read_counters(self, keys: list[str]) -> dict[str, int]:
        """The current value of each key; a missing or expired key reads 0."""
        ...


class MemoryCounterStore:
    def __init__(self, *, max_keys: int = 10_000) -> None:
        self._values: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        return self._add(key, amount, ttl_s, time.monotonic())

    async def incr_many(self, amounts: Mapping[str, int], ttl_s: int) -> None:
        now = time.monotonic()
        for key, amount in amounts.items():
            self._add(key, amount, ttl_s, now)

    async def read_counters(self, keys: list[str]) -> dict[str, int]:
        now = time.monotonic()
        with self._lock:
            found = {key: self._values.get(key, (0, now)) for key in keys}
        return {key: value if expires_at > now else 0 for key, (value, expires_at) in found.items()}

    def _add(self, key: str, amount: int, ttl_s: int, now: float) -> int:
        with self._lock:
            value, expires_at = self._values.get(key, (0, now + ttl_s))
            if expires_at <= now:
                value, expires_at = 0, now + ttl_s
            value += amount
            self._values[key] = (value, expires_at)
            if len(self._values) > self._max_keys:
                self._evict_expired(now)
            return value

    def _evict_expired(self, now: float) -> None:
        for stale in [k for k, (_, expires_at) in self._values.items() if expires_at <= now]:
            del self._values[stale]
