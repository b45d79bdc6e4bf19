"""The fleet state in Redis / Valkey (ElastiCache): counters, single-flight leases and sliding-window
budgets, single node or cluster mode, on the same client as the Redis response cache.

Keys (after the namespace): counters `textapi:counter:{key}`; leases `textapi:lease:{<key>}`
(`SET NX PX`: Redis drops a lapsed one itself); a budget's spends `textapi:window:{<key>}:log` (a sorted
set scored by time, each member `<units>:<token>`) and their sum `textapi:window:{<key>}:used`, both
expiring a window after the last spend. A budget's two keys share the hash tag of its key, so its script
runs on one slot; counters that belong together carry theirs (`counters.WindowedCounters`).

Every multi-key call is one Lua script per hash slot (MULTI/EXEC would run through redis-py's asyncio
cluster transactions, which block the event loop). On a single node a spend and the request's counters
are one script, one round trip; in a cluster the counters follow the admission, a script per slot.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
from typing import TYPE_CHECKING, Any

from textapi_shared.fleet.protocol import counts_apply, ttl_for
from textapi_shared.fleet.windows import Admission
from textapi_shared.redis_client import describe_failure_for, is_cluster, redis_client

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textapi_shared.config import SharedSettings
    from textapi_shared.fleet.protocol import Watch
    from textapi_shared.redis_client import RedisClient

COUNTER_PREFIX = "textapi:counter:"
LEASE_PREFIX = "textapi:lease:"
WINDOW_PREFIX = "textapi:window:"

# KEYS: counters (in one slot in a cluster); ARGV: their amounts, then their TTLs. Atomic per call. A
# counter is created by its first INCRBY (the value is then the amount): that one sets its TTL, so a
# request's counters cost one command each, not two.
_INCR_WITH_TTL = """
local n = #KEYS
local values = {}
for i, key in ipairs(KEYS) do
  values[i] = redis.call('INCRBY', key, ARGV[i])
  if values[i] == tonumber(ARGV[i]) then redis.call('EXPIRE', key, ARGV[n + i]) end
end
return values
"""
# KEYS: the lease; ARGV: its owner. Deletes it only while that owner still holds it.
_RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# KEYS: the budget's log and sum, the watched counter when ARGV[3] is not '-', then counters to add once
# admitted (a single node only: one slot otherwise). ARGV[1]: "now window limit units member"; ARGV[2]:
# "amount ttl" for each counter, in KEYS order; ARGV[3]: '-' (nothing watched), '' (watched, counts
# unconditional) or the value the watched counter must hold for the counts to be added. Few arguments,
# not one per value: redis-py packs every argument in Python, about 2 µs each.
# Returns {admitted, used, reset_at, retry_at, watched}; times as strings (a Lua number would come back
# an integer).
_ADMIT = """
local now, window, limit, units, member = string.match(ARGV[1], '^(%S+) (%S+) (%S+) (%S+) (%S+)$')
now, window, limit, units = tonumber(now), tonumber(window), tonumber(limit), tonumber(units)
local watched, first_counter = 0, 3
if ARGV[3] ~= '-' then
  watched = tonumber(redis.call('GET', KEYS[3]) or '0')
  first_counter = 4
end
local counts_apply = ARGV[3] == '-' or ARGV[3] == '' or tonumber(ARGV[3]) == watched
local cutoff = now - window
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first > 0 and tonumber(first[2]) <= cutoff then
  for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)) do
    used = used - tonumber(string.match(gone, '^(%d+):'))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
  if used < 0 then used = 0 end
  if used + units > limit then redis.call('SET', KEYS[2], used, 'KEEPTTL') end  -- else set below
  first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
end
local admitted = used + units <= limit
if admitted then
  local ttl = math.ceil(window) + 1
  used = used + units
  redis.call('ZADD', KEYS[1], now, member)
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('SET', KEYS[2], used, 'EX', ttl)
  if counts_apply then
    local i = first_counter
    for amount, ttl_s in string.gmatch(ARGV[2], '(%S+) (%S+)') do
      local value = redis.call('INCRBY', KEYS[i], amount)
      if value == tonumber(amount) then redis.call('EXPIRE', KEYS[i], ttl_s) end
      i = i + 1
    end
  end
end
local reset_at, retry_at = now + window, now
-- the oldest spend leaves first: the one read above, or this one when it is older (callers' clocks differ)
if #first > 0 and (not admitted or tonumber(first[2]) < now) then reset_at = tonumber(first[2]) + window end
if not admitted then
  local need, freed, start = used + units - limit, 0, 0
  retry_at = now + window
  while true do
    local page = redis.call('ZRANGE', KEYS[1], start, start + 99, 'WITHSCORES')
    if #page == 0 then break end
    local found = false
    for i = 1, #page, 2 do
      freed = freed + tonumber(string.match(page[i], '^(%d+):'))
      if freed >= need then retry_at = tonumber(page[i + 1]) + window; found = true; break end
    end
    if found then break end
    start = start + 100
  end
end
return {admitted and 1 or 0, used, string.format('%.6f', reset_at), string.format('%.6f', retry_at), watched}
"""


class _Script:
    """A Lua script sent by its SHA1 (EVALSHA: the text travels and is hashed only when a server does not
    know it yet, after a restart or a failover), loaded again on NOSCRIPT."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA1

    async def __call__(self, client: RedisClient, keys: list[str], *args: Any) -> Any:
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except Exception as exc:
            from redis.exceptions import NoScriptError  # here, not on every call: an import costs µs

            if not isinstance(exc, NoScriptError):
                raise
            await client.script_load(self.text)  # in a cluster: on every primary
            return await client.evalsha(self.sha, len(keys), *keys, *args)


_INCR = _Script(_INCR_WITH_TTL)
_RELEASE = _Script(_RELEASE_LEASE)
_SPEND = _Script(_ADMIT)


class RedisFleetState:
    """Counters, leases and budgets under `namespace`, through the execution environment's client for
    `REDIS_URL` (or `client`, an injected one: tests pass their own)."""

    name = "redis"

    def __init__(
        self, settings: SharedSettings, *, client: RedisClient | None = None, namespace: str = ""
    ) -> None:
        self._settings = settings
        self._injected = client
        self._namespace = namespace
        self._counters = f"{namespace}{COUNTER_PREFIX}"

    async def _client(self) -> RedisClient:
        return self._injected if self._injected is not None else await redis_client(self._settings)

    def describe_failure(self, exc: BaseException) -> str:
        """Why a call failed, for health and log lines (see `redis_client.describe_redis_failure`)."""
        return describe_failure_for(self._settings, exc)

    def counter_key(self, key: str) -> str:
        return self._counters + key

    def lease_key(self, key: str) -> str:
        # The braces put a lease on its own key's slot, so leases spread over the shards.
        return f"{self._namespace}{LEASE_PREFIX}{{{key}}}"

    def window_keys(self, key: str) -> tuple[str, str]:
        base = f"{self._namespace}{WINDOW_PREFIX}{{{key}}}"
        return f"{base}:log", f"{base}:used"

    async def acquire_lease(self, key: str, owner: str, ttl_s: float) -> bool:
        client = await self._client()
        ttl_ms = max(1, math.ceil(ttl_s * 1000))
        return bool(await client.set(self.lease_key(key), owner, nx=True, px=ttl_ms))

    async def release_lease(self, key: str, owner: str) -> None:
        await _RELEASE(await self._client(), [self.lease_key(key)], owner)

    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        """INCRBY + EXPIRE NX in one script: the TTL is set once, by whichever call creates the key."""
        client = await self._client()
        (value,) = await _INCR(client, [self.counter_key(key)], amount, ttl_s)
        return int(value)

    async def incr_many(self, amounts: Mapping[str, int], ttl_s: int | Mapping[str, int]) -> None:
        """One script per hash slot (a single one on a single node), the slots' scripts at once."""
        if not amounts:
            return
        client = await self._client()
        physical = {self.counter_key(key): (amount, ttl_for(ttl_s, key)) for key, amount in amounts.items()}
        groups = list(_by_slot(client, physical).values()) if is_cluster(client) else [list(physical)]
        await asyncio.gather(
            *(
                _INCR(client, keys, *(physical[key][0] for key in keys), *(physical[key][1] for key in keys))
                for keys in groups
            )
        )

    async def read_counters(self, keys: list[str]) -> dict[str, int]:
        """One MGET (in a cluster, one per slot, pipelined per node by redis-py's `mget_nonatomic`)."""
        if not keys:
            return {}
        client = await self._client()
        physical = [self.counter_key(key) for key in keys]
        values = await (client.mget_nonatomic(physical) if is_cluster(client) else client.mget(physical))
        return {key: int(value) if value is not None else 0 for key, value in zip(keys, values, strict=True)}

    async def admit(
        self,
        key: str,
        units: int,
        *,
        limit: int,
        window_s: float,
        now: float,
        counts: Mapping[str, int] | None = None,
        ttls: Mapping[str, int] | None = None,
        watch: Watch | None = None,
    ) -> Admission:
        """One script on a single node: the spend, the watched counter and the counts. In a cluster the
        watched counter is read at the same time (another slot) and the counts' scripts follow."""
        client = await self._client()
        cluster = is_cluster(client)
        inline = {} if cluster or not counts else counts
        spend = f"{now!r} {float(window_s)!r} {limit} {units} {units}:{secrets.token_hex(6)}"
        ttls = ttls or {}
        amounts = " ".join([f"{amount} {ttls[name]}" for name, amount in inline.items()])
        keys = list(self.window_keys(key))
        watching = "-"
        if watch is not None and not cluster:
            keys.append(self.counter_key(watch.key))
            watching = "" if watch.expected is None else str(watch.expected)
        prefix = self._counters
        keys += [prefix + name for name in inline]
        spending = _SPEND(client, keys, spend, amounts, watching)
        if cluster and watch is not None:
            reply, read = await asyncio.gather(spending, client.get(self.counter_key(watch.key)))
            reply = [*reply[:4], int(read or 0)]
        else:
            reply = await spending
        admission = Admission(
            bool(int(reply[0])), int(reply[1]), float(reply[2]), float(reply[3]), int(reply[4])
        )
        if cluster and counts and counts_apply(admission.admitted, watch, admission.watched):
            await self.incr_many(counts, ttls or {})
        return admission


def _by_slot(client: Any, keys: Mapping[str, Any] | list[str]) -> dict[int, list[str]]:
    slots: dict[int, list[str]] = {}
    for key in keys:
        slots.setdefault(client.keyslot(key), []).append(key)
    return slots
