"""`make bench` (resilience): what the breaker and retry wrapper add to a healthy AI call, per breaker
store, next to the bare provider call (target: < 20 µs added, no store round trip per call), and how
long the effective-configuration lookup takes (cached on the hot path; a full load without SSM).

The "provider" answers at once, so the figures are pure overhead. Store round trips are counted by a
wrapper around the store; with a shared store the only ones on a healthy path are the periodic syncs
(one per sync interval, started beside a call and awaited only when that call has returned: with an
instant provider, as here, that one call in each interval waits for the round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for folder in ("layers/shared", "tests"):
    sys.path.insert(0, str(ROOT / folder))

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

from targets import Target, finish, report_stream  # noqa: E402

from fakes.services import moto_server, redis_server  # noqa: E402
from textapi_shared.ai.provider import AIRequest, AIResponse, Operation  # noqa: E402
from textapi_shared.config import SharedSettings  # noqa: E402
from textapi_shared.resilience.breaker_store import MemoryBreakerStore  # noqa: E402
from textapi_shared.resilience.factory import build_resilience  # noqa: E402

REQUEST = AIRequest(Operation.SUMMARIZE, "system", "prompt", "text", timeout_s=25.0)
ANSWER = AIResponse("ok", "bench", "bench-1")


class InstantProvider:
    name = "bench"
    model = "bench-1"

    async def generate(self, request: AIRequest) -> AIResponse:
        return ANSWER


class CountingStore:
    """Counts every call that reaches the wrapped store (a round trip for Redis and DynamoDB)."""

    def __init__(self, store) -> None:
        self._store = store
        self.name = store.name
        self.shared = store.shared
        self.round_trips = 0

    def __getattr__(self, attribute):
        target = getattr(self._store, attribute)
        if not callable(target):
            return target

        async def counted(*args, **kwargs):
            self.round_trips += 1
            return await target(*args, **kwargs)

        return counted


async def per_call_us(call, calls: int, repeats: int = 7) -> float:
    for _ in range(200):
        await call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            await call()
        samples.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(samples)


# What the breaker, retry and configuration wrapper may add to a healthy call; a shared store is asked
# once a sync interval, never per call.
ADDED_US_TARGET = 20.0
SYNC_INTERVAL_S = 1.0


async def bench_store(
    label: str, store, calls: int, bare_us: float, seconds: float
) -> tuple[str, list[Target]]:
    counting = CountingStore(store)
    resilience = build_resilience(SharedSettings(), store=counting, sync_interval=SYNC_INTERVAL_S)  # type: ignore[arg-type]
    provider = resilience.wrap(InstantProvider())
    breaker = resilience.breakers.get("summarize")
    policy = (await resilience.config.get()).policy_for("summarize")
    inner = InstantProvider()
    breaker_us = await per_call_us(lambda: breaker.call(lambda: inner.generate(REQUEST), policy), calls)
    wrapped_us = await per_call_us(lambda: provider.generate(REQUEST), calls)
    # Amortised: a healthy stream of calls for a few sync intervals, periodic syncs included.
    counting.round_trips, made, started = 0, 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(1000):
            await provider.generate(REQUEST)
        made += 1000
    amortised_us = (time.perf_counter() - started) / made * 1e6
    line = (
        f"{label:<22} added per call: breaker {breaker_us - bare_us:5.2f} µs, breaker+retry+config "
        f"{wrapped_us - bare_us:5.2f} µs (amortised with syncs {amortised_us - bare_us:5.2f} µs); "
        f"store round trips: {counting.round_trips} in {made} calls over {seconds:g} s (1 per sync)"
    )
    syncs = seconds / SYNC_INTERVAL_S + 1
    return line, [
        Target(f"{label}: breaker+retry+config added per call", wrapped_us - bare_us, ADDED_US_TARGET, " µs"),
        Target(f"{label}: store round trips per sync interval", counting.round_trips / syncs, 1.0),
    ]


async def bench_config(calls: int) -> list[str]:
    resilience = build_resilience(SharedSettings(resilience_custom_config='{"retry_attempts": 4}'))
    source = resilience.config
    await source.get()
    cached = await per_call_us(source.get, calls)
    started = time.perf_counter()
    for _ in range(200):
        source.load(force=True)
    full = (time.perf_counter() - started) / 200 * 1e6
    return [
        f"effective-config lookup (cached, hot path):      {cached:8.2f} µs",
        f"effective-config load (env + bundled, no SSM):  {full:8.0f} µs",
    ]


async def bench_ssm_load(endpoint: str) -> str:
    import boto3

    ssm = boto3.client("ssm", endpoint_url=endpoint, region_name="us-east-1")
    ssm.put_parameter(Name="/bench/resilience/preset", Value="production", Type="String", Overwrite=True)
    ssm.put_parameter(Name="/bench/resilience/custom", Value="{}", Type="String", Overwrite=True)
    settings = SharedSettings(
        aws_endpoint_url=endpoint,
        resilience_preset_ssm_parameter="/bench/resilience/preset",
        resilience_custom_config_ssm_parameter="/bench/resilience/custom",
    )
    source = build_resilience(settings).config
    source.load(force=True)
    samples = []
    for _ in range(30):
        started = time.perf_counter()
        source.load(force=True)
        samples.append((time.perf_counter() - started) * 1000)
    return f"effective-config refresh from SSM (moto, 1 GetParameters): {statistics.median(samples):6.2f} ms"


async def run(calls: int, seconds: float) -> tuple[list[str], list[Target]]:
    inner = InstantProvider()
    bare_us = await per_call_us(lambda: inner.generate(REQUEST), calls)
    lines = [f"bare provider call: {bare_us:.2f} µs"]
    targets: list[Target] = []

    async def measure(label: str, store) -> None:
        line, store_targets = await bench_store(label, store, calls, bare_us, seconds)
        lines.append(line)
        targets.extend(store_targets)

    await measure("memory store", MemoryBreakerStore())
    with redis_server() as url:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(url)
        from textapi_shared.resilience.redis_breaker_store import RedisBreakerStore

        await measure("redis store", RedisBreakerStore(client, prefix=f"bench:resilience:{os.getpid()}:"))
        await client.delete(*[k async for k in client.scan_iter(match=f"bench:resilience:{os.getpid()}:*")])
        await client.aclose()
    with moto_server() as endpoint:
        import boto3

        from fakes.aws_tables import create_cache_table
        from textapi_shared.resilience.dynamodb_breaker_store import DynamoDBBreakerStore

        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        create_cache_table(dynamodb, "bench-cache")
        await measure("dynamodb store (moto)", DynamoDBBreakerStore(dynamodb, "bench-cache"))
        lines.extend(await bench_config(calls))
        lines.append(await bench_ssm_load(endpoint))
    return lines, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the amortised run per store")
    args = parser.parse_args()
    report = report_stream()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's access log
    finish(*asyncio.run(run(args.calls, args.seconds)), out=report)


if __name__ == "__main__":
    main()
