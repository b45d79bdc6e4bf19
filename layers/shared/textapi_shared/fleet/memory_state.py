"""The in-process fleet state: counters, exact sliding windows and leases of one execution environment.

It is the `memory` backend's state, and a shared store's stand-in while that store is down
(`guarded.GuardedFleetState`): limits then hold per instance. Every lease is granted, since no other
instance sees this store (concurrent requests of one instance already share one call).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from textapi_shared.fleet.protocol import counts_apply
from textapi_shared.fleet.windows import MemoryWindows

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textapi_shared.fleet.protocol import Watch
    from textapi_shared.fleet.windows import Admission


class MemoryFleetState:
    name = "memory"

    def __init__(self, *, max_keys: int = 10_000) -> None:
        self._values: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys
        self._windows = MemoryWindows(max_keys=max_keys)

    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        return self._add({key: amount}, ttl_s)

    async def incr_many(self, amounts: Mapping[str, int], ttl_s: int | Mapping[str, int]) -> None:
        self._add(amounts, ttl_s)

    async def read_counters(self, keys: list[str]) -> dict[str, int]:
        now = time.monotonic()
        with self._lock:
            found = {key: self._values.get(key, (0, now)) for key in keys}
        return {key: value if expires_at > now else 0 for key, (value, expires_at) in found.items()}

    async def admit(
        self,
        key: str,
        units: int,
        *,
        limit: int,
        window_s: float,
        now: float,
        counts: Mapping[str, int] | None = None,
        ttls: Mapping[str, int] | None = None,
        watch: Watch | None = None,
    ) -> Admission:
        admission = self._windows.admit(key, units, limit=limit, window_s=window_s, now=now)
        if watch is not None:
            admission = admission._replace(watched=(await self.read_counters([watch.key]))[watch.key])
        if counts and counts_apply(admission.admitted, watch, admission.watched):
            await self.incr_many(counts, ttls or {})
        return admission

    async def acquire_lease(self, key: str, owner: str, ttl_s: float) -> bool:
        return True

    async def release_lease(self, key: str, owner: str) -> None:
        return None

    def _add(self, amounts: Mapping[str, int], ttl_s: int | Mapping[str, int]) -> int:
        """Add each amount (a counter past its TTL starts again); the last counter's new value."""
        now = time.monotonic()
        values, single = self._values, ttl_s if isinstance(ttl_s, int) else None
        value = 0
        with self._lock:  # once for the batch: a request writes several counters at a time
            for key, amount in amounts.items():
                ttl = single if single is not None else ttl_s[key]  # type: ignore[index]
                value, expires_at = values.get(key, (0, now + ttl))
                if expires_at <= now:
                    value, expires_at = 0, now + ttl
                value += amount
                values[key] = (value, expires_at)
            if len(values) > self._max_keys:
                self._evict_expired(now)
        return value

    def _evict_expired(self, now: float) -> None:
        for stale in [k for k, (_, expires_at) in self._values.items() if expires_at <= now]:
            del self._values[stale]
