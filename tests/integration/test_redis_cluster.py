"""The Redis client on a real three-primary TLS cluster (and a single node): topology found by itself,
one client per loop, keys placed by hash tag, replica reads for cache gets only, credentials from SSM,
and connection failures that are clear and bounded, never a hang."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid

import boto3
import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY
from fakes.services import RedisProcess
from fakes.tls import issue_certificates
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from public_api.config import PublicApiSettings
from public_api.main import create_app as create_public_app
from textapi_shared.cache.factory import build_cache
from textapi_shared.cache.generation import CacheGeneration
from textapi_shared.cache.redis_cache import RedisCache
from textapi_shared.cache.statistics import CacheStatistics
from textapi_shared.config import SharedSettings
from textapi_shared.fleet.counters import CounterBatch
from textapi_shared.fleet.factory import build_fleet_state
from textapi_shared.fleet.redis_state import RedisFleetState
from textapi_shared.redis_client import close_redis_clients, is_cluster, redis_client
from textapi_shared.resilience.factory import build_breaker_store
from textapi_shared.web.request_metrics import RequestMetrics

OPERATIONS = ["summarize", "sentiment", "key_points", "questions", "qa"]


def run(scenario):
    """A fresh loop per test, its clients closed at the end."""

    async def main():
        try:
            return await scenario()
        finally:
            await close_redis_clients()

    return asyncio.run(main())


async def stored(cluster, match: str) -> list[str]:
    inspector = cluster.client()
    try:
        return [key.decode() for key in inspector.scan_iter(match=match, count=500)]
    finally:
        inspector.close()


def test_auto_mode_finds_the_cluster_and_the_single_node_and_builds_one_client_each(redis_cluster, redis_url):
    async def scenario():
        settings = SharedSettings(**redis_cluster.settings())
        clients = await asyncio.gather(*(redis_client(settings) for _ in range(10)))
        assert len({id(client) for client in clients}) == 1  # concurrent first calls share one build
        cluster = clients[0]
        assert is_cluster(cluster)
        assert sorted(node.port for node in cluster.get_primaries()) == sorted(redis_cluster.ports)
        assert await redis_client(settings) is cluster  # reused by later calls on this loop
        single = await redis_client(SharedSettings(cache_backend="redis", redis_url=redis_url))
        assert not is_cluster(single)
        forced = await redis_client(SharedSettings(**redis_cluster.settings(), redis_cluster_mode="on"))
        assert is_cluster(forced)
        assert forced is not cluster
        assert await cluster.set(f"test:{uuid.uuid4().hex}", b"over TLS", ex=10)

    run(scenario)


def test_one_subjects_counters_share_a_slot_and_subjects_spread_over_the_shards(redis_cluster):
    namespace = f"test:{uuid.uuid4().hex}:"
    settings = SharedSettings(**redis_cluster.settings())

    async def scenario():
        fleet = RedisFleetState(settings, namespace=namespace)
        statistics, metrics = CacheStatistics(fleet), RequestMetrics(fleet)
        for operation in OPERATIONS:  # what one request counts: both families, one batch, one flush
            batch = CounterBatch(fleet)
            await statistics.record(operation, hit=False, get_ms=1.5, batch=batch)
            await statistics.record_set(operation, set_ms=2.0, raw_bytes=900, stored_bytes=300, batch=batch)
            await metrics.record(operation, status=200, latency_ms=12.0, batch=batch)
            await batch.flush()
        snapshot = await statistics.snapshot(OPERATIONS)
        assert snapshot["totals"]["misses"] == 5
        assert (await metrics.snapshot(OPERATIONS))["totals"]["requests"] == 5

    run(scenario)
    keys = asyncio.run(stored(redis_cluster, f"{namespace}*"))
    inspector = redis_cluster.client()
    try:
        slots = {
            operation: {inspector.keyslot(k) for k in keys if f"{{stats:{operation}}}" in k}
            for operation in OPERATIONS
        }
        shards = {inspector.get_node_from_key(k).name for k in keys}
    finally:
        inspector.close()
    assert len(keys) == 5 * (
        6 + 3
    )  # each non-zero field: misses, get_us, sets, set_us, raw, stored; 3 request
    assert all(len(found) == 1 for found in slots.values()), slots  # one script a request, one MGET each
    assert len(shards) >= 2, shards


def test_a_breakers_keys_share_one_slot_so_its_scripts_run_on_the_cluster(redis_cluster):
    prefix = f"test:resilience:{uuid.uuid4().hex}:"
    store = build_breaker_store(SharedSettings(**redis_cluster.settings()), key_prefix=prefix)

    async def scenario():
        for name in OPERATIONS:
            await store.add_failure(name, now=1000.0, window_s=30)
            assert (await store.open(name, now=1000.0, open_until=1030.0))[0]
            assert (await store.acquire_probe(name, owner="a", now=1031.0, lease_until=1060.0))[0]
            await store.sync(name, {"calls": 2, "failures": 1})
        assert (await store.read_stats(tuple(OPERATIONS)))["qa"]["calls"] == 2
        await store.reset_stats(tuple(OPERATIONS))
        assert (await store.read_stats(("qa",)))["qa"]["calls"] == 0

    run(scenario)
    keys = asyncio.run(stored(redis_cluster, f"{prefix}*"))
    inspector = redis_cluster.client()
    try:
        slots = {
            name: {inspector.keyslot(k) for k in keys if f"{{breaker:{name}}}" in k} for name in OPERATIONS
        }
        shards = {inspector.get_node_from_key(k).name for k in keys}
        inspector.delete(*keys)
    finally:
        inspector.close()
    assert all(len(found) == 1 for found in slots.values()), slots
    assert len(shards) >= 2, shards


def test_replica_reads_use_a_client_of_their_own_for_cache_gets_only(redis_cluster):
    from redis.cluster import LoadBalancingStrategy

    settings = SharedSettings(**redis_cluster.settings(), redis_read_from_replicas=True)
    plain = SharedSettings(**redis_cluster.settings())

    async def scenario():
        namespace = f"test:{uuid.uuid4().hex}:"
        cache, fleet = (
            RedisCache(settings, namespace=namespace),
            RedisFleetState(settings, namespace=namespace),
        )
        primary, reader = await redis_client(settings), await redis_client(settings, replica_reads=True)
        assert reader is not primary
        assert reader.load_balancing_strategy is LoadBalancingStrategy.ROUND_ROBIN_REPLICAS
        assert primary.load_balancing_strategy is None
        assert await redis_client(plain, replica_reads=True) is await redis_client(plain)

        sent: list[str] = []
        through = reader.execute_command

        async def recording(*args, **kwargs):
            sent.append(str(args[0]))
            return await through(*args, **kwargs)

        reader.execute_command = recording  # a pass-through: which commands reach the replica client
        await cache.set("textapi:v1:qa:abc", {"result": "kept"}, ttl_s=60)
        assert await fleet.incr("rate", 2, ttl_s=60) == 2
        await fleet.incr_many({"a": 1, "b": 2}, ttl_s=60)
        assert await fleet.read_counters(["rate", "a", "b"]) == {"rate": 2, "a": 1, "b": 2}
        assert sent == []  # counters (and writes) never go to replicas
        # No replicas here: the replica client falls back to the primaries.
        assert (await cache.get("textapi:v1:qa:abc")).value == {"result": "kept"}
        assert sent == ["GET"]

    run(scenario)


def test_a_password_from_ssm_is_read_on_first_use_not_when_the_stores_are_built(moto_endpoint):
    ssm = boto3.client("ssm", endpoint_url=moto_endpoint, region_name="us-east-1")
    name, wrong = (
        f"/textapi/test-{uuid.uuid4().hex[:8]}/redis-password",
        f"/textapi/test-{uuid.uuid4().hex[:8]}/w",
    )
    with RedisProcess(password="s3cret-from-ssm") as server:
        common = {"cache_backend": "redis", "redis_url": server.url, "aws_endpoint_url": moto_endpoint}
        configured = SharedSettings(**common, redis_password_ssm_parameter=name)
        cache = build_cache(configured, CacheGeneration())  # nothing in SSM yet
        fleet = build_fleet_state(configured)
        ssm.put_parameter(Name=name, Value="s3cret-from-ssm", Type="SecureString")
        ssm.put_parameter(Name=wrong, Value="not-the-password", Type="SecureString")
        refused = RedisCache(SharedSettings(**common, redis_password_ssm_parameter=wrong))
        unreadable = RedisCache(SharedSettings(**common, redis_password_ssm_parameter=f"{name}-missing"))

        async def scenario():
            assert await fleet.incr("authenticated", 1, ttl_s=60) == 1
            await cache.set("textapi:v1:qa:authenticated", {"result": "kept"}, ttl_s=60)
            assert cache.back.state == "closed"
            assert fleet.guard.state == "closed"
            status = await refused.status()
            assert not status.connected
            assert status.detail == "unreachable: authentication failed (REDIS_USERNAME / REDIS_PASSWORD)"
            assert "s3cret" not in status.detail
            missing = await unreadable.status()
            assert missing.detail == (
                "unreachable: the password in REDIS_PASSWORD_SSM_PARAMETER could not be read from SSM"
            )

        run(scenario)


class SilentServer:
    """Accepts TCP connections and never says a word (a black-holed or overloaded endpoint)."""

    def __enter__(self) -> SilentServer:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.port = self._socket.getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self._socket.close()


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        (
            "plain TCP to the TLS cluster",
            "connection closed by the server; a TLS-only server needs a rediss:// URL",
        ),
        (
            "certificate from an unknown CA",
            "TLS certificate not trusted (self-signed certificate in certificate chain)",
        ),
        ("a server that never answers", "no answer within 0.3 s"),
    ],
)
def test_an_unusable_cluster_is_a_clear_bounded_error_in_health_and_logs(
    redis_cluster, tmp_path, caplog, case, reason
):
    with SilentServer() as silent:
        overrides = {
            "plain TCP to the TLS cluster": {"redis_url": redis_cluster.url.replace("rediss://", "redis://")},
            "certificate from an unknown CA": {
                "redis_url": redis_cluster.url,
                "redis_tls_ca_file": str(issue_certificates(tmp_path, ca_name="stranger CA").ca_file),
            },
            "a server that never answers": {
                "redis_url": f"rediss://127.0.0.1:{silent.port}",
                "redis_tls_ca_file": redis_cluster.ca_file,
            },
        }[case]
        common = {
            "stage": "dev",
            "api_key": PUBLIC_KEY,
            "internal_api_keys": [ADMIN_KEY],
            "cache_backend": "redis",
            "redis_connect_timeout": 0.3,
            "redis_socket_timeout": 0.3,
            "cache_failure_threshold": 1,
            **overrides,
        }
        internal = LambdaClient(create_internal_app(InternalApiSettings(**common)))
        started = time.perf_counter()
        health = internal.request("GET", "/internal/monitoring/health", headers={"X-API-Key": ADMIN_KEY})
        elapsed = time.perf_counter() - started
        cache = health.json()["components"]["cache"]
        assert (cache["status"], cache["backend"]) == ("degraded", "tiered(memory+redis)")
        assert f"back: unreachable: {reason}" in cache["detail"]
        # The reason above comes from the client's own 0.3 s timeouts (two attempts), not from the health
        # check's 2 s budget running out, which would read "no answer within 2 s": never a hang.
        assert elapsed < 2.0

        caplog.clear()
        public = LambdaClient(create_public_app(PublicApiSettings(**common)))
        body = {
            "text": "The harbour ferry now runs every twenty minutes on weekdays.",
            "operation": "sentiment",
        }
        answered = public.request(
            "POST", "/v1/text_processing/process", json_body=body, headers={"X-API-Key": PUBLIC_KEY}
        )
        assert answered.status_code == 200  # a miss, answered by the AI
        logged = [record for record in caplog.records if record.getMessage() == "cache backend error"]
        assert logged
        assert reason in logged[0].reason
