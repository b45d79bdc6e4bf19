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
import redis.asyncio

from fakes.clock import FakeClock
from fakes.store_harness import GRACE_S, TTL_S, dynamodb_space, inspector_for, redis_space, settings_for
from textapi_shared.cache.dynamodb_cache import DynamoDBCache
from textapi_shared.cache.keys import cache_key
from textapi_shared.cache.memory_cache import MemoryCache
from textapi_shared.cache.redis_cache import RedisCache
from textapi_shared.cache.statistics import CacheStatistics
from textapi_shared.cache.tiered import TieredCache
from textapi_shared.config import SharedSettings
from textapi_shared.fleet.redis_state import RedisFleetState
from textapi_shared.redis_client import close_redis_clients

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from textapi_shared.cache.protocol import ResponseCache

BACKENDS = ["memory", "redis", "redis-cluster", "dynamodb", "tiered"]
SECRET_TEXT = "Quarterly revenue for Zanzibar Widgets fell sharply after the merger was announced."


@dataclass
class Harness:
    """A backend under test plus what the contract needs to look inside it."""

    kind: str
    cache: ResponseCache
    clock: FakeClock
    settings: SharedSettings
    stored_keys: Callable[[], Awaitable[list[str]]]  # every physical key/pk the backend holds
    stored_size: Callable[[str], Awaitable[int]]  # bytes actually stored for a logical key
    sibling: Callable[[], Awaitable[ResponseCache]] | None = None  # a second client on the same storage
    namespace: str = ""


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


@asynccontextmanager
async def _redis_harness(kind: str, settings: SharedSettings, clock: FakeClock) -> AsyncIterator[Harness]:
    async with redis_space(settings) as space:

        def build(client: redis.asyncio.Redis | None = None) -> ResponseCache:
            back = RedisCache(settings, client=client, namespace=space.namespace, clock=clock)
            if kind == "tiered":
                return TieredCache(MemoryCache(stale_grace_s=GRACE_S, clock=clock), back)
            return back

        async def sibling() -> ResponseCache:
            return build(await space.new_client())

        async def size(key: str) -> int:
            return await space.inspector.strlen(f"{space.namespace}{key}")

        yield Harness(kind, build(), clock, settings, space.keys, size, sibling, space.namespace)


async def _dynamodb_harness(endpoint: str, clock: FakeClock) -> Harness:
    space = dynamodb_space(endpoint)

    async def sibling() -> ResponseCache:
        return DynamoDBCache(space.settings, client=space.new_client(), clock=clock)

    cache = DynamoDBCache(space.settings, clock=clock)

    async def size(key: str) -> int:
        pk = await cache.physical_key(key)
        item = space.inspector.get_item(TableName=space.table, Key={"pk": {"S": pk}})["Item"]
        return len(item["value"]["B"])

    return Harness("dynamodb", cache, clock, space.settings, space.keys, size, sibling)


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
        fleet = RedisFleetState(h.settings, namespace=h.namespace)
        await fleet.incr_many({"rate:shared": 1, "rate:other": 5, "hits:concurrent": 2}, ttl_s=TTL_S)
        stats = CacheStatistics(fleet, prefix=f"stats-{uuid.uuid4().hex[:8]}")
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
        assert len(stored) >= 14
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


async def _store_for_invalidation(cache: ResponseCache) -> tuple[list[str], list[str]]:
    summaries = [key_for("summarize", f"summary text number {i}") for i in range(3)]
    sentiments = [key_for("sentiment", f"sentiment text number {i}") for i in range(2)]
    for key in summaries + sentiments:
        await cache.set(key, {"result": key[-6:]}, ttl_s=TTL_S)
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


def test_invalidate_everything_removes_every_entry(run):
    async def scenario(h: Harness) -> None:
        summaries, sentiments = await _store_for_invalidation(h.cache)
        result = await h.cache.invalidate(everything=True)
        if h.kind == "dynamodb":
            assert (result.removed, result.method) == (None, "namespace_version_bump")
        else:
            assert result.removed == 5
        assert [await h.cache.get(key) for key in summaries + sentiments] == [None] * 5
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


def test_dynamodb_checks_the_ttl_attribute_on_read(request):
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
