"""Redis / Valkey (ElastiCache) backend, single node or cluster mode (see `redis_client`).

Physical keys are `{namespace}{key}`. A value is a 17-byte header (format, stored_at, expires_at)
followed by the codec's bytes, written with `SET ... EX ttl + grace` so Redis itself drops it once it
cannot even be served stale. Counters, leases and budgets on the same server are the fleet state's
(`fleet.redis_state`), never the cache's.

In cluster mode every command touches one hash slot: invalidation scans every primary.
"""

from __future__ import annotations

import asyncio
import fnmatch
import math
import re
import struct
import time
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
from textapi_shared.redis_client import describe_failure_for, is_cluster, redis_client

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.config import SharedSettings
    from textapi_shared.redis_client import RedisClient

_HEADER = struct.Struct(">Bdd")
_FORMAT = 1
_SCAN_COUNT = 500
_STATUS_SCAN_COUNT = 1000
_STATUS_SCAN_LIMIT = 100_000
_GLOB_CHARS = re.compile(r"[*?\[\]\\]")


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
        client: RedisClient | None = None,
        namespace: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._injected = client
        self._namespace = namespace
        self._clock = clock
        self._grace = settings.cache_stale_grace_seconds
        self._threshold = settings.cache_compression_threshold

    async def _client(self) -> RedisClient:
        return self._injected if self._injected is not None else await redis_client(self._settings)

    async def _reader(self) -> RedisClient:
        """The client for cache gets: the replica-reading one when `REDIS_READ_FROM_REPLICAS` is on."""
        if self._injected is not None:
            return self._injected
        return await redis_client(self._settings, replica_reads=True)

    def physical_key(self, key: str) -> str:
        return f"{self._namespace}{key}"

    def describe_failure(self, exc: BaseException) -> str:
        """Why a call failed, for health and log lines (see `redis_client.describe_redis_failure`)."""
        return describe_failure_for(self._settings, exc)

    async def get(self, key: str) -> CacheEntry | None:
        data = await (await self._reader()).get(self.physical_key(key))
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
        client = await self._client()
        await client.set(self.physical_key(key), data, ex=max(1, math.ceil(ttl_s + self._grace)))
        return StoredSize(encoded.raw_bytes, encoded.stored_bytes)

    async def invalidate(
        self, *, pattern: str | None = None, operation: str | None = None, everything: bool = False
    ) -> InvalidationResult:
        """SCAN MATCH (never KEYS) + UNLINK per batch on every primary; only cache entries (`textapi:v1:*`)
        are touched. A primary that fails raises: the caller must not report a partial wipe as done."""
        require_invalidation_target(pattern, operation, everything)
        if everything:
            glob, operation = f"{KEY_PREFIX}*", None
        else:
            glob = pattern if pattern is not None else operation_pattern(str(operation))
        client = await self._client()
        match = _scan_match(self._namespace, glob)
        if not is_cluster(client):
            removed = await self._scan_unlink(client, match, glob, operation, None)
            return InvalidationResult(removed, "scan_unlink", f"removed {removed} keys matching {glob!r}")
        primaries = await _primaries(client)
        counts = await asyncio.gather(
            *(self._scan_unlink(client, match, glob, operation, node) for node in primaries)
        )
        removed = sum(counts)
        detail = f"removed {removed} keys matching {glob!r} on {len(primaries)} primaries"
        return InvalidationResult(removed, "scan_unlink_every_primary", detail)

    async def _scan_unlink(
        self, client: RedisClient, match: str, glob: str, operation: str | None, node: Any
    ) -> int:
        """One node's SCAN loop (`node` None: the single server); UNLINK is split by slot in a cluster."""
        target = {} if node is None else {"target_nodes": node}
        removed, cursor = 0, 0
        while True:
            cursor, found = await client.scan(cursor=cursor, match=match, count=_SCAN_COUNT, **target)
            if node is not None:
                cursor = cursor[node.name]  # a cluster answers {node name: cursor}
            doomed = [raw for raw in found if self._selects(raw, glob, operation)]
            if doomed:
                removed += await client.unlink(*doomed)
            if cursor == 0:
                return removed

    def _selects(self, raw: bytes, glob: str, operation: str | None) -> bool:
        logical = raw.decode("utf-8", "replace")[len(self._namespace) :]
        return (
            logical.startswith(KEY_PREFIX)
            and fnmatch.fnmatchcase(logical, glob)
            and (operation is None or operation_of(logical) == operation)
        )

    async def status(self) -> CacheStatus:
        """PING latency, cache entries counted by SCAN (bounded), and `INFO memory` used_memory; in a
        cluster each of them on every primary (a primary that does not answer makes the cache unreachable)."""
        try:
            client = await self._client()
            nodes = await _primaries(client) if is_cluster(client) else [None]
            started = time.perf_counter()
            await asyncio.gather(*(_ping(client, node) for node in nodes))
            latency_ms = round((time.perf_counter() - started) * 1000, 2)
            counted = await asyncio.gather(*(self._count_entries(client, node) for node in nodes))
            memory = await asyncio.gather(*(_used_memory(client, node) for node in nodes))
        except Exception as exc:  # status reports a failure, it never raises it
            reason = self.describe_failure(exc)
            return CacheStatus(self.name, False, None, None, None, f"unreachable: {reason}")
        entries = sum(count for count, _ in counted)
        complete = all(done for _, done in counted)
        what = "entries" if complete else f"entries at least (stopped after {_STATUS_SCAN_LIMIT} keys a node)"
        where = "the whole server's" if nodes == [None] else f"summed over {len(nodes)} primaries"
        return CacheStatus(
            backend=self.name,
            connected=True,
            latency_ms=latency_ms,
            entries=entries,
            memory_bytes=sum(memory) if None not in memory else None,
            detail=f"{entries} {what}; used_memory is {where}",
        )

    async def ping(self) -> float:
        client = await self._client()
        started = time.perf_counter()
        await client.ping()
        return round((time.perf_counter() - started) * 1000, 2)

    async def _count_entries(self, client: RedisClient, node: Any) -> tuple[int, bool]:
        match = _scan_match(self._namespace, KEY_PREFIX)
        target = {} if node is None else {"target_nodes": node}
        entries, visited, cursor = 0, 0, 0
        while True:
            cursor, found = await client.scan(cursor=cursor, match=match, count=_STATUS_SCAN_COUNT, **target)
            if node is not None:
                cursor = cursor[node.name]
            entries += len(found)
            visited += _STATUS_SCAN_COUNT  # SCAN's COUNT is a hint: this is approximate
            if cursor == 0:
                return entries, True
            if visited >= _STATUS_SCAN_LIMIT:
                return entries, False


async def _primaries(client: Any) -> list[Any]:
    """Every primary of the cluster (the slot map is loaded first if this client has not yet)."""
    await client.initialize()
    return client.get_primaries()


async def _ping(client: RedisClient, node: Any) -> None:
    await (client.ping() if node is None else client.ping(target_nodes=node))


async def _used_memory(client: RedisClient, node: Any) -> int | None:
    info = await (client.info("memory") if node is None else client.info("memory", target_nodes=node))
    used = info.get("used_memory")
    return int(used) if used is not None else None
