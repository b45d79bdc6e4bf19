"""Builds the idempotency store on the cache's shared backend: memory, Redis or DynamoDB.

Nothing connects here; `redis` and `boto3` load on the first claim of their backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textapi_shared.config import SharedSettings
    from textapi_shared.idempotency.store import IdempotencyStore
    from textapi_shared.redis_client import RedisClient


def build_idempotency_store(settings: SharedSettings) -> IdempotencyStore:
    if settings.cache_backend == "redis":
        from textapi_shared.idempotency.redis_store import RedisIdempotencyStore

        async def client() -> RedisClient:  # the running loop's client (see redis_client)
            from textapi_shared.redis_client import redis_client

            return await redis_client(settings)

        return RedisIdempotencyStore(client)
    if settings.cache_backend == "dynamodb":
        from textapi_shared.idempotency.dynamodb_store import DynamoDBIdempotencyStore

        return DynamoDBIdempotencyStore(settings)
    from textapi_shared.idempotency.store import MemoryIdempotencyStore

    return MemoryIdempotencyStore()
