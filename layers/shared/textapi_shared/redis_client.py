"""The one Redis client per execution environment and event loop: single node or cluster mode, TLS, auth.

ElastiCache Serverless is cluster-mode and TLS-only; a self-managed Redis may be either. The client is
built on first use (never at init: a SnapStart snapshot must hold no connection and no secret), with
bounded connect and socket timeouts, and reused by every later call on the same loop.

`redis` is imported only when a client is built.
"""

from __future__ import annotations

import asyncio
import ssl
import weakref
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from redis.asyncio import Redis, RedisCluster

    from textapi_shared.config import SharedSettings

    RedisClient = Redis | RedisCluster


class _ClientSpec(NamedTuple):
    """What a client is built from: two settings objects that agree here share one client."""

    url: str
    connect_timeout: float
    socket_timeout: float
    cluster_mode: str
    tls_ca_file: str
    username: str
    password: str
    password_ssm_parameter: str
    replica_reads: bool


_clients: dict[tuple[_ClientSpec, int], tuple[weakref.ref[asyncio.AbstractEventLoop], RedisClient]] = {}
_locks: dict[tuple[_ClientSpec, int], tuple[weakref.ref[asyncio.AbstractEventLoop], asyncio.Lock]] = {}
# Whether the server at a URL runs in cluster mode: asked once per execution environment, not per loop.
_cluster_mode: dict[_ClientSpec, bool] = {}


def _spec(settings: SharedSettings, replica_reads: bool) -> _ClientSpec:
    return _ClientSpec(
        settings.redis_url,
        settings.redis_connect_timeout,
        settings.redis_socket_timeout,
        settings.redis_cluster_mode,
        settings.redis_tls_ca_file,
        settings.redis_username,
        settings.redis_password,
        settings.redis_password_ssm_parameter,
        replica_reads,
    )


async def redis_client(settings: SharedSettings, *, replica_reads: bool = False) -> RedisClient:
    """The shared client for `REDIS_URL` on the running event loop (bytes, not str).

    `replica_reads=True` asks for the client that may read from replicas: a separate one, and only when
    `REDIS_READ_FROM_REPLICAS` is on in cluster mode (otherwise the primary client). Use it for cache gets
    alone: counters, rate limits and breaker state must read what was last written.

    Connection pools are bound to the loop that created them: Lambda reuses one loop, so this is one
    client per execution environment; tests that run several loops get one per loop.
    """
    loop = asyncio.get_running_loop()
    key = (_spec(settings, replica_reads and settings.redis_read_from_replicas), id(loop))
    found = _clients.get(key)
    if found is not None and found[0]() is loop:
        return found[1]
    _forget_closed_loops()
    held = _locks.get(key)
    if held is None or held[0]() is not loop:
        held = _locks[key] = (weakref.ref(loop), asyncio.Lock())
    async with held[1]:  # concurrent first calls build one client, not one each
        found = _clients.get(key)
        if found is not None and found[0]() is loop:
            return found[1]
        client = await _build(settings, key[0])
        _clients[key] = (weakref.ref(loop), client)
        return client


async def new_redis_client(settings: SharedSettings) -> RedisClient:
    """A client of its own, configured as `redis_client`'s (topology, TLS, credentials, timeouts) but shared
    with nothing: for tools and tests that need a second, independent connection pool."""
    return await _build(settings, _spec(settings, False))


def _forget_closed_loops() -> None:
    for registry in (_clients, _locks):
        for stale in [k for k, (ref, _) in registry.items() if _loop_gone(ref)]:
            del registry[stale]


def _loop_gone(ref: weakref.ref[asyncio.AbstractEventLoop]) -> bool:
    loop = ref()
    return loop is None or loop.is_closed()


async def close_redis_clients() -> None:
    """Close and forget the clients of the running loop (tests; graceful shutdown)."""
    loop = asyncio.get_running_loop()
    for key, (ref, client) in list(_clients.items()):
        if ref() is loop:
            del _clients[key]
            await client.aclose()


def is_cluster(client: Any) -> bool:
    return isinstance(client, _cluster_class())


@cache
def _cluster_class() -> type:
    # Imported once, not per call: an import statement costs microseconds on every request's path.
    from redis.asyncio.cluster import RedisCluster

    return RedisCluster


async def _build(settings: SharedSettings, spec: _ClientSpec) -> RedisClient:
    from redis.asyncio import Redis, RedisCluster
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    # One immediate retry: a connection left stale by a frozen (or restored) environment reconnects once;
    # in cluster mode the retry also follows a failover (the slot map is reloaded first).
    options: dict[str, Any] = {
        "socket_connect_timeout": spec.connect_timeout,
        "socket_timeout": spec.socket_timeout,
        "retry": Retry(NoBackoff(), 1),
        "decode_responses": False,
    }
    if settings.redis_tls:
        options["ssl_cert_reqs"] = "required"  # the default; stated because nothing may turn it off
        if spec.tls_ca_file:
            options["ssl_ca_certs"] = spec.tls_ca_file
    if spec.password_ssm_parameter:
        options["credential_provider"] = SsmPasswordProvider(settings, spec.username)
    elif spec.username or spec.password:
        options["username"] = spec.username or None
        options["password"] = spec.password or None

    if not await _is_cluster_mode(spec, Redis, options):
        client = Redis.from_url(spec.url, **options)
        if settings.redis_tls:
            client.connection_pool.connection_class = _shared_context_ssl_connection()
        return client
    if spec.replica_reads:
        from redis.cluster import LoadBalancingStrategy

        # ElastiCache Serverless serves replica reads on port 6380 (READONLY connections).
        options["load_balancing_strategy"] = LoadBalancingStrategy.ROUND_ROBIN_REPLICAS
    cluster = RedisCluster.from_url(spec.url, **options)
    if settings.redis_tls:
        # Nodes discovered later are built from these kwargs; the startup node exists already.
        shared = _shared_context_ssl_connection()
        cluster.nodes_manager.connection_kwargs["connection_class"] = shared
        for node in cluster.nodes_manager.startup_nodes.values():
            node.connection_class = shared
    # Load the slot map now, under the caller's lock: commands sent to a client that has none yet are
    # routed to any node, and redis-py closes every connection (in-flight ones too) after a few MOVEDs.
    await cluster.initialize()
    return cluster


_ssl_connection_class: type | None = None
_ssl_contexts: dict[tuple[Any, ...], Any] = {}


def _shared_context_ssl_connection() -> type:
    """redis-py's TLS connection, but with one `SSLContext` per TLS configuration instead of one per
    connection. Building a context loads the system CA bundle (about 25 ms of CPU with OpenSSL 3, on the
    event loop): a burst of new connections (a batch, a reconnect after failover) would otherwise stall
    the loop long enough for in-flight commands to hit the socket timeout."""
    global _ssl_connection_class
    if _ssl_connection_class is None:
        from redis.asyncio.connection import RedisSSLContext, SSLConnection

        class SharedContextSSLConnection(SSLConnection):
            def __init__(self, **kwargs: Any) -> None:
                super().__init__(**kwargs)
                own = self.ssl_context
                key = tuple(getattr(own, slot) for slot in RedisSSLContext.__slots__ if slot != "context")
                self.ssl_context = _ssl_contexts.setdefault(key, own)

        _ssl_connection_class = SharedContextSSLConnection
    return _ssl_connection_class


async def _is_cluster_mode(spec: _ClientSpec, redis_class: type[Redis], options: dict[str, Any]) -> bool:
    if spec.cluster_mode != "auto":
        return spec.cluster_mode == "on"
    mode_key = spec._replace(replica_reads=False)
    if mode_key not in _cluster_mode:
        probe = redis_class.from_url(spec.url, **options)
        try:
            info = await probe.info("cluster")
        finally:
            await probe.aclose()
        _cluster_mode[mode_key] = bool(int(info.get("cluster_enabled", 0)))
    return _cluster_mode[mode_key]


class RedisPasswordUnavailableError(Exception):
    """The password parameter could not be read (missing, forbidden, or SSM unreachable)."""


class SsmPasswordProvider:
    """Redis credentials with the password from an SSM SecureString (`REDIS_PASSWORD_SSM_PARAMETER`).

    redis-py asks for credentials on every new connection; the parameter is read through
    `SecureParameters` (cached `SECRETS_CACHE_SECONDS`, a failure `SECRETS_RETRY_SECONDS`), in a thread
    so the loop never blocks on SSM. A rotated password is therefore picked up by the next connection
    after the cache expires.
    """

    def __init__(self, settings: SharedSettings, username: str) -> None:
        from textapi_shared.aws import SecureParameters

        self._settings = settings
        self._username = username
        self._secrets = SecureParameters(settings)

    def get_credentials(self) -> tuple[str] | tuple[str, str]:
        try:
            password = self._secrets.get(self._settings.redis_password_ssm_parameter)
        except Exception as exc:
            raise RedisPasswordUnavailableError from exc  # the parameter's name stays in the cause (logs)
        return (self._username, password) if self._username else (password,)

    async def get_credentials_async(self) -> tuple[str] | tuple[str, str]:
        return await asyncio.to_thread(self.get_credentials)


def describe_failure_for(settings: SharedSettings, exc: BaseException) -> str:
    """`describe_redis_failure` with the TLS and timeouts `settings` give the client."""
    timeout_s = max(settings.redis_connect_timeout, settings.redis_socket_timeout)
    return describe_redis_failure(exc, tls=settings.redis_tls, timeout_s=timeout_s)


def describe_redis_failure(exc: BaseException, *, tls: bool, timeout_s: float) -> str:
    """A short, secret-free reason for a failed Redis call, for health details and log lines.

    Classified by exception type along the cause chain (never by message text): an untrusted
    certificate, a failed handshake, a refused or reset connection, a timeout, rejected credentials,
    a cluster that is down.
    """
    from redis import exceptions as redis_errors

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__

    def found(*types: type[BaseException]) -> BaseException | None:
        return next((error for error in chain if isinstance(error, types)), None)

    if (untrusted := found(ssl.SSLCertVerificationError)) is not None:
        return (
            f"TLS certificate not trusted ({getattr(untrusted, 'verify_message', '')}): "
            "REDIS_TLS_CA_FILE must name the CA that signed the server's certificate"
        )
    if (handshake := found(ssl.SSLError)) is not None:
        return f"TLS handshake failed ({getattr(handshake, 'reason', None) or type(handshake).__name__})"
    if found(RedisPasswordUnavailableError) is not None:
        return "the password in REDIS_PASSWORD_SSM_PARAMETER could not be read from SSM"
    if found(redis_errors.AuthenticationError) is not None:
        return "authentication failed (REDIS_USERNAME / REDIS_PASSWORD)"
    if found(redis_errors.ClusterDownError) is not None:
        return "cluster down: a shard has no reachable primary"
    if found(redis_errors.TimeoutError, TimeoutError) is not None:
        return f"no answer within {timeout_s:g} s"
    if found(ConnectionRefusedError) is not None:
        return "connection refused"
    if not tls and found(ConnectionResetError, redis_errors.ConnectionError) is not None:
        # A TLS-only server (ElastiCache Serverless, `--port 0 --tls-port`) drops a plaintext client.
        return "connection closed by the server; a TLS-only server needs a rediss:// URL"
    return type(exc).__name__
