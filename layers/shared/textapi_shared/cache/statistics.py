"""Cache hit/miss, latency and compression statistics kept as integer counters in a `CounterStore`.

With the shared cache as the store the numbers are fleet-wide. Counters live in day-long windows
(`window_s`); a snapshot sums the current and the previous window, i.e. the last one to two days.
Each record is one `incr_many`: a single round trip, awaited (Lambda freezes after returning).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from textapi_shared.counters import CounterStore

STATS_PREFIX = "textapi:stats:cache"
_FIELDS = ("hits", "misses", "get_us", "sets", "set_us", "raw_bytes", "stored_bytes")


class CacheStatistics:
    def __init__(
        self,
        counters: CounterStore,
        *,
        window_s: int = 86_400,
        prefix: str = STATS_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._counters = counters
        self._window_s = window_s
        self._prefix = prefix
        self._clock = clock

    def _window(self) -> int:
        return int(self._clock() // self._window_s)

    def _key(self, window: int, operation: str, field: str) -> str:
        return f"{self._prefix}:{window}:{operation}:{field}"

    async def record(self, operation: str, *, hit: bool, get_ms: float) -> None:
        window = self._window()
        await self._counters.incr_many(
            {
                self._key(window, operation, "hits" if hit else "misses"): 1,
                self._key(window, operation, "get_us"): max(0, round(get_ms * 1000)),
            },
            ttl_s=3 * self._window_s,
        )

    async def record_set(self, operation: str, *, set_ms: float, raw_bytes: int, stored_bytes: int) -> None:
        window = self._window()
        await self._counters.incr_many(
            {
                self._key(window, operation, "sets"): 1,
                self._key(window, operation, "set_us"): max(0, round(set_ms * 1000)),
                self._key(window, operation, "raw_bytes"): raw_bytes,
                self._key(window, operation, "stored_bytes"): stored_bytes,
            },
            ttl_s=3 * self._window_s,
        )

    async def snapshot(self, operations: Iterable[str]) -> dict[str, Any]:
        """`{"operations": {op: summary}, "totals": summary, "window_s": ...}`, one counter read."""
        operations = list(operations)
        current = self._window()
        keys = {
            (window, operation, field): self._key(window, operation, field)
            for window in (current - 1, current)
            for operation in operations
            for field in _FIELDS
        }
        values = await self._counters.read_counters(list(keys.values()))
        raw = {op: dict.fromkeys(_FIELDS, 0) for op in operations}
        for (_, operation, field), key in keys.items():
            raw[operation][field] += values.get(key, 0)
        totals = {field: sum(raw[op][field] for op in operations) for field in _FIELDS}
        return {
            "operations": {op: summarize(raw[op]) for op in operations},
            "totals": summarize(totals),
            "window_s": 2 * self._window_s,
        }


def summarize(counts: dict[str, int]) -> dict[str, Any]:
    """Counters → the reported figures; ratios and averages are None until there is data."""
    gets = counts["hits"] + counts["misses"]
    return {
        "hits": counts["hits"],
        "misses": counts["misses"],
        "hit_ratio": round(counts["hits"] / gets, 4) if gets else None,
        "avg_get_ms": round(counts["get_us"] / gets / 1000, 3) if gets else None,
        "sets": counts["sets"],
        "avg_set_ms": round(counts["set_us"] / counts["sets"] / 1000, 3) if counts["sets"] else None,
        "raw_bytes": counts["raw_bytes"],
        "stored_bytes": counts["stored_bytes"],
        # raw ÷ stored: 4.0 means values take a quarter of their JSON size
        "compression_ratio": (
            round(counts["raw_bytes"] / counts["stored_bytes"], 3) if counts["stored_bytes"] else None
        ),
    }
