"""Fleet-wide circuit breakers: one contract for every breaker store (memory, Redis single node and
three-primary TLS cluster, DynamoDB on moto), then two (and three) independently built app instances
sharing a real store through lambda_handler.

Each test has its own storage: a unique key prefix in the shared Redis or cluster (removed afterwards),
a fresh DynamoDB table built from template.yaml's `CacheTable`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from contextlib import contextmanager

import boto3
import pytest
import redis
import redis.asyncio

from fakes.api_clients import LambdaClient
from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY
from fakes.aws_tables import create_cache_table
from fakes.clock import FakeClock
from fakes.gemini_server import Fail, Reply
from internal_api.composition import build_services as build_internal_services
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from public_api.composition import build_services as build_public_services
from public_api.config import PublicApiSettings
from public_api.main import create_app as create_public_app
from textapi_shared.config import SharedSettings
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.redis_client import new_redis_client
from textapi_shared.resilience.breaker_store import STAT_FIELDS, MemoryBreakerStore, SharedState
from textapi_shared.resilience.circuit_breaker import BreakerState
from textapi_shared.resilience.dynamodb_breaker_store import DynamoDBBreakerStore
from textapi_shared.resilience.factory import build_resilience
from textapi_shared.resilience.redis_breaker_store import RedisBreakerStore

NOW = 1_800_000_000.0
TEXT = "The new library opened downtown with a rooftop garden, a maker space and late opening hours."
_SERIAL = itertools.count()


def run(coro):
    """On a loop of its own: asyncio.run would unset the loop Mangum runs every invocation on."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


@contextmanager
def redis_prefix(inspector: redis.Redis | redis.RedisCluster):
    """A fresh key prefix; its keys are removed afterwards through `inspector` (then closed)."""
    prefix = f"test:resilience:{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        doomed = list(inspector.scan_iter(match=f"{prefix}*", count=500))
        if doomed:
            inspector.unlink(*doomed)
        inspector.close()


def redis_settings(request, backend: str) -> dict:
    """Settings of the Redis `backend` ("redis": the single node, "redis-cluster": the TLS cluster)."""
    if backend == "redis-cluster":
        return request.getfixturevalue("redis_cluster").settings()
    return {"cache_backend": "redis", "redis_url": request.getfixturevalue("redis_url")}


def redis_inspector(request, backend: str) -> redis.Redis | redis.RedisCluster:
    if backend == "redis-cluster":
        return request.getfixturevalue("redis_cluster").client()
    return redis.Redis.from_url(request.getfixturevalue("redis_url"))


@contextmanager
def dynamodb_table(endpoint: str):
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    table = f"textapi-cache-{uuid.uuid4().hex[:12]}"
    create_cache_table(client, table)
    try:
        yield client, table
    finally:
        client.delete_table(TableName=table)


@pytest.fixture(params=["memory", "redis", "redis-cluster", "dynamodb"])
def stores(request):
    """`stores()` → a new store instance ("another Lambda", with a client of its own) on this test's
    shared storage."""
    if request.param == "memory":
        memory = MemoryBreakerStore()
        yield lambda: memory
    elif request.param in ("redis", "redis-cluster"):
        settings = SharedSettings(**redis_settings(request, request.param))
        with redis_prefix(redis_inspector(request, request.param)) as prefix:

            def store() -> RedisBreakerStore:
                owned: list = []  # each store builds its own client, on the loop that first uses it

                async def client():
                    if not owned:
                        owned.append(await new_redis_client(settings))
                    return owned[0]

                return RedisBreakerStore(client, prefix=prefix)

            yield store
    else:
        with dynamodb_table(request.getfixturevalue("moto_endpoint")) as (client, table):
            yield lambda: DynamoDBBreakerStore(client, table)


def test_store_contract_failures_open_probe_close(stores):
    a, b = stores(), stores()

    async def scenario():
        assert await a.get("qa") == SharedState()
        assert (await a.add_failure("qa", now=NOW, window_s=30)).failures == 1
        assert (await b.add_failure("qa", now=NOW + 1, window_s=30)).failures == 2
        assert (await a.get("qa")).failures == 2
        await a.clear_failures("qa")
        assert (await b.get("qa")).failures == 0

        opened, state = await a.open("qa", now=NOW, open_until=NOW + 30)
        assert opened
        assert (state.open_until, state.opened_at, state.is_open) == (NOW + 30, NOW, True)
        again, state = await b.open("qa", now=NOW + 1, open_until=NOW + 31)
        assert not again  # already open: the first opening stands
        assert state.open_until == NOW + 30
        assert (await b.get("qa")).open_until == NOW + 30

        assert (await a.acquire_probe("qa", owner="a", now=NOW + 10, lease_until=NOW + 40))[0] is False
        won, state = await a.acquire_probe("qa", owner="a", now=NOW + 30, lease_until=NOW + 60)
        assert won
        assert (state.probe_owner, state.probe_until) == ("a", NOW + 60)
        assert (await b.acquire_probe("qa", owner="b", now=NOW + 31, lease_until=NOW + 61))[0] is False
        await b.release_probe("qa", owner="b")  # not b's: no effect
        assert (await b.acquire_probe("qa", owner="b", now=NOW + 31, lease_until=NOW + 61))[0] is False
        await a.release_probe("qa", owner="a")
        assert (await b.acquire_probe("qa", owner="b", now=NOW + 32, lease_until=NOW + 62))[0] is True
        assert (await a.acquire_probe("qa", owner="a", now=NOW + 63, lease_until=NOW + 90))[
            0
        ] is True  # lease over

        reopened, state = await a.open("qa", now=NOW + 64, open_until=NOW + 94)
        assert reopened
        assert (state.opened_at, state.probe_owner) == (NOW + 64, "")
        await b.close("qa")
        assert await a.get("qa") == SharedState()
        assert (await a.acquire_probe("qa", owner="a", now=NOW + 100, lease_until=NOW + 130))[0] is False
        assert (await a.get("summarize")) == SharedState()  # breakers are independent

    run(scenario())


def test_store_contract_failure_window_restarts_the_count(stores):
    store = stores()

    async def scenario():
        await store.add_failure("summarize", now=NOW, window_s=30)
        second = await store.add_failure("summarize", now=NOW + 25, window_s=30)
        third = await store.add_failure("summarize", now=NOW + 50, window_s=30)  # within 30 s of the last
        return second, third, await store.add_failure("summarize", now=NOW + 100, window_s=30)

    second, third, restarted = run(scenario())
    assert (second.failures, third.failures, restarted.failures) == (2, 3, 1)


def test_store_contract_statistics_add_up_across_instances(stores):
    a, b = stores(), stores()

    async def scenario():
        await a.sync("qa", {"calls": 3, "successes": 2, "failures": 1})
        await b.sync("qa", {"calls": 2, "rejections": 2})
        await b.sync("summarize", {})
        stats = await a.read_stats(("qa", "summarize"))
        await b.reset_stats(("qa",))
        return stats, await a.read_stats(("qa",))

    stats, after_reset = run(scenario())
    assert stats["qa"] == {
        **dict.fromkeys(STAT_FIELDS, 0),
        "calls": 5,
        "successes": 2,
        "failures": 1,
        "rejections": 2,
    }
    assert stats["summarize"] == dict.fromkeys(STAT_FIELDS, 0)
    assert after_reset["qa"] == dict.fromkeys(STAT_FIELDS, 0)


CUSTOM = {"retry_attempts": 1, "circuit_breaker_threshold": 2, "recovery_timeout": 10}


@pytest.fixture(params=["redis", "redis-cluster", "dynamodb"])
def fleet(request, fake_gemini):
    """`fleet(clock)` → (client, resilience) of one more public-function instance on a shared store.

    The instances answer from their own memory cache; only the breaker store is shared, which is the
    behaviour under test (and keeps the shared Redis free of cache entries).
    """
    backend = request.param
    on_redis = backend != "dynamodb"
    with (
        redis_prefix(redis_inspector(request, backend))
        if on_redis
        else dynamodb_table(request.getfixturevalue("moto_endpoint")) as storage
    ):
        shared = (
            redis_settings(request, backend)
            if on_redis
            else {
                "cache_backend": "dynamodb",
                "cache_table_name": storage[1],
                "aws_endpoint_url": request.getfixturevalue("moto_endpoint"),
            }
        )
        prefix = storage if on_redis else None

        def build(clock, *, internal: bool = False):
            common = {"stage": "dev", "api_key": PUBLIC_KEY, "resilience_custom_config": json.dumps(CUSTOM)}
            if internal:
                settings = InternalApiSettings(**common, internal_api_keys=[ADMIN_KEY])
            else:
                settings = PublicApiSettings(
                    **common,
                    ai_provider="gemini",
                    gemini_api_key=fake_gemini.api_key,
                    gemini_base_url=fake_gemini.base_url,
                    rate_limit_per_minute=1000,
                )
            observability = build_observability(settings)
            resilience = build_resilience(
                settings.model_copy(update=shared),
                observability=observability,
                key_prefix=prefix,
                clock=clock,
                sync_interval=0.2,
            )
            if internal:
                app = create_internal_app(
                    settings, build_internal_services(settings, observability, resilience=resilience)
                )
            else:
                app = create_public_app(
                    settings, build_public_services(settings, observability, resilience=resilience)
                )
            return LambdaClient(app), resilience

        yield build
        if on_redis:
            from textapi_shared.redis_client import close_redis_clients

            asyncio.get_event_loop().run_until_complete(close_redis_clients())


def process(client):
    body = {"text": f"{TEXT} Visit {next(_SERIAL)}.", "operation": "summarize"}
    return client.request(
        "POST", "/v1/text_processing/process", json_body=body, headers={"X-API-Key": PUBLIC_KEY}
    )


def test_a_breaker_opened_through_one_instance_is_open_for_the_others(fleet, fake_gemini):
    clock = FakeClock()
    (a, a_resilience), (b, b_resilience) = fleet(clock), fleet(clock)
    assert process(b).status_code == 200  # b is healthy and has synced: closed
    fake_gemini.default = Fail(503)
    assert [process(a).status_code for _ in range(2)] == [503, 503]  # threshold 2: open, fleet-wide
    assert a_resilience.breakers.get("summarize").state is BreakerState.OPEN
    sent = fake_gemini.request_count

    # b's next sync (forced here; under traffic it runs every sync_interval beside a call)
    asyncio.get_event_loop().run_until_complete(b_resilience.breakers.sync_all())
    refused = process(b)
    assert refused.status_code == 503
    assert refused.json()["details"] == {"circuit_breaker": "open", "operation": "summarize"}
    assert refused.headers["retry-after"] == "10"
    assert fake_gemini.request_count == sent  # b never reached the upstream

    # A fresh instance learns it from its first call (its sync runs alongside) and refuses the next.
    fake_gemini.default = Reply(text="A summary.")
    c, _ = fleet(clock)
    assert process(c).status_code == 200
    assert fake_gemini.request_count == sent + 1
    assert process(c).json()["details"]["circuit_breaker"] == "open"
    assert fake_gemini.request_count == sent + 1

    # The operators' view, from the internal function on the same store.
    internal, _ = fleet(clock, internal=True)
    view = internal.request(
        "GET",
        "/internal/resilience/circuit-breakers/summarize",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert (view.json()["state"], view.json()["fleet_wide"]) == ("open", True)

    # After the recovery timeout one instance probes for everyone; its success closes the breaker.
    clock.advance(10)
    assert process(b).status_code == 200
    assert fake_gemini.request_count == sent + 2
    assert b_resilience.breakers.get("summarize").state is BreakerState.CLOSED
    assert process(a).status_code == 200  # a finds the breaker closed in the store
    assert a_resilience.breakers.get("summarize").state is BreakerState.CLOSED


def test_a_reset_through_the_internal_function_closes_the_breaker_for_every_instance(fleet, fake_gemini):
    clock = FakeClock()
    (a, a_resilience), (b, b_resilience) = fleet(clock), fleet(clock)
    fake_gemini.default = Fail(503)
    assert [process(a).status_code for _ in range(2)] == [503, 503]  # threshold 2: open, fleet-wide
    asyncio.get_event_loop().run_until_complete(b_resilience.breakers.sync_all())
    assert b_resilience.breakers.get("summarize").state is BreakerState.OPEN

    internal, _ = fleet(clock, internal=True)
    reset = internal.request(
        "POST", "/internal/resilience/circuit-breakers/summarize/reset", headers={"X-API-Key": ADMIN_KEY}
    )
    assert reset.status_code == 200, reset.text
    assert (reset.json()["reset"], reset.json()["breaker"]["state"]) == (True, "closed")

    # Within a sync interval, long before their 10 s recovery timeout, both instances call again.
    fake_gemini.default = Reply(text="A summary.")
    clock.advance(0.2)
    sent = fake_gemini.request_count
    assert (process(a).status_code, process(b).status_code) == (200, 200)
    assert fake_gemini.request_count == sent + 2
    assert a_resilience.breakers.get("summarize").state is BreakerState.CLOSED
    assert b_resilience.breakers.get("summarize").state is BreakerState.CLOSED
