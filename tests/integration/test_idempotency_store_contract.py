"""One contract for the idempotency stores: memory, Redis (real, single node and the TLS cluster),
DynamoDB (moto, the cache table)."""

from __future__ import annotations

import time
import uuid

import boto3
import pytest
import redis.asyncio

from fakes.clock import FakeClock
from fakes.loops import run
from textapi_shared.config import SharedSettings
from textapi_shared.idempotency.dynamodb_store import DynamoDBIdempotencyStore
from textapi_shared.idempotency.redis_store import RedisIdempotencyStore
from textapi_shared.idempotency.store import IdempotencyRecord, MemoryIdempotencyStore
from textapi_shared.redis_client import redis_client

DONE = IdempotencyRecord(
    fingerprint="f1",
    completed=True,
    status_code=202,
    body='{"job_id": "job_1", "status": "queued", "text": "' + "é" * 2000 + '"}',
    headers=(("location", "/dev/v1/text_processing/jobs/job_1"),),
)


class Harness:
    """A store, a way to let time pass (its lease or retention), and what its backend holds."""

    def __init__(self, store, advance, stored_keys) -> None:
        self.store = store
        self.advance = advance
        self.stored_keys = stored_keys


@pytest.fixture(params=["memory", "redis", "redis-cluster", "dynamodb"])
def harness(request):
    if request.param == "memory":
        clock = FakeClock()
        store = MemoryIdempotencyStore(clock=clock)
        yield Harness(store, clock.advance, lambda: list(store._records))
    elif request.param == "redis":
        url = request.getfixturevalue("redis_url")
        namespace = f"test:{uuid.uuid4().hex}:"
        clients: list[redis.asyncio.Redis] = []

        async def client() -> redis.asyncio.Redis:  # one per loop: each `run` has its own
            clients.append(redis.asyncio.Redis.from_url(url))
            return clients[-1]

        def keys() -> list[str]:
            inspector = redis.Redis.from_url(url)
            try:
                return [k.decode() for k in inspector.scan_iter(match=f"{namespace}*")]
            finally:
                inspector.close()

        # Redis expires keys on its own clock: letting time pass is sleeping past a short lease.
        yield Harness(RedisIdempotencyStore(client, namespace=namespace), time.sleep, keys)
        inspector = redis.Redis.from_url(url)
        for key in inspector.scan_iter(match=f"{namespace}*"):
            inspector.delete(key)
        inspector.close()
    elif request.param == "redis-cluster":
        cluster = request.getfixturevalue("redis_cluster")
        settings = SharedSettings(**cluster.settings())
        namespace = f"test:{uuid.uuid4().hex}:"

        async def cluster_client():  # the loop's client, as the functions get it
            return await redis_client(settings)

        def cluster_keys() -> list[str]:
            inspector = cluster.client()
            try:
                return [k.decode() for k in inspector.scan_iter(match=f"{namespace}*")]
            finally:
                inspector.close()

        yield Harness(RedisIdempotencyStore(cluster_client, namespace=namespace), time.sleep, cluster_keys)
    else:
        endpoint = request.getfixturevalue("moto_endpoint")
        table = request.getfixturevalue("cache_table")
        clock = FakeClock()
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        store = DynamoDBIdempotencyStore(SharedSettings(), client=client, table_name=table, clock=clock)

        def items() -> list[str]:
            return [item["pk"]["S"] for item in client.scan(TableName=table)["Items"]]

        yield Harness(store, clock.advance, items)


def test_the_first_claim_wins_and_later_ones_see_it_in_flight(harness):
    assert run(harness.store.claim("scope:key", "f1", lease_s=30)) is None
    seen = run(harness.store.claim("scope:key", "f1", lease_s=30))
    assert (seen.fingerprint, seen.completed) == ("f1", False)
    assert run(harness.store.claim("scope:other", "f1", lease_s=30)) is None
    assert len(harness.stored_keys()) == 2  # one key per record: single-key commands only


def test_a_completed_record_is_replayed_with_its_status_body_and_headers(harness):
    assert run(harness.store.claim("scope:key", "f1", lease_s=30)) is None
    run(harness.store.complete("scope:key", DONE, ttl_s=86_400))
    assert run(harness.store.claim("scope:key", "f2", lease_s=30)) == DONE


def test_a_released_claim_can_be_claimed_again(harness):
    assert run(harness.store.claim("scope:key", "f1", lease_s=30)) is None
    run(harness.store.release("scope:key"))
    assert run(harness.store.claim("scope:key", "f1", lease_s=30)) is None


def test_an_abandoned_claim_frees_itself_when_its_lease_ends(harness):
    assert run(harness.store.claim("scope:key", "f1", lease_s=0.2)) is None
    harness.advance(0.3)
    assert run(harness.store.claim("scope:key", "f1", lease_s=30)) is None


def test_a_completed_record_expires_after_its_retention(harness):
    assert run(harness.store.claim("scope:key", "f1", lease_s=30)) is None
    run(harness.store.complete("scope:key", DONE, ttl_s=1))
    harness.advance(1.2)
    assert run(harness.store.claim("scope:key", "f1", lease_s=30)) is None
