"""Idempotency records in Redis: one key per record, so every command is single-key (cluster-safe).

Claim is `SET key NX PX lease`; completing overwrites the key with the response and the retention
TTL; releasing deletes it. The lease outlasts the claimer's deadline, so only the claimer can
complete or release while the claim stands.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from textapi_shared.idempotency.store import IdempotencyRecord

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textapi_shared.redis_client import RedisClient

KEY_PREFIX = "textapi:idempotency:"
_CLAIM_ATTEMPTS = 3


class RedisIdempotencyStore:
    name = "redis"

    def __init__(self, client: Callable[[], Awaitable[RedisClient]], *, namespace: str = "") -> None:
        """`client`: returns the running loop's client (single node or cluster), built on first use."""
        self._client = client
        self._namespace = namespace

    def physical_key(self, key: str) -> str:
        return f"{self._namespace}{KEY_PREFIX}{key}"

    async def claim(self, key: str, fingerprint: str, *, lease_s: float) -> IdempotencyRecord | None:
        client = await self._client()
        name = self.physical_key(key)
        claim = IdempotencyRecord(fingerprint).to_bytes()
        for _ in range(_CLAIM_ATTEMPTS):
            if await client.set(name, claim, nx=True, px=max(1, math.ceil(lease_s * 1000))):
                return None
            existing = await client.get(name)
            if existing is not None:
                return IdempotencyRecord.from_bytes(existing)
            # Expired or released between the two commands: claim again.
        raise RuntimeError(f"idempotency key {key!r} kept changing while being claimed")

    async def complete(self, key: str, record: IdempotencyRecord, *, ttl_s: int) -> None:
        await (await self._client()).set(self.physical_key(key), record.to_bytes(), px=ttl_s * 1000)

    async def release(self, key: str) -> None:
        await (await self._client()).delete(self.physical_key(key))
