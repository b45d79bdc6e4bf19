"""Redis / Valkey (ElastiCache) backend, and the one Redis client per execution environment and loop.

`redis` is imported only when a client is built. Physical keys are `{namespace}{key}`; counters live
under `{namespace}textapi:counter:{key}`. A value is a 17-byte header (format, stored_at, expires_at)
followed by the codec's bytes, written with `SET ... EX ttl + grace` so Redis itself drops it once it
cannot even be served stale.
"""

from __future__ import annotations

import asyncio
import fnmatch
import math
import re
import struct
import time
import weakref
from typing import TYPE_CHECKING, Any

from textapi_shared.cache.codec import CacheDecodeError, decode, encode
from textapi_shared.cache.keys import KEY_PREFIX, operation_of, operation_pattern
from textapi_shared.cache.protocol import (
    CacheEntry,
    CacheStatus,
    InvalidationResult,
    StoredSize,
    require_invalidation_target,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from redis.asyncio import Redis

    from textapi_shared.config import SharedSettings

COUNTER_PREFIX = "textapi:counter:"
_HEADER = struct.Struct(">Bdd")
_FORMAT = 1
_SCAN_COUNT = 500
_STATUS_SCAN_COUNT = 1000
_STATUS_SCAN_LIMIT = 100_000
_GLOB_CHARS = re.compile(r"[*?\[\]\\]")

_clients: dict[tuple[str, float, float, int], tuple[weakref.ref[asyncio.AbstractEventLoop], Redis]] = {}


def redis_client(settings: SharedSettings) -> Redis:
    """The shared `redis.asyncio.Redis` for `REDIS_URL` on the running event loop (bytes, not str).

    Connection pools are bound to the loop that created them: Lambda reuses one loop, so this is one
    pool per execution environment; tests that run several loops get one client per loop. Short
    connect/socket timeouts and a single immediate retry (a connection left stale by a frozen
    environment reconnects once) keep a dead server from stalling requests.
    """
    loop = asyncio.get_running_loop()
    key = (settings.redis_url, settings.redis_connect_timeout, settings.redis_socket_timeout, id(loop))
    found = _clients.get(key)
    if found is not None and found[0]() is loop:
        return found[1]
    for stale in [k for k, (ref, _) in _clients.items() if _loop_gone(ref)]:
        del _clients[stale]
    client = _build_client(settings)
    _clients[key] = (weakref.ref(loop), client)
    return client


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


def _build_client(settings: SharedSettings) -> Redis:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=settings.redis_connect_timeout,
        socket_timeout=settings.redis_socket_timeout,
        retry=Retry(NoBackoff(), 1),
        decode_responses=False,
    )


def _scan_match(namespace: str, pattern: str) -> str:
    """A server-side MATCH that is a superset of `pattern`: its literal prefix plus `*`."""
    literal = _GLOB_CHARS.split(pattern, 1)[0]
    return _GLOB_CHARS.sub(lambda m: "\\" + m.group(0), namespace + literal) + "*"


class RedisCache:
    name = "redis"

    def __init__(
        self,
        settings: SharedSettings,
        *,
        client: Redis | None = None,
        namespace: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._injected = client
        self._namespace = namespace
        self._clock = clock
        self._grace = settings.cache_stale_grace_seconds
        self._threshold = settings.cache_compression_threshold

    def _client(self) -> Redis:
        return self._injected if self._injected is not None else redis_client(self._settings)

    def physical_key(self, key: str) -> str:
        return f"{self._namespace}{key}"

    def _counter_key(self, key: str) -> str:
        return f"{self._namespace}{COUNTER_PREFIX}{key}"

    async def get(self, key: str) -> CacheEntry | None:
        data = await self._client().get(self.physical_key(key))
        if data is None:
            return None
        if len(data) <= _HEADER.size or data[0] != _FORMAT:
            raise CacheDecodeError("unknown Redis value header")
        _, stored_at, expires_at = _HEADER.unpack_from(data)
        now = self._clock()
        if now >= expires_at + self._grace:
            return None
        return CacheEntry(decode(data[_HEADER.size :]), stored_at, expires_at, checked_at=now)

    async def set(self, key: str, value: dict[str, Any], *, ttl_s: int) -> StoredSize | None:
        now = self._clock()
        encoded = encode(value, threshold=self._threshold)
        data = _HEADER.pack(_FORMAT, now, now + ttl_s) + encoded.data
        await self._client().set(self.physical_key(key), data, ex=max(1, math.ceil(ttl_s + self._grace)))
        return StoredSize(encoded.raw_bytes, encoded.stored_bytes)

    async def invalidate(
        self, *, pattern: str | None = None, operation: str | None = None, everything: bool = False
    ) -> InvalidationResult:
        """SCAN MATCH (never KEYS) + UNLINK per batch; only cache entries (`textapi:v1:*`) are touched."""
        require_invalidation_target(pattern, operation, everything)
        if everything:
            glob, operation = f"{KEY_PREFIX}*", None
        else:
            glob = pattern if pattern is not None else operation_pattern(str(operation))
        client = self._client()
        match = _scan_match(self._namespace, glob)
        removed, cursor = 0, 0
        while True:
            cursor, found = await client.scan(cursor=cursor, match=match, count=_SCAN_COUNT)
            doomed = [raw for raw in found if self._selects(raw, glob, operation)]
            if doomed:
                removed += await client.unlink(*doomed)
            if cursor == 0:
                break
        return InvalidationResult(removed, "scan_unlink", f"removed {removed} keys matching {glob!r}")

    def _selects(self, raw: bytes, glob: str, operation: str | None) -> bool:
        logical = raw.decode("utf-8", "replace")[len(self._namespace) :]
        return (
            logical.startswith(KEY_PREFIX)
            and fnmatch.fnmatchcase(logical, glob)
            and (operation is None or operation_of(logical) == operation)
        )

    async def status(self) -> CacheStatus:
        """PING latency, cache entries counted by SCAN (bounded), and `INFO memory` used_memory."""
        try:
            client = self._client()
            started = time.perf_counter()
            await client.ping()
            latency_ms = round((time.perf_counter() - started) * 1000, 2)
            entries, complete = await self._count_entries(client)
            used_memory = (await client.info("memory")).get("used_memory")
        except Exception as exc:  # status reports a failure, it never raises it
            return CacheStatus(self.name, False, None, None, None, f"unreachable: {type(exc).__name__}")
        counted = "entries" if complete else f"entries at least (stopped after {_STATUS_SCAN_LIMIT} keys)"
        return CacheStatus(
            backend=self.name,
            connected=True,
            latency_ms=latency_ms,
            entries=entries,
            memory_bytes=int(used_memory) if used_memory is not None else None,
            detail=f"{entries} {counted}; used_memory is the whole server's",
        )

    async def ping(self) -> float:
        started = time.perf_counter()
        await self._client().ping()
        return round((time.perf_counter() - started) * 1000, 2)

    async def _count_entries(self, client: Redis) -> tuple[int, bool]:
        match = _scan_match(self._namespace, KEY_PREFIX)
        entries, visited, cursor = 0, 0, 0
        while True:
            cursor, found = await client.scan(cursor=cursor, match=match, count=_STATUS_SCAN_COUNT)
            entries += len(found)
            visited += _STATUS_SCAN_COUNT  # SCAN's COUNT is a hint: this is approximate
            if cursor == 0:
                return entries, True
            if visited >= _STATUS_SCAN_LIMIT:
                return entries, False

    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        """INCRBY + EXPIRE NX in one MULTI/EXEC: the TTL is set once, by whichever call creates the key."""
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.incrby(self._counter_key(key), amount)
            pipe.expire(self._counter_key(key), ttl_s, nx=True)
            value, _ = await pipe.execute()
        return int(value)

    async def incr_many(self, amounts: Mapping[str, int], ttl_s: int) -> None:
        if not amounts:
            return
        async with self._client().pipeline(transaction=True) as pipe:
            for key, amount in amounts.items():
                pipe.incrby(self._counter_key(key), amount)
                pipe.expire(self._counter_key(key), ttl_s, nx=True)
            await pipe.execute()

    async def read_counters(self, keys: list[str]) -> dict[str, int]:
        if not keys:
            return {}
        values = await self._client().mget([self._counter_key(key) for key in keys])
        return {key: int(value) if value is not None else 0 for key, value in zip(keys, values, strict=True)}
