"""One contract for every fleet-state backend: memory, Redis (single node, and a three-primary TLS
cluster) and DynamoDB (moto): counters, single-flight leases, sliding-window budgets and the counter a
spend watches (the cache generation).

Each test gets its own storage (`fakes.store_harness`). Times the stores compare run on a fake clock.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import redis.asyncio

from fakes.clock import FakeClock
from fakes.store_harness import TTL_S, dynamodb_space, redis_space, settings_for
from textapi_shared.cache.statistics import CacheStatistics
from textapi_shared.fleet.dynamodb_state import DynamoDBFleetState
from textapi_shared.fleet.memory_state import MemoryFleetState
from textapi_shared.fleet.protocol import Watch
from textapi_shared.fleet.redis_state import COUNTER_PREFIX, RedisFleetState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from textapi_shared.fleet.protocol import FleetState

BACKENDS = ["memory", "redis", "redis-cluster", "dynamodb"]
SHARED_BACKENDS = ["redis", "redis-cluster", "dynamodb"]
WINDOW_S = 60
# DynamoDB counts a window in sixths and the oldest sixth whole: a spend comes back at most a sixth late.
LATE_S = {"dynamodb": WINDOW_S / 6}


@dataclass
class Harness:
    kind: str
    state: FleetState
    clock: FakeClock
    sibling: Callable[[], Awaitable[FleetState]] | None = None  # another instance on the same storage


async def _open(kind: str, request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[Harness]:
    if kind == "memory":
        yield Harness(kind, MemoryFleetState(), clock)
        return
    if kind == "dynamodb":
        request.getfixturevalue("atomic_moto_updates")
        space = dynamodb_space(request.getfixturevalue("moto_endpoint"))

        async def dynamodb_sibling() -> FleetState:
            return DynamoDBFleetState(space.settings, client=space.new_client(), clock=clock)

        yield Harness(kind, DynamoDBFleetState(space.settings, clock=clock), clock, dynamodb_sibling)
        return
    if kind == "redis":
        settings = settings_for(request.getfixturevalue("redis_url"))
    else:
        settings = settings_for(**request.getfixturevalue("redis_cluster").settings())
    async with redis_space(settings) as redis_ns:

        async def redis_sibling() -> FleetState:
            return RedisFleetState(settings, client=await redis_ns.new_client(), namespace=redis_ns.namespace)

        yield Harness(kind, RedisFleetState(settings, namespace=redis_ns.namespace), clock, redis_sibling)


def _runner(request: pytest.FixtureRequest) -> Callable[[Callable[[Harness], Awaitable[None]]], None]:
    def runner(scenario: Callable[[Harness], Awaitable[None]]) -> None:
        async def main() -> None:
            opened = _open(request.param, request, FakeClock())
            harness = await anext(opened)
            try:
                await scenario(harness)
            finally:
                await opened.aclose()

        asyncio.run(main())

    return runner


@pytest.fixture(params=BACKENDS)
def run(request):
    return _runner(request)


@pytest.fixture(params=SHARED_BACKENDS)
def run_shared(request):
    return _runner(request)


# -- counters -----------------------------------------------------------------------------------------


def test_concurrent_increments_lose_no_update(run):
    async def scenario(h: Harness) -> None:
        async def worker() -> list[int]:
            return [await h.state.incr("hits:concurrent", 1, ttl_s=TTL_S) for _ in range(25)]

        seen = [value for values in await asyncio.gather(*(worker() for _ in range(20))) for value in values]
        assert sorted(seen) == list(range(1, 501))  # each increment saw its own, distinct total
        assert await h.state.read_counters(["hits:concurrent", "hits:never"]) == {
            "hits:concurrent": 500,
            "hits:never": 0,
        }

    run(scenario)


def test_two_instances_increment_one_counter_without_lost_updates(run_shared):
    async def scenario(h: Harness) -> None:
        assert h.sibling is not None
        first, second = h.state, await h.sibling()

        async def worker(state: FleetState) -> list[int]:
            return [await state.incr("rate:shared", 2, ttl_s=TTL_S) for _ in range(25)]

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


def test_statistics_aggregate_hits_latency_and_compression(run):
    async def scenario(h: Harness) -> None:
        stats = CacheStatistics(h.state, prefix=f"stats-{uuid.uuid4().hex[:8]}")
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


def test_redis_sets_a_counters_ttl_on_its_first_write_only(redis_url):
    async def scenario() -> None:
        async with redis_space(settings_for(redis_url)) as space:
            state = RedisFleetState(space.settings, namespace=space.namespace)
            await state.incr("physical", 1, ttl_s=30)
            await state.incr("physical", 1, ttl_s=999)
            client = redis.asyncio.Redis.from_url(redis_url)
            try:
                assert 0 < await client.ttl(f"{space.namespace}{COUNTER_PREFIX}physical") <= 30
            finally:
                await client.aclose()

    asyncio.run(scenario())


def test_dynamodb_restarts_a_counter_past_its_ttl_that_the_sweeper_has_not_deleted(request):
    async def scenario() -> None:
        clock = FakeClock()
        state = DynamoDBFleetState(
            dynamodb_space(request.getfixturevalue("moto_endpoint")).settings, clock=clock
        )
        assert await state.incr("window", 5, ttl_s=30) == 5
        clock.advance(31)  # expired, but (like DynamoDB's TTL sweeper) nothing deleted it
        assert await state.read_counters(["window"]) == {"window": 0}
        assert await state.incr("window", 2, ttl_s=30) == 2
        assert await state.incr("window", 1, ttl_s=30) == 3

    asyncio.run(scenario())


# -- single-flight leases -----------------------------------------------------------------------------


def test_a_lease_has_one_owner_until_released_or_lapsed(run_shared):
    async def scenario(h: Harness) -> None:
        assert h.sibling is not None
        other = await h.sibling()
        key = "lease:a text two instances want answered at once"
        assert await h.state.acquire_lease(key, "owner-a", 30)
        assert not await other.acquire_lease(key, "owner-b", 30)
        await other.release_lease(key, "owner-b")  # not its lease: nothing happens
        assert not await other.acquire_lease(key, "owner-b", 30)
        await h.state.release_lease(key, "owner-a")
        assert await other.acquire_lease(key, "owner-b", 0.3)
        # A holder that never releases: its lease lapses by itself (Redis by its own clock, DynamoDB by
        # the callers').
        h.clock.advance(1)
        await asyncio.sleep(0.35)
        assert await h.state.acquire_lease(key, "owner-a", 30)
        await other.release_lease(key, "owner-b")  # lapsed, and taken since: owner-a's stays
        assert not await other.acquire_lease(key, "owner-c", 30)

    run_shared(scenario)


def test_of_many_instances_racing_for_a_lease_exactly_one_gets_it(run_shared):
    async def scenario(h: Harness) -> None:
        assert h.sibling is not None
        states = [h.state, await h.sibling()]
        key = "lease:the same text from every instance"
        won = await asyncio.gather(*(states[i % 2].acquire_lease(key, f"owner-{i}", 30) for i in range(20)))
        assert won.count(True) == 1

    run_shared(scenario)


def test_the_memory_state_grants_every_lease():
    """Nothing else sees an in-process store: the instance shares calls itself (`SingleFlight.share`)."""

    async def scenario() -> None:
        state = MemoryFleetState()
        assert await state.acquire_lease("k", "a", 30)
        assert await state.acquire_lease("k", "b", 30)

    asyncio.run(scenario())


# -- sliding-window budgets ---------------------------------------------------------------------------


def test_a_budget_slides_no_burst_at_any_edge_and_spends_come_back_a_window_later(run):
    async def scenario(h: Harness) -> None:
        key, start = f"ratelimit:{uuid.uuid4().hex}", h.clock.now

        async def spend(units: int, at: float):
            return await h.state.admit(key, units, limit=10, window_s=WINDOW_S, now=start + at)

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
        admitted = await h.state.admit(key, 3, limit=4, window_s=WINDOW_S, now=now, counts=counts, ttls=ttls)
        assert admitted.admitted
        for offset in range(5):  # refused again and again: none of it counts against the budget
            refused = await h.state.admit(
                key, 3, limit=4, window_s=WINDOW_S, now=now + offset, counts=counts, ttls=ttls
            )
            assert (refused.admitted, refused.used) == (False, 3)
        assert await h.state.read_counters(list(counts)) == counts  # added once: by the admitted spend
        assert (await h.state.admit(key, 1, limit=4, window_s=WINDOW_S, now=now + 5)).used == 4

    run(scenario)


def test_two_instances_spending_one_budget_at_once_never_exceed_it(run_shared):
    async def scenario(h: Harness) -> None:
        assert h.sibling is not None
        states = [h.state, await h.sibling()]
        key, now = f"ratelimit:{uuid.uuid4().hex}", h.clock.now
        outcomes = await asyncio.gather(
            *(
                states[i % 2].admit(key, 4, limit=100, window_s=WINDOW_S, now=now + i / 1000)
                for i in range(40)
            )
        )
        assert sum(outcome.admitted for outcome in outcomes) == 25  # 25 x 4 units: exactly the limit
        assert max(outcome.used for outcome in outcomes) == 100

    run_shared(scenario)


# -- the watched counter (the cache generation) --------------------------------------------------------


def test_a_spend_reads_the_watched_counter_and_adds_its_counts_only_when_it_is_as_expected(run):
    async def scenario(h: Harness) -> None:
        key, now = f"ratelimit:{uuid.uuid4().hex}", h.clock.now
        generation = f"generation:{uuid.uuid4().hex}"
        counts, ttls = {f"hits:{key}": 1}, {f"hits:{key}": 60}

        def spend(at: float, watch: Watch):
            return h.state.admit(
                key, 1, limit=100, window_s=WINDOW_S, now=now + at, counts=counts, ttls=ttls, watch=watch
            )

        assert (await spend(0, Watch(generation))).watched == 0
        assert (await spend(1, Watch(generation, expected=0))).watched == 0
        assert await h.state.incr(generation, 1, ttl_s=TTL_S) == 1  # an invalidation elsewhere
        outdated = await spend(2, Watch(generation, expected=0))
        assert (outdated.admitted, outdated.watched) == (True, 1)  # spent, but its counts not added
        assert (await spend(3, Watch(generation, expected=1))).watched == 1
        assert await h.state.read_counters(list(counts)) == {f"hits:{key}": 3}
        assert (await h.state.admit(key, 1, limit=100, window_s=WINDOW_S, now=now + 4)).used == 5

    run(scenario)


def test_another_instance_sees_a_generation_moved_elsewhere_on_its_next_spend(run_shared):
    async def scenario(h: Harness) -> None:
        assert h.sibling is not None
        admin, public = h.state, await h.sibling()
        key, generation = f"ratelimit:{uuid.uuid4().hex}", f"generation:{uuid.uuid4().hex}"
        before = await public.admit(
            key, 1, limit=10, window_s=WINDOW_S, now=h.clock.now, watch=Watch(generation)
        )
        await admin.incr(generation, 1, ttl_s=TTL_S)
        after = await public.admit(
            key, 1, limit=10, window_s=WINDOW_S, now=h.clock.now, watch=Watch(generation)
        )
        assert (before.watched, after.watched) == (0, 1)

    run_shared(scenario)
