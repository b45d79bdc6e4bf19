"""`make bench` (cache): memory-tier hit latency; a Redis-backed hit through the cache next to a raw
redis-py GET of the same stored value, on a single node and on a three-primary TLS cluster (started here
with the tests' harness: `RedisCluster.get` over TLS as the raw call); the DynamoDB path next to a raw
`get_item` on a moto server; and the compressed vs raw size of a 10,000-character result."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for folder in ("layers/shared", "tests"):
    sys.path.insert(0, str(ROOT / folder))
# moto accepts any credentials
for name, value in {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_REGION": "us-east-1",
}.items():
    os.environ.setdefault(name, value)

import boto3  # noqa: E402
from targets import Target, finish  # noqa: E402

from fakes.aws_tables import create_cache_table  # noqa: E402
from fakes.redis_cluster import redis_cluster  # noqa: E402
from fakes.services import moto_server, redis_server  # noqa: E402
from textapi_shared.cache.codec import encode  # noqa: E402
from textapi_shared.cache.dynamodb_cache import DynamoDBCache  # noqa: E402
from textapi_shared.cache.keys import cache_key  # noqa: E402
from textapi_shared.cache.memory_cache import MemoryCache  # noqa: E402
from textapi_shared.cache.redis_cache import RedisCache  # noqa: E402
from textapi_shared.config import SharedSettings  # noqa: E402
from textapi_shared.redis_client import close_redis_clients, is_cluster, redis_client  # noqa: E402

# Prose-like text (seeded choices over this file's own words): compresses like a real result would,
# unlike one sentence repeated.
_WORDS = Path(__file__).read_text().split()[:300]
_RNG = random.Random(7)
RESULT = " ".join(_RNG.choice(_WORDS) for _ in range(3000))[:10_000]
VALUE = {"operation": "summarize", "result": RESULT, "metadata": {"provider": "local", "model": "m"}}
KEY = cache_key(
    operation="summarize",
    text=RESULT,
    options={"max_length": 100},
    question=None,
    provider="local",
    model="m",
    prompt_version="bench",
    scope="shared",
)


async def median_us(*calls, rounds: int) -> list[float]:
    """Median µs per call of each of `calls`, taken in alternation so that a change in machine load
    during the run weighs on all of them alike (their ratio is the figure that matters)."""
    for _ in range(20):
        for call in calls:
            await call()
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for call, taken in zip(calls, samples, strict=True):
            started = time.perf_counter()
            await call()
            taken.append(time.perf_counter() - started)
    return [statistics.median(taken) * 1e6 for taken in samples]


async def bench_memory(settings: SharedSettings, rounds: int) -> list[str]:
    cache = MemoryCache.from_settings(settings)
    await cache.set(KEY, VALUE, ttl_s=3600)
    (hit,) = await median_us(lambda: cache.get(KEY), rounds=rounds)
    return [f"memory tier hit:                          {hit:8.1f} µs"]


async def bench_redis(settings: SharedSettings, rounds: int) -> tuple[list[str], list[Target]]:
    """Our hit and the raw GET on one client (`redis_client`: `Redis`, or `RedisCluster` in a cluster)."""
    namespace = f"bench:{uuid.uuid4().hex[:8]}:"
    cache = RedisCache(settings, namespace=namespace)
    client = await redis_client(settings)
    await cache.set(KEY, VALUE, ttl_s=3600)
    physical = cache.physical_key(KEY)
    ours, raw = await median_us(lambda: cache.get(KEY), lambda: client.get(physical), rounds=rounds)
    await client.delete(physical)
    await close_redis_clients()
    if is_cluster(client):
        lines = [
            f"cluster (3 primaries, TLS) hit through the cache: {ours:8.1f} µs",
            f"raw RedisCluster.get of the same value over TLS: {raw:8.1f} µs   ratio {ours / raw:.2f}",
        ]
        return lines, [Target("cluster hit / raw RedisCluster.get", ours / raw, 1.5)]
    lines = [
        f"redis hit through the cache:              {ours:8.1f} µs",
        f"raw redis-py GET of the same value:       {raw:8.1f} µs   ratio {ours / raw:.2f}",
    ]
    return lines, [Target("Redis hit / raw GET (single node)", ours / raw, 1.5)]


async def bench_dynamodb(endpoint: str, rounds: int) -> list[str]:
    table = f"bench-cache-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    create_cache_table(client, table)
    settings = SharedSettings(aws_endpoint_url=endpoint, cache_table_name=table)
    cache = DynamoDBCache(settings, client=client)
    await cache.set(KEY, VALUE, ttl_s=3600)
    physical = await cache.physical_key(KEY)

    async def raw() -> object:
        return await asyncio.to_thread(client.get_item, TableName=table, Key={"pk": {"S": physical}})

    ours, bare = await median_us(lambda: cache.get(KEY), raw, rounds=rounds)
    return [
        f"dynamodb (moto) hit through the cache:    {ours:8.1f} µs",
        f"raw get_item of the same item:            {bare:8.1f} µs   ratio {ours / bare:.2f}",
    ]


def sizes(settings: SharedSettings) -> list[str]:
    encoded = encode(VALUE, threshold=settings.cache_compression_threshold)
    return [
        f"10,000-character result: {encoded.raw_bytes} bytes raw, {encoded.stored_bytes} stored "
        f"(ratio {encoded.raw_bytes / encoded.stored_bytes:.1f}x)"
    ]


async def main_async(rounds: int) -> tuple[list[str], list[Target]]:
    lines: list[str] = []
    targets: list[Target] = []
    with redis_server() as url:
        settings = SharedSettings(redis_url=url)
        lines += await bench_memory(settings, rounds)
        single, single_targets = await bench_redis(settings, rounds)
    with redis_cluster() as cluster:
        clustered, cluster_targets = await bench_redis(SharedSettings(**cluster.settings()), rounds)
    lines += single + clustered
    targets += single_targets + cluster_targets
    with moto_server() as endpoint:
        lines += await bench_dynamodb(endpoint, max(50, rounds // 10))
    return lines + sizes(settings), targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()
    finish(*asyncio.run(main_async(args.rounds)))


if __name__ == "__main__":
    main()
