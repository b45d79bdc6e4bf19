"""One contract for every cache backend: memory, Redis (single node, and a three-primary TLS cluster),
DynamoDB (moto) and tiered (memory + Redis).

Each test gets its own storage: a unique key namespace in the shared Redis or cluster (removed
afterwards), a fresh DynamoDB table built from template.yaml's `CacheTable`. Logical expiry runs on a
fake clock; the physical expiry Redis and DynamoDB apply on their own is checked by the
backend-specific tests.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import redis
import redis.asyncio

from fakes.aws_tables import create_cache_table
from fakes.clock import FakeClock
from textapi_shared.cache.dynamodb_cache import DynamoDBCache
from textapi_shared.cache.keys import cache_key
from textapi_shared.cache.memory_cache import MemoryCache
from textapi_shared.cache.redis_cache import RedisCache
from textapi_shared.cache.redis_client import close_redis_clients, new_redis_client
from textapi_shared.cache.redis_counters import COUNTER_PREFIX
from textapi_shared.cache.statistics import CacheStatistics
from textapi_shared.cache.tiered import TieredCache
from textapi_shared.config import SharedSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from textapi_shared.cache.protocol import Cache

TTL_S = 60
GRACE_S = 100
BACKENDS = ["memory", "redis", "redis-cluster", "dynamodb", "tiered"]
SHARED_BACKENDS = ["redis", "redis-cluster", "dynamodb", "tiered"]
SECRET_TEXT = "Quarterly revenue for Zanzibar Widgets fell sharply after the merger was announced."


@dataclass
class Harness:
    """A backend under test plus what the contract needs to look inside it."""

    kind: str
    cache: Cache
    clock: FakeClock
    settings: SharedSettings
    stored_keys: Callable[[], Awaitable[list[str]]]  # every physical key/pk the backend holds
    stored_size: Callable[[str], Awaitable[int]]  # bytes actually stored for a logical key
    sibling: Callable[[], Awaitable[Cache]] | None = None  # a second, independent client on the same storage


def settings_for(redis_url: str = "redis://127.0.0.1:6379", **overrides: Any) -> SharedSettings:
    """Contract settings (grace, compression threshold) on `redis_url`; `overrides` may add a cluster's."""
    defaults: dict[str, Any] = {"cache_stale_grace_seconds": GRACE_S, "cache_compression_threshold": 1000}
    return SharedSettings(redis_url=redis_url, **{**defaults, **overrides})


@asynccontextmanager
async def open_harness(kind: str, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    clock = FakeClock()
    if kind == "memory":
        settings = settings_for()
        memory = MemoryCache.from_settings(settings, clock=clock)

        async def memory_keys() -> list[str]:
            return memory.stored_keys()

        async def memory_size(key: str) -> int:
            return len(memory._slots[key].data)

        yield Harness(kind, memory, clock, settings, memory_keys, memory_size)
    elif kind in ("redis", "tiered"):
        async with _redis_harness(kind, settings_for(request.getfixturevalue("redis_url")), clock) as harness:
            yield harness
    elif kind == "redis-cluster":
        cluster = request.getfixturevalue("redis_cluster")
        async with _redis_harness(kind, settings_for(**cluster.settings()), clock) as harness:
            yield harness
    else:
        request.getfixturevalue("atomic_moto_updates")
        yield await _dynamodb_harness(request.getfixturevalue("moto_endpoint"), clock)


def inspector_for(settings: SharedSettings) -> redis.asyncio.Redis | redis.asyncio.RedisCluster:
    """A client of our own on the backend's server or cluster, to look at what the backend stored."""
    if settings.redis_tls_ca_file:
        ca_file = settings.redis_tls_ca_file
        return redis.asyncio.RedisCluster.from_url(settings.redis_url, ssl_ca_certs=ca_file)
    return redis.asyncio.Redis.from_url(settings.redis_url)


@asynccontextmanager
async def _redis_harness(kind: str, settings: SharedSettings, clock: FakeClock) -> AsyncIterator[Harness]:
    namespace = f"test:{uuid.uuid4().hex}:"
    inspector = inspector_for(settings)
    extra_clients: list[redis.asyncio.Redis | redis.asyncio.RedisCluster] = []

    def build(client: redis.asyncio.Redis | None = None) -> Cache:
        back = RedisCache(settings, client=client, namespace=namespace, clock=clock)
        if kind == "tiered":
            return TieredCache(MemoryCache(stale_grace_s=GRACE_S, clock=clock), back)
        return back

    async def sibling() -> Cache:
        extra_clients.append(await new_redis_client(settings))
        return build(extra_clients[-1])

    async def keys() -> list[str]:
        return [k.decode() async for k in inspector.scan_iter(match=f"{namespace}*", count=500)]

    async def size(key: str) -> int:
        return await inspector.strlen(f"{namespace}{key}")

    try:
        yield Harness(kind, build(), clock, settings, keys, size, sibling)
    finally:
        doomed = [k async for k in inspector.scan_iter(match=f"{namespace}*", count=500)]
        if doomed:
            await inspector.unlink(*doomed)
        for client in (inspector, *extra_clients):
            await client.aclose()
        await close_redis_clients()


async def _dynamodb_harness(endpoint: str, clock: FakeClock) -> Harness:
    table = f"textapi-cache-{uuid.uuid4().hex[:12]}"
    inspector = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    create_cache_table(inspector, table)
    settings = settings_for(aws_endpoint_url=endpoint, cache_table_name=table)

    async def sibling() -> Cache:
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        return DynamoDBCache(settings, client=client, clock=clock)

    cache = DynamoDBCache(settings, clock=clock)

    async def keys() -> list[str]:
        items = inspector.scan(TableName=table, ProjectionExpression="pk")["Items"]
        return [item["pk"]["S"] for item in items]

    async def size(key: str) -> int:
        item = inspector.get_item(TableName=table, Key={"pk": {"S": await cache.physical_key(key)}})["Item"]
        return len(item["value"]["B"])

    return Harness("dynamodb", cache, clock, settings, keys, size, sibling)


def _runner(
    request: pytest.FixtureRequest, kind: str | None = None
) -> Callable[[Callable[[Harness], Awaitable[None]]], None]:
    """`run(scenario)`: run `async scenario(harness)` on a fresh event loop against one backend
    (`kind`, else the fixture's parameter)."""

    def runner(scenario: Callable[[Harness], Awaitable[None]]) -> None:
        async def main() -> None:
            async with open_harness(kind or request.param, request) as harness:
                await scenario(harness)

        asyncio.run(main())

    return runner


@pytest.fixture(params=BACKENDS)
def run(request):
    return _runner(request)


@pytest.fixture(params=SHARED_BACKENDS)
def run_shared(request):
    return _runner(request)


def key_for(operation: str = "summarize", text: str = SECRET_TEXT, **options: Any) -> str:
    return cache_key(
        operation=operation,
        text=text,
        options=options,
        question=None,
        provider="local",
        model="offline",
        prompt_version="1",
        scope="shared",
    )


def large_value(size: int = 50_000) -> dict[str, Any]:
    words = ["revenue", "merger", "widgets", "quarter", "growth", "market", "shares", "outlook", "risk"]
    rng = random.Random(7)
    text = " ".join(rng.choice(words) for _ in range(size // 6))
    return {"result": text[:size], "metadata": {"word_count": len(text.split())}}


def test_the_cluster_holds_the_contract_keys_on_at_least_two_shards(request):
    """The cluster runs of this contract prove something only if their keys really span shards."""

    async def scenario(h: Harness) -> None:
        await _store_for_invalidation(h.cache)
        await h.cache.incr_many({"rate:shared": 1, "rate:other": 5, "hits:concurrent": 2}, ttl_s=TTL_S)
        stats = CacheStatistics(h.cache, prefix=f"stats-{uuid.uuid4().hex[:8]}")
        for operation in ("summarize", "sentiment", "qa"):
            await stats.record(operation, hit=True, get_ms=1.0)
        stored = await h.stored_keys()
        inspector = inspector_for(h.settings)
        try:
            await inspector.initialize()
            assert len(inspector.get_primaries()) == 3
            shards = {inspector.get_node_from_key(key).name for key in stored}
            namespace = ":".join(stored[0].split(":")[:2])
            per_node = {
                node.name: len(
                    [k async for k in inspector.scan_iter(match=f"{namespace}:*", target_nodes=node)]
                )
                for node in inspector.get_primaries()
            }
        finally:
            await inspector.aclose()
        assert len(stored) >= 15
        assert len(shards) >= 2, shards
        assert sum(1 for count in per_node.values() if count) >= 2, per_node

    _runner(request, "redis-cluster")(scenario)


def test_set_then_get_round_trips_a_fresh_entry(run):
    async def scenario(h: Harness) -> None:
        value = {"result": 'A summary with "quotes" and ünïcode ✓', "key_points": ["a", "b"], "n": 3}
        await h.cache.set(key_for(), value, ttl_s=TTL_S)
        entry = await h.cache.get(key_for())
        assert entry is not None
        assert entry.value == value
        assert entry.fresh
        assert entry.expires_at == pytest.approx(entry.stored_at + TTL_S)
        assert entry.stored_at == pytest.approx(h.clock.now)

    run(scenario)


def test_get_of_an_unknown_key_is_a_miss(run):
    async def scenario(h: Harness) -> None:
        assert await h.cache.get(key_for(text="never stored anywhere at all")) is None

    run(scenario)


def test_entry_past_its_ttl_is_stale_within_grace_then_gone(run):
    async def scenario(h: Harness) -> None:
        await h.cache.set(key_for(), {"result": "old"}, ttl_s=TTL_S)
        h.clock.advance(TTL_S + 1)
        stale = await h.cache.get(key_for())
        assert stale is not None
        assert stale.value == {"result": "old"}
        assert not stale.fresh
        h.clock.advance(GRACE_S)
        assert await h.cache.get(key_for()) is None

    run(scenario)


def test_fifty_kilobyte_value_is_compressed_and_round_trips(run):
    async def scenario(h: Harness) -> None:
        value = large_value()
        stored = await h.cache.set(key_for(), value, ttl_s=TTL_S)
        assert stored is not None
        assert stored.raw_bytes > 50_000
        assert stored.compressed
        assert stored.stored_bytes < stored.raw_bytes / 2
        assert (await h.cache.get(key_for())).value == value
        assert 0 < await h.stored_size(key_for()) < stored.raw_bytes / 2

    run(scenario)


def test_concurrent_increments_lose_no_update(run):
    async def scenario(h: Harness) -> None:
        async def worker() -> list[int]:
            return [await h.cache.incr("hits:concurrent", 1, ttl_s=TTL_S) for _ in range(25)]

        seen = [value for values in await asyncio.gather(*(worker() for _ in range(20))) for value in values]
        assert sorted(seen) == list(range(1, 501))  # each increment saw its own, distinct total
        assert await h.cache.read_counters(["hits:concurrent", "hits:never"]) == {
            "hits:concurrent": 500,
            "hits:never": 0,
        }

    run(scenario)


def test_two_instances_increment_one_counter_without_lost_updates(run_shared):
    async def scenario(h: Harness) -> None:
        assert h.sibling is not None
        first, second = h.cache, await h.sibling()

        async def worker(cache: Cache) -> list[int]:
            return [await cache.incr("rate:shared", 2, ttl_s=TTL_S) for _ in range(25)]

        results = await asyncio.gather(*(worker(first if i % 2 else second) for i in range(20)))
        seen = sorted(value for values in results for value in values)
        assert seen == list(range(2, 1001, 2))
        assert (await second.read_counters(["rate:shared"]))["rate:shared"] == 1000
        assert (await first.incr_many({"rate:shared": 1, "rate:other": 5}, ttl_s=TTL_S)) is None
        assert await second.read_counters(["rate:shared", "rate:other"]) == {
            "rate:shared": 1001,
            "rate:other": 5,
        }

    run_shared(scenario)


async def _store_for_invalidation(cache: Cache) -> tuple[list[str], list[str]]:
    summaries = [key_for("summarize", f"summary text number {i}") for i in range(3)]
    sentiments = [key_for("sentiment", f"sentiment text number {i}") for i in range(2)]
    for key in summaries + sentiments:
        await cache.set(key, {"result": key[-6:]}, ttl_s=TTL_S)
    await cache.incr("survivor", 7, ttl_s=TTL_S)
    return summaries, sentiments


def test_invalidate_by_operation_removes_only_that_operation(run):
    async def scenario(h: Harness) -> None:
        summaries, sentiments = await _store_for_invalidation(h.cache)
        result = await h.cache.invalidate(operation="summarize")
        if h.kind == "dynamodb":
            assert (result.removed, result.method) == (None, "namespace_version_bump")
        elif h.kind == "redis-cluster":
            assert (result.removed, result.method) == (3, "scan_unlink_every_primary")
            assert "on 3 primaries" in result.detail
        else:
            assert result.removed == 3
        assert [await h.cache.get(key) for key in summaries] == [None, None, None]
        assert None not in [await h.cache.get(key) for key in sentiments]
        assert (await h.cache.read_counters(["survivor"]))["survivor"] == 7

    run(scenario)


def test_invalidate_by_pattern_removes_the_matching_entries(run):
    async def scenario(h: Harness) -> None:
        summaries, sentiments = await _store_for_invalidation(h.cache)
        target = sentiments[0]
        result = await h.cache.invalidate(pattern=target[:-40] + "*")
        assert result.removed == 1
        assert await h.cache.get(target) is None
        assert None not in [await h.cache.get(key) for key in [*summaries, sentiments[1]]]
        wider = await h.cache.invalidate(pattern="textapi:v1:summarize:*", operation="summarize")
        assert wider.removed == 3
        none = await h.cache.invalidate(pattern="textapi:v1:summarize:*", operation="sentiment")
        assert none.removed == 0

    run(scenario)


def test_invalidate_everything_removes_every_entry_but_not_counters(run):
    async def scenario(h: Harness) -> None:
        summaries, sentiments = await _store_for_invalidation(h.cache)
        result = await h.cache.invalidate(everything=True)
        if h.kind == "dynamodb":
            assert (result.removed, result.method) == (None, "namespace_version_bump")
        else:
            assert result.removed == 5
        assert [await h.cache.get(key) for key in summaries + sentiments] == [None] * 5
        assert (await h.cache.read_counters(["survivor"]))["survivor"] == 7
        await h.cache.set(summaries[0], {"result": "new"}, ttl_s=TTL_S)
        assert (await h.cache.get(summaries[0])).value == {"result": "new"}

    run(scenario)


def test_invalidate_without_a_target_is_refused(run):
    async def scenario(h: Harness) -> None:
        with pytest.raises(ValueError, match="pattern"):
            await h.cache.invalidate()

    run(scenario)


def test_no_raw_text_appears_in_any_stored_key(run):
    async def scenario(h: Harness) -> None:
        for operation in ("summarize", "qa"):
            await h.cache.set(key_for(operation), {"result": "x"}, ttl_s=TTL_S)
        stored = await h.stored_keys()
        assert len(stored) >= 2
        distinctive = [word for word in re.findall(r"\w+", SECRET_TEXT.lower()) if len(word) >= 5]
        for physical in stored:
            assert SECRET_TEXT not in physical
            assert not any(word in physical.lower() for word in distinctive), physical
        assert any(re.search(r"textapi:v1:summarize:[0-9a-f]{64}$", k) for k in stored)

    run(scenario)


def test_status_reports_a_connected_backend(run):
    async def scenario(h: Harness) -> None:
        await h.cache.set(key_for(), {"result": "x"}, ttl_s=TTL_S)
        status = await h.cache.status()
        assert status.connected
        names = {"tiered": "tiered(memory+redis)", "redis-cluster": "redis"}
        assert status.backend == names.get(h.kind, h.kind)
        assert status.latency_ms is not None
        assert status.latency_ms >= 0
        if h.kind in ("memory", "redis", "redis-cluster", "tiered"):
            assert status.entries == 1
            assert status.memory_bytes is not None
            assert status.memory_bytes > 0
        assert status.as_dict()["backend"] == status.backend

    run(scenario)


def test_statistics_aggregate_hits_latency_and_compression(run):
    async def scenario(h: Harness) -> None:
        stats = CacheStatistics(h.cache, prefix=f"stats-{uuid.uuid4().hex[:8]}")
        await stats.record("summarize", hit=True, get_ms=2.0)
        await stats.record("summarize", hit=False, get_ms=4.0)
        await stats.record("summarize", hit=True, get_ms=3.0)
        await stats.record_set("summarize", set_ms=5.0, raw_bytes=4000, stored_bytes=1000)
        snapshot = await stats.snapshot(["summarize", "qa"])
        summary = snapshot["operations"]["summarize"]
        assert (summary["hits"], summary["misses"], summary["hit_ratio"]) == (2, 1, pytest.approx(0.6667))
        assert summary["avg_get_ms"] == pytest.approx(3.0)
        assert (summary["sets"], summary["avg_set_ms"], summary["compression_ratio"]) == (1, 5.0, 4.0)
        assert snapshot["operations"]["qa"]["hit_ratio"] is None
        assert snapshot["totals"]["hits"] == 2

    run(scenario)


def test_tiered_copies_a_back_hit_into_the_front_with_its_remaining_ttl(redis_url, request):
    async def scenario() -> None:
        async with open_harness("tiered", request) as h:
            assert isinstance(h.cache, TieredCache)
            assert h.sibling is not None
            await (await h.sibling()).set(key_for(), {"result": "from another instance"}, ttl_s=TTL_S)
            h.clock.advance(10)
            assert key_for() not in h.cache.front.stored_keys()
            entry = await h.cache.get(key_for())
            assert entry is not None
            assert entry.expires_at == pytest.approx(h.clock.now - 10 + TTL_S)
            assert key_for() in h.cache.front.stored_keys()
            assert (await h.cache.front.get(key_for())).expires_at == entry.expires_at

    asyncio.run(scenario())


def test_redis_keeps_a_value_for_ttl_plus_grace_then_drops_it(redis_url):
    async def scenario() -> None:
        namespace = f"test:{uuid.uuid4().hex}:"
        cache = RedisCache(settings_for(redis_url), namespace=namespace)
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            await cache.set(key_for(), {"result": "x"}, ttl_s=TTL_S)
            ttl_ms = await client.pttl(f"{namespace}{key_for()}")
            assert (TTL_S + GRACE_S - 2) * 1000 < ttl_ms <= (TTL_S + GRACE_S) * 1000
            await cache.incr("physical", 1, ttl_s=30)
            await cache.incr("physical", 1, ttl_s=999)  # the TTL is set by the first write only
            assert 0 < await client.ttl(f"{namespace}{COUNTER_PREFIX}physical") <= 30

            brief = RedisCache(settings_for(redis_url, cache_stale_grace_seconds=0), namespace=namespace)
            await brief.set(key_for("qa"), {"result": "short-lived"}, ttl_s=1)
            await asyncio.sleep(1.1)
            assert await client.exists(f"{namespace}{key_for('qa')}") == 0
            assert await brief.get(key_for("qa")) is None
        finally:
            doomed = [k async for k in client.scan_iter(match=f"{namespace}*")]
            if doomed:
                await client.unlink(*doomed)
            await client.aclose()
            await close_redis_clients()

    asyncio.run(scenario())


def test_dynamodb_checks_the_ttl_attribute_on_read_and_restarts_expired_counters(request):
    async def scenario() -> None:
        h = await _dynamodb_harness(request.getfixturevalue("moto_endpoint"), FakeClock())
        cache = h.cache
        assert isinstance(cache, DynamoDBCache)
        client = boto3.client("dynamodb", endpoint_url=h.settings.aws_endpoint_url, region_name="us-east-1")
        await cache.set(key_for(), {"result": "x"}, ttl_s=TTL_S)
        pk = await cache.physical_key(key_for())
        item = client.get_item(TableName=cache.table_name, Key={"pk": {"S": pk}})["Item"]
        assert int(item["ttl"]["N"]) == math.ceil(float(item["expires_at"]["N"]) + GRACE_S)
        assert item["operation"]["S"] == "summarize"

        # DynamoDB deletes expired items late: an item past its `ttl` must read as a miss.
        past = {":past": {"N": str(int(h.clock.now) - 1)}}
        client.update_item(
            TableName=cache.table_name,
            Key={"pk": {"S": pk}},
            UpdateExpression="SET #ttl = :past",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues=past,
        )
        assert await cache.get(key_for()) is None

        assert await cache.incr("window", 5, ttl_s=30) == 5
        h.clock.advance(31)  # expired, but (like DynamoDB's TTL sweeper) nothing deleted it
        assert await cache.read_counters(["window"]) == {"window": 0}
        assert await cache.incr("window", 2, ttl_s=30) == 2
        assert await cache.incr("window", 1, ttl_s=30) == 3

    asyncio.run(scenario())


def test_dynamodb_skips_values_too_large_for_an_item(request):
    async def scenario() -> None:
        h = await _dynamodb_harness(request.getfixturevalue("moto_endpoint"), FakeClock())
        skipped: list[tuple[str, int]] = []
        cache = DynamoDBCache(
            h.settings, on_oversize=lambda operation, size: skipped.append((operation, size))
        )
        noise = {"result": os.urandom(400_000).hex()}  # ~400 KB even after zlib
        assert await cache.set(key_for(), noise, ttl_s=TTL_S) is None
        assert await cache.get(key_for()) is None
        assert [operation for operation, _ in skipped] == ["summarize"]
        assert skipped[0][1] > 350_000
        assert "1 oversize values skipped" in (await cache.status()).detail

    asyncio.run(scenario())


# -- single-flight leases --------------------------------------------------------------------------


def test_a_lease_has_one_owner_until_released_or_lapsed(run_shared):
    async def scenario(h: Harness) -> None:
        assert h.sibling is not None
        other = await h.sibling()
        key = key_for(text="a text two instances want answered at once")
        assert await h.cache.acquire_lease(key, "owner-a", 30)
        assert not await other.acquire_lease(key, "owner-b", 30)
        await other.release_lease(key, "owner-b")  # not its lease: nothing happens
        assert not await other.acquire_lease(key, "owner-b", 30)
        await h.cache.release_lease(key, "owner-a")
        assert await other.acquire_lease(key, "owner-b", 0.3)
        # A holder that never releases: its lease lapses by itself (Redis by its own clock, DynamoDB by
        # the callers').
        h.clock.advance(1)
        await asyncio.sleep(0.35)
        assert await h.cache.acquire_lease(key, "owner-a", 30)
        await other.release_lease(key, "owner-b")  # lapsed, and taken since: owner-a's stays
        assert not await other.acquire_lease(key, "owner-c", 30)

    run_shared(scenario)


def test_of_many_instances_racing_for_a_lease_exactly_one_gets_it(run_shared):
    async def scenario(h: Harness) -> None:
        assert h.sibling is not None
        caches = [h.cache, await h.sibling()]
        key = key_for(text="the same text from every instance")
        won = await asyncio.gather(*(caches[i % 2].acquire_lease(key, f"owner-{i}", 30) for i in range(20)))
        assert won.count(True) == 1

    run_shared(scenario)


def test_the_memory_backend_grants_every_lease():
    """Nothing else sees an in-process store: the instance shares calls itself (`SingleFlight.share`)."""

    async def scenario() -> None:
        cache = MemoryCache()
        assert await cache.acquire_lease("k", "a", 30)
        assert await cache.acquire_lease("k", "b", 30)

    asyncio.run(scenario())


# -- sliding-window budgets --------------------------------------------------------------------------

WINDOW_S = 60
# DynamoDB counts a window in sixths and the oldest sixth whole: a spend comes back at most a sixth late.
LATE_S = {"dynamodb": WINDOW_S / 6}


def test_a_budget_slides_no_burst_at_any_edge_and_spends_come_back_a_window_later(run):
    async def scenario(h: Harness) -> None:
        key, start = f"ratelimit:{uuid.uuid4().hex}", h.clock.now

        async def spend(units: int, at: float):
            return await h.cache.admit(key, units, limit=10, window_s=WINDOW_S, now=start + at)

        first = await spend(4, 0)
        assert (first.admitted, first.used) == (True, 4)
        assert (await spend(4, 10)).used == 8
        refused = await spend(4, 20)
        assert (refused.admitted, refused.used) == (False, 8)
        late = LATE_S.get(h.kind, 0)
        # The first 4 units leave the window at start + 60 (plus the backend's granularity; times come
        # back to the millisecond).
        assert start + 60 - 1e-3 <= refused.retry_at <= start + 60 + late + 1e-3
        assert start + 60 - 1e-3 <= refused.reset_at <= start + 60 + late + 1e-3
        assert not (await spend(4, 59.9)).admitted  # no edge to burst across
        assert (await spend(2, 59.9)).admitted  # what fits still fits
        back = await spend(4, 60 + late)
        assert back.admitted
        assert back.used <= 10
        # The oldest spend left now is the one at 10: the budget's next unit comes back a window after it.
        assert start + 70 - 1e-3 <= back.reset_at <= start + 70 + late + 1e-3

    run(scenario)


def test_a_refused_spend_leaves_no_trace_and_its_counts_are_not_added(run):
    async def scenario(h: Harness) -> None:
        key, now = f"ratelimit:{uuid.uuid4().hex}", h.clock.now
        counts = {f"hits:{key}": 1, f"requests:{key}": 2}
        ttls = dict.fromkeys(counts, 60)
        admitted = await h.cache.admit(key, 3, limit=4, window_s=WINDOW_S, now=now, counts=counts, ttls=ttls)
        assert admitted.admitted
        for offset in range(5):  # refused again and again: none of it counts against the budget
            refused = await h.cache.admit(
                key, 3, limit=4, window_s=WINDOW_S, now=now + offset, counts=counts, ttls=ttls
            )
            assert (refused.admitted, refused.used) == (False, 3)
        assert await h.cache.read_counters(list(counts)) == counts  # added once: by the admitted spend
        assert (await h.cache.admit(key, 1, limit=4, window_s=WINDOW_S, now=now + 5)).used == 4

    run(scenario)


def test_two_instances_spending_one_budget_at_once_never_exceed_it(run_shared):
    async def scenario(h: Harness) -> None:
        assert h.sibling is not None
        caches = [h.cache, await h.sibling()]
        key, now = f"ratelimit:{uuid.uuid4().hex}", h.clock.now
        outcomes = await asyncio.gather(
            *(
                caches[i % 2].admit(key, 4, limit=100, window_s=WINDOW_S, now=now + i / 1000)
                for i in range(40)
            )
        )
        assert sum(outcome.admitted for outcome in outcomes) == 25  # 25 x 4 units: exactly the limit
        assert max(outcome.used for outcome in outcomes) == 100

    run_shared(scenario)
