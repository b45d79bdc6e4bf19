"""Circuit-breaker state in Redis / Valkey (ElastiCache), single node or cluster mode: fleet-wide breakers.

Keys (prefix default `textapi:resilience:`, outside the cache's `textapi:v1:` namespace), all of one
breaker under the hash tag `{breaker:<name>}` so they share a cluster slot and its scripts stay atomic:
`{prefix}{breaker:<name>}` hash (open_until, opened_at, probe_owner, probe_until),
`{prefix}{breaker:<name>}:failures` hash (count, until: the count restarts after `window_s` without
failures),
`{prefix}{breaker:<name>}:stats` hash of call statistics. Opening and the probe election are Lua
scripts, so two instances can never both open the same breaker or both probe it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from textapi_shared.resilience.breaker_store import STAT_FIELDS, SharedState

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textapi_shared.redis_client import RedisClient

DEFAULT_PREFIX = "textapi:resilience:"

_OPEN = """
local now = tonumber(ARGV[1])
if tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0') > now then
  return {0, redis.call('HGETALL', KEYS[1])}
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'open_until', ARGV[2], 'opened_at', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, redis.call('HGETALL', KEYS[1])}
"""
_ACQUIRE_PROBE = """
local now = tonumber(ARGV[1])
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
local probe_until = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if open_until > 0 and open_until <= now and probe_until <= now then
  redis.call('HSET', KEYS[1], 'probe_owner', ARGV[2], 'probe_until', ARGV[3])
  return {1, redis.call('HGETALL', KEYS[1])}
end
return {0, redis.call('HGETALL', KEYS[1])}
"""
_ADD_FAILURE = """
local now = tonumber(ARGV[1])
local count = 1
if tonumber(redis.call('HGET', KEYS[2], 'until') or '0') > now then
  count = redis.call('HINCRBY', KEYS[2], 'count', 1)
else
  redis.call('HSET', KEYS[2], 'count', 1)
end
redis.call('HSET', KEYS[2], 'until', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {count, redis.call('HGETALL', KEYS[1])}
"""
_RELEASE_PROBE = """
if redis.call('HGET', KEYS[1], 'probe_owner') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'probe_owner', 'probe_until')
end
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _state(fields: Any, failures: Any = None) -> SharedState:
    """A state from HGETALL's reply (a dict, or the flat list a Lua script returns)."""
    if isinstance(fields, list):
        fields = dict(zip(fields[::2], fields[1::2], strict=True))
    values = {_text(k): _text(v) for k, v in (fields or {}).items()}
    return SharedState(
        open_until=float(values.get("open_until", 0)),
        opened_at=float(values.get("opened_at", 0)),
        failures=int(failures or 0),
        probe_owner=values.get("probe_owner", ""),
        probe_until=float(values.get("probe_until", 0)),
    )


class RedisBreakerStore:
    name = "redis"
    shared = True

    def __init__(
        self,
        client: RedisClient | Callable[[], Awaitable[RedisClient]],
        *,
        prefix: str = DEFAULT_PREFIX,
        state_ttl_s: int = 86_400,
    ) -> None:
        """`client`: a Redis or RedisCluster client, or an async function returning the one for the
        running loop (`redis_client`)."""
        is_client = hasattr(client, "execute_command")
        self._fixed: RedisClient | None = client if is_client else None  # type: ignore[assignment]
        self._factory: Callable[[], Awaitable[RedisClient]] | None = None if is_client else client  # type: ignore[assignment]
        self._prefix = prefix
        self._ttl = state_ttl_s

    async def _redis(self) -> RedisClient:
        return self._fixed if self._fixed is not None else await self._factory()  # type: ignore[misc]

    def _keys(self, name: str) -> tuple[str, str]:
        state = f"{self._prefix}{{breaker:{name}}}"
        return state, f"{state}:failures"

    def _stats_key(self, name: str) -> str:
        return f"{self._prefix}{{breaker:{name}}}:stats"

    async def get(self, name: str) -> SharedState:
        state_key, failures_key = self._keys(name)
        redis = await self._redis()
        async with redis.pipeline(transaction=False) as pipe:
            fields, failures = await pipe.hgetall(state_key).hget(failures_key, "count").execute()
        return _state(fields, failures)

    async def add_failure(self, name: str, *, now: float, window_s: float) -> SharedState:
        until, ttl = repr(now + window_s), max(1, math.ceil(window_s))
        redis = await self._redis()
        failures, fields = await redis.eval(_ADD_FAILURE, 2, *self._keys(name), repr(now), until, ttl)
        return _state(fields, failures)

    async def open(self, name: str, *, now: float, open_until: float) -> tuple[bool, SharedState]:
        ttl = max(self._ttl, int(open_until - now) + 3600)
        redis = await self._redis()
        opened, fields = await redis.eval(_OPEN, 2, *self._keys(name), repr(now), repr(open_until), ttl)
        return bool(opened), _state(fields)

    async def acquire_probe(
        self, name: str, *, owner: str, now: float, lease_until: float
    ) -> tuple[bool, SharedState]:
        state_key, _ = self._keys(name)
        redis = await self._redis()
        acquired, fields = await redis.eval(_ACQUIRE_PROBE, 1, state_key, repr(now), owner, repr(lease_until))
        return bool(acquired), _state(fields)

    async def release_probe(self, name: str, *, owner: str) -> None:
        await (await self._redis()).eval(_RELEASE_PROBE, 1, self._keys(name)[0], owner)

    async def close(self, name: str) -> None:
        await (await self._redis()).delete(*self._keys(name))  # one slot: one DEL

    async def clear_failures(self, name: str) -> None:
        await (await self._redis()).delete(self._keys(name)[1])

    async def sync(self, name: str, stats: dict[str, int]) -> SharedState:
        state_key, failures_key = self._keys(name)
        redis = await self._redis()
        async with redis.pipeline(transaction=False) as pipe:
            for field, delta in stats.items():
                pipe.hincrby(self._stats_key(name), field, delta)
            replies = await pipe.hgetall(state_key).hget(failures_key, "count").execute()
        return _state(replies[-2], replies[-1])

    async def read_stats(self, names: tuple[str, ...]) -> dict[str, dict[str, int]]:
        redis = await self._redis()
        async with redis.pipeline(transaction=False) as pipe:  # in a cluster: one batch per node
            for name in names:
                pipe.hgetall(self._stats_key(name))
            replies = await pipe.execute()
        result = {}
        for name, reply in zip(names, replies, strict=True):
            values = {_text(k): int(v) for k, v in (reply or {}).items()}
            result[name] = {f: values.get(f, 0) for f in STAT_FIELDS}
        return result

    async def reset_stats(self, names: tuple[str, ...]) -> None:
        # The breakers' stats keys sit in different slots: redis-py splits the DEL by slot in a cluster.
        await (await self._redis()).delete(*(self._stats_key(n) for n in names))
