"""Cache hit/miss, latency and compression statistics kept as integer counters in a `FleetState`.

With the shared cache as the store the numbers are fleet-wide. Counters live in day-long windows
(`window_s`); a snapshot sums the current and the previous window, i.e. the last one to two days.
A record is one round trip, awaited (Lambda freezes after returning), or goes into the request's
`CounterBatch`, written with everything else the request counted.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textapi_shared.fleet.counters import WindowedCounters

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from textapi_shared.fleet.counters import CounterBatch
    from textapi_shared.fleet.protocol import FleetState

STATS_PREFIX = "textapi:stats:cache"
_FIELDS = ("hits", "misses", "get_us", "sets", "set_us", "raw_bytes", "stored_bytes")


class CacheStatistics:
    def __init__(
        self,
        counters: FleetState,
        *,
        window_s: int = 86_400,
        prefix: str = STATS_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._counters = WindowedCounters(counters, prefix=prefix, window_s=window_s, clock=clock)

    async def record(
        self, operation: str, *, hit: bool, get_ms: float, batch: CounterBatch | None = None
    ) -> None:
        await self._counters.add(
            operation, {"hits" if hit else "misses": 1, "get_us": max(0, round(get_ms * 1000))}, batch=batch
        )

    async def record_set(
        self,
        operation: str,
        *,
        set_ms: float,
        raw_bytes: int,
        stored_bytes: int,
        batch: CounterBatch | None = None,
    ) -> None:
        await self._counters.add(
            operation,
            {
                "sets": 1,
                "set_us": max(0, round(set_ms * 1000)),
                "raw_bytes": raw_bytes,
                "stored_bytes": stored_bytes,
            },
            batch=batch,
        )

    async def snapshot(self, operations: Iterable[str]) -> dict[str, Any]:
        """`{"operations": {op: summary}, "totals": summary, "window_s": ...}`, one counter read."""
        return await self._counters.report(operations, _FIELDS, summarize)


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
