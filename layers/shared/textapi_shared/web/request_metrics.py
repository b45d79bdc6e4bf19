"""Per-operation request counts, errors and latency percentiles, fleet-wide through a `FleetState`.

CloudWatch has the same figures per function (EMF); these exist so `/internal/monitoring/metrics`
can answer for the whole fleet without CloudWatch permissions or its delay. Latency goes into fixed
histogram buckets, so percentiles are bucket upper bounds: coarse, but they add up across instances.
"""

from __future__ import annotations

import bisect
import time
from typing import TYPE_CHECKING, Any

from textapi_shared.fleet.counters import WindowedCounters

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from textapi_shared.fleet.counters import CounterBatch
    from textapi_shared.fleet.protocol import FleetState

LATENCY_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000)
_BUCKET_FIELDS = (*(f"le_{bound}" for bound in LATENCY_BUCKETS_MS), "le_inf")
_FIELDS = ("requests", "client_errors", "server_errors", "latency_us", *_BUCKET_FIELDS)
PERCENTILES = (50, 95, 99)


class RequestMetrics:
    def __init__(
        self,
        counters: FleetState,
        *,
        window_s: int = 3600,
        prefix: str = "textapi:stats:requests",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._counters = WindowedCounters(counters, prefix=prefix, window_s=window_s, clock=clock)

    async def record(
        self, operation: str, *, status: int, latency_ms: float, batch: CounterBatch | None = None
    ) -> None:
        """One request's outcome: a single round trip to the store, or into the request's `batch`."""
        bucket = _BUCKET_FIELDS[bisect.bisect_left(LATENCY_BUCKETS_MS, latency_ms)]
        await self._counters.add(
            operation,
            {
                "requests": 1,
                "client_errors": int(400 <= status < 500),
                "server_errors": int(status >= 500),
                "latency_us": max(0, round(latency_ms * 1000)),
                bucket: 1,
            },
            batch=batch,
        )

    async def snapshot(self, operations: Iterable[str]) -> dict[str, Any]:
        return await self._counters.report(operations, _FIELDS, summarize)


def _percentile(counts: dict[str, int], requests: int, percentile: int) -> float | None:
    """The upper bound (ms) of the bucket holding the percentile; None above the last bound."""
    rank, seen = percentile / 100 * requests, 0
    for bound, field in zip((*LATENCY_BUCKETS_MS, None), _BUCKET_FIELDS, strict=True):
        seen += counts[field]
        if seen >= rank:
            return None if bound is None else float(bound)
    return None


def summarize(counts: dict[str, int]) -> dict[str, Any]:
    requests = counts["requests"]
    errors = counts["client_errors"] + counts["server_errors"]
    summary: dict[str, Any] = {
        "requests": requests,
        "client_errors": counts["client_errors"],
        "server_errors": counts["server_errors"],
        "error_rate": round(errors / requests, 4) if requests else None,
        "avg_latency_ms": round(counts["latency_us"] / requests / 1000, 3) if requests else None,
    }
    for percentile in PERCENTILES:
        summary[f"p{percentile}_latency_ms"] = _percentile(counts, requests, percentile) if requests else None
    return summary
