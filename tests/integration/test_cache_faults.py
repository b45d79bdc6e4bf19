"""A failing cache backend degrades to misses and skipped writes, a failing fleet state to counting in the
instance, and both are bypassed, then come back by themselves."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
import redis

from fakes.services import RedisProcess
from textapi_shared.cache.codec import CacheDecodeError
from textapi_shared.cache.factory import build_cache
from textapi_shared.cache.generation import CacheGeneration
from textapi_shared.cache.guarded import GuardedCache
from textapi_shared.cache.keys import cache_key
from textapi_shared.cache.memory_cache import MemoryCache
from textapi_shared.cache.tiered import TieredCache
from textapi_shared.config import SharedSettings
from textapi_shared.errors import ServiceUnavailableError
from textapi_shared.fleet.factory import build_fleet_state
from textapi_shared.fleet.guarded import GuardedFleetState
from textapi_shared.fleet.memory_state import MemoryFleetState
from textapi_shared.redis_client import close_redis_clients

COOLDOWN_S = 0.5


def key_for(text: str, operation: str = "summarize") -> str:
    return cache_key(
        operation=operation,
        text=text,
        options={},
        question=None,
        provider="p",
        model="m",
        prompt_version="1",
        scope="shared",
    )


class Recorder:
    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.reasons: list[str] = []

    def __call__(self, action: str, exc: Exception, reason: str) -> None:
        self.errors.append((action, type(exc).__name__))
        self.reasons.append(reason)


class FlakyBackend(MemoryCache):
    """A memory cache that can be switched to fail every call, counting the calls that reached it."""

    name = "flaky"

    def __init__(self) -> None:
        super().__init__()
        self.failing = False
        self.calls = 0

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.failing:
            raise ConnectionError("backend down")

    async def get(self, key: str) -> Any:
        self._maybe_fail()
        return await super().get(key)

    async def set(
        self, key: str, value: dict[str, Any], *, ttl_s: int, keep_for_s: float | None = None
    ) -> Any:
        self._maybe_fail()
        return await super().set(key, value, ttl_s=ttl_s)

    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        self._maybe_fail()
        return await super().incr(key, amount, ttl_s)

    async def invalidate(self, **kwargs: Any) -> Any:
        self._maybe_fail()
        return await super().invalidate(**kwargs)

    async def status(self) -> Any:
        self._maybe_fail()
        return await super().status()


def test_redis_killed_midway_degrades_to_misses_then_recovers_without_a_rebuild():
    recorder = Recorder()

    async def scenario(server: RedisProcess) -> None:
        settings = SharedSettings(
            cache_backend="redis",
            redis_url=server.url,
            cache_failure_threshold=3,
            cache_cooldown_seconds=COOLDOWN_S,
        )
        cache = build_cache(settings, CacheGeneration(), on_error=recorder)
        fleet = build_fleet_state(settings)
        assert isinstance(cache, TieredCache)
        guard = cache.back
        assert isinstance(guard, GuardedCache)
        direct = redis.Redis.from_url(server.url)
        bypass_timings: list[float] = []
        try:
            for i in range(50):
                if i == 20:
                    server.stop()
                bypassing = guard.state == "open"
                started = time.perf_counter()
                stored = await cache.set(key_for(f"text {i}"), {"i": i}, ttl_s=60)
                missing = await cache.get(key_for(f"never stored {i}"))
                elapsed = time.perf_counter() - started
                assert missing is None
                if i < 20:
                    assert stored is not None
                    assert direct.exists(key_for(f"text {i}")) == 1
                elif bypassing:
                    bypass_timings.append(elapsed / 2)
            direct.close()

            assert guard.state == "open"
            assert len(recorder.errors) == 3  # then bypassed: no more calls, no more errors
            assert {name for _, name in recorder.errors} <= {"ConnectionError", "TimeoutError"}
            assert set(recorder.reasons) <= {"connection refused", "no answer within 0.5 s"}, recorder.reasons
            assert len(bypass_timings) >= 25
            assert max(bypass_timings) < 0.005, bypass_timings
            assert guard.bypassed_calls >= 50
            assert (await cache.get(key_for("text 3"))).value == {"i": 3}  # the front tier still serves
            assert await fleet.incr("ratelimit:k", 1, ttl_s=60) == 1  # counted locally meanwhile
            with pytest.raises(ServiceUnavailableError):
                await cache.invalidate(everything=True)

            status = await cache.status()
            assert not status.connected
            assert "unreachable: connection refused" in status.detail
            assert "open" in status.detail

            server.start()  # same port
            await asyncio.sleep(COOLDOWN_S + 0.1)
            assert guard.state == "half_open"
            assert await cache.set(key_for("after restart"), {"back": True}, ttl_s=60) is not None
            assert guard.state == "closed"
            assert (await guard.get(key_for("after restart"))).value == {"back": True}
            assert (await cache.status()).connected
            assert (await cache.invalidate(everything=True)).removed == 1
        finally:
            await close_redis_clients()

    with RedisProcess() as server:
        asyncio.run(scenario(server))


def test_guard_opens_after_the_threshold_and_a_single_probe_closes_it():
    async def scenario() -> None:
        backend = FlakyBackend()
        recorder = Recorder()
        guard = GuardedCache(backend, failure_threshold=3, cooldown_s=COOLDOWN_S, on_error=recorder)
        await guard.set("k", {"v": 1}, ttl_s=60)
        backend.failing = True
        assert [await guard.get("k") for _ in range(3)] == [None, None, None]
        assert guard.state == "open"
        calls = backend.calls
        assert await guard.get("k") is None
        assert await guard.set("k", {"v": 2}, ttl_s=60) is None
        assert backend.calls == calls  # bypassed: the backend was not touched

        status = await guard.status()  # still probes for real
        assert backend.calls == calls + 1
        assert not status.connected
        assert "ConnectionError" in status.detail

        await asyncio.sleep(COOLDOWN_S)
        assert guard.state == "half_open"
        assert await guard.get("k") is None  # the probe fails: open again
        assert guard.state == "open"
        backend.failing = False
        await asyncio.sleep(COOLDOWN_S)
        assert (await guard.get("k")).value == {"v": 1}
        assert guard.state == "closed"
        assert recorder.errors == [("get", "ConnectionError")] * 4

    asyncio.run(scenario())


class FlakyFleetState(MemoryFleetState):
    """A memory fleet state that can be switched to fail every call."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = False

    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        if self.failing:
            raise ConnectionError("the fleet state is down")
        return await super().incr(key, amount, ttl_s)

    async def acquire_lease(self, key: str, owner: str, ttl_s: float) -> bool:
        if self.failing:
            raise ConnectionError("the fleet state is down")
        return False  # exclusive while it answers


def test_the_fleet_state_counts_in_the_instance_and_grants_leases_while_its_backend_is_down():
    async def scenario() -> None:
        backend = FlakyFleetState()
        fleet = GuardedFleetState.around(backend, failure_threshold=1, cooldown_s=60)
        assert await fleet.incr("rate", 5, ttl_s=60) == 5
        assert not await fleet.acquire_lease("k", "me", 30)
        backend.failing = True
        assert await fleet.incr("rate", 1, ttl_s=60) == 1  # fallback store, per instance
        assert await fleet.incr("rate", 1, ttl_s=60) == 2
        assert await fleet.read_counters(["rate"]) == {"rate": 2}
        await fleet.incr_many({"rate": 3}, ttl_s=60)
        assert await fleet.read_counters(["rate"]) == {"rate": 5}
        assert await fleet.acquire_lease("k", "me", 30)  # never waits on a store that cannot answer
        assert fleet.guard.state == "open"

    asyncio.run(scenario())


def test_guard_refuses_to_pretend_an_invalidation_happened():
    async def scenario() -> None:
        backend = FlakyBackend()
        guard = GuardedCache(backend, failure_threshold=5, cooldown_s=60)
        with pytest.raises(ValueError, match="pattern"):
            await guard.invalidate()
        backend.failing = True
        with pytest.raises(ServiceUnavailableError) as raised:
            await guard.invalidate(operation="summarize")
        assert raised.value.headers["Retry-After"] == "60"

    asyncio.run(scenario())


def test_undecodable_values_are_misses_that_do_not_trip_the_guard():
    class CorruptBackend(FlakyBackend):
        async def get(self, key: str) -> Any:
            raise CacheDecodeError("unknown value marker")

    async def scenario() -> None:
        recorder = Recorder()
        guard = GuardedCache(CorruptBackend(), failure_threshold=1, cooldown_s=60, on_error=recorder)
        assert await guard.get("k") is None
        assert await guard.get("k") is None
        assert guard.state == "closed"
        assert recorder.errors == [("get", "CacheDecodeError")] * 2

    asyncio.run(scenario())


def test_dynamodb_missing_table_is_a_miss_a_skipped_write_and_a_disconnected_status(moto_endpoint):
    async def scenario() -> None:
        recorder = Recorder()
        settings = SharedSettings(
            cache_backend="dynamodb",
            aws_endpoint_url=moto_endpoint,
            cache_table_name=f"textapi-missing-{uuid.uuid4().hex[:8]}",
            cache_failure_threshold=2,
            cache_cooldown_seconds=60,
        )
        cache = build_cache(settings, CacheGeneration(), on_error=recorder)
        assert await cache.get(key_for("anything")) is None
        assert await cache.set(key_for("anything"), {"v": 1}, ttl_s=60) is not None  # the front tier kept it
        assert await cache.back.set(key_for("other"), {"v": 1}, ttl_s=60) is None
        assert [action for action, _ in recorder.errors] == ["get", "set"]
        status = await cache.status()
        assert not status.connected
        assert "ResourceNotFoundException" in status.detail
        with pytest.raises(ServiceUnavailableError):
            await cache.invalidate(operation="summarize")

    asyncio.run(scenario())


def test_a_killed_cluster_primary_degrades_to_misses_then_the_guard_recovers(redis_cluster):
    """Through the public lambda_handler on the TLS cluster: one primary dies (no replica takes over, so
    the cluster answers CLUSTERDOWN until it returns); every request still answers 200, the guard stops
    calling the cluster, and it comes back by itself once the node has rejoined."""
    from fakes.api_clients import LambdaClient
    from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY
    from internal_api.config import InternalApiSettings
    from internal_api.main import create_app as create_internal_app
    from public_api.config import PublicApiSettings
    from public_api.main import create_app as create_public_app

    common = {
        **redis_cluster.settings(),
        "stage": "dev",
        "api_key": PUBLIC_KEY,
        "internal_api_keys": [ADMIN_KEY],
        "rate_limit_per_minute": 10_000,
        "cache_failure_threshold": 3,
        "cache_cooldown_seconds": COOLDOWN_S,
    }

    def instance():
        app = create_public_app(PublicApiSettings(**common))
        return LambdaClient(app), app.state.services.cache.back

    def process(client, text):
        body = {"text": text, "operation": "key_points"}
        return client.request(
            "POST", "/v1/text_processing/process", json_body=body, headers={"X-API-Key": PUBLIC_KEY}
        )

    inspector = redis_cluster.client()
    before = set(inspector.scan_iter(match="textapi:v1:key_points:*", count=500))
    public, guard = instance()
    cached = f"Case {uuid.uuid4().hex}: the night bus now stops at the hospital, the station and the docks."
    assert process(public, cached).status_code == 200
    (key,) = set(inspector.scan_iter(match="textapi:v1:key_points:*", count=500)) - before
    victim = inspector.get_node_from_key(key).port  # the shard holding that entry dies
    inspector.close()

    redis_cluster.kill_node(victim)
    try:
        answers, deadline = [], time.monotonic() + 20
        while guard.state == "closed" and time.monotonic() < deadline:
            answers.append(process(public, f"Ticket {uuid.uuid4().hex}: the lift on floor two is stuck."))
        assert guard.state != "closed", "the guard never stopped calling the dead cluster"
        assert {answer.status_code for answer in answers} == {200}
        # At once, within the cool-down (a cold instance's first request on a loaded machine may outlast it):
        bypassed = guard.bypassed_calls
        assert process(public, f"Ticket {uuid.uuid4().hex}: the heating is off again.").status_code == 200
        assert guard.bypassed_calls > bypassed  # the cluster is skipped, not waited on, during the cool-down
        fresh, _ = instance()
        missed = process(fresh, cached)  # its entry lived on the dead shard: a miss, answered by the AI
        assert (missed.status_code, missed.json()["cache_hit"]) == (200, False)
        status = LambdaClient(create_internal_app(InternalApiSettings(**common))).request(
            "GET", "/internal/cache/status", headers={"X-API-Key": ADMIN_KEY}
        )
        assert status.json()["connected"] is False
    finally:
        redis_cluster.start_node(victim)  # its saved cluster configuration: it rejoins, empty

    deadline = time.monotonic() + 20
    while guard.state != "closed" and time.monotonic() < deadline:
        assert process(public, f"Ticket {uuid.uuid4().hex}: printer jams on floor three.").status_code == 200
        time.sleep(0.1)
    assert guard.state == "closed", "the guard did not close again after the node returned"
    again = f"Case {uuid.uuid4().hex}: the ferry timetable changes in May."
    assert process(public, again).status_code == 200
    fresh, _ = instance()
    assert process(fresh, again).json()["cache_hit"] is True  # written to the cluster again
