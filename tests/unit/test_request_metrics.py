"""Request metrics: counts, error classes and bucketed percentiles, summed across windows."""

from __future__ import annotations

import asyncio

from fakes.clock import FakeClock
from textapi_shared.fleet.memory_state import MemoryFleetState
from textapi_shared.web.request_metrics import RequestMetrics


def test_counts_errors_and_percentiles_per_operation():
    metrics = RequestMetrics(MemoryFleetState(), clock=FakeClock(1_800_000_000.0))

    async def scenario() -> dict:
        for latency in [3, 8, 8, 20, 40, 40, 40, 90, 200, 12_000]:
            await metrics.record("summarize", status=200, latency_ms=latency)
        await metrics.record("summarize", status=429, latency_ms=1)
        await metrics.record("qa", status=503, latency_ms=600)
        return await metrics.snapshot(["summarize", "qa", "sentiment"])

    snapshot = asyncio.run(scenario())
    summarize = snapshot["operations"]["summarize"]
    assert (summarize["requests"], summarize["client_errors"], summarize["server_errors"]) == (11, 1, 0)
    assert summarize["p50_latency_ms"] == 50.0  # the 6th of 11 sits in the (25, 50] bucket
    assert summarize["p99_latency_ms"] == 30_000.0
    assert snapshot["operations"]["qa"]["p50_latency_ms"] == 1000.0
    assert snapshot["operations"]["sentiment"]["requests"] == 0
    assert snapshot["operations"]["sentiment"]["p50_latency_ms"] is None
    assert snapshot["totals"]["requests"] == 12
    assert snapshot["totals"]["error_rate"] == round(2 / 12, 4)


def test_previous_window_counts_and_older_ones_do_not():
    clock = FakeClock(1_800_000_000.0)
    metrics = RequestMetrics(MemoryFleetState(), window_s=60, clock=clock)

    async def scenario() -> list[int]:
        await metrics.record("qa", status=200, latency_ms=10)
        clock.advance(60)
        await metrics.record("qa", status=200, latency_ms=10)
        first = (await metrics.snapshot(["qa"]))["totals"]["requests"]
        clock.advance(120)
        return [first, (await metrics.snapshot(["qa"]))["totals"]["requests"]]

    assert asyncio.run(scenario()) == [2, 0]
