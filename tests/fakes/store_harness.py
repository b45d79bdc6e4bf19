"""Storage of its own for one contract test: a unique key namespace on the shared Redis (or the TLS
cluster), removed afterwards, or a fresh DynamoDB table built from template.yaml's `CacheTable`."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import redis.asyncio

from fakes.aws_tables import create_cache_table
from textapi_shared.config import SharedSettings
from textapi_shared.redis_client import close_redis_clients, new_redis_client

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

TTL_S = 60
GRACE_S = 100


def settings_for(redis_url: str = "redis://127.0.0.1:6379", **overrides: Any) -> SharedSettings:
    """Contract settings (grace, compression threshold) on `redis_url`; `overrides` may add a cluster's."""
    defaults: dict[str, Any] = {"cache_stale_grace_seconds": GRACE_S, "cache_compression_threshold": 1000}
    return SharedSettings(redis_url=redis_url, **{**defaults, **overrides})


def inspector_for(settings: SharedSettings) -> redis.asyncio.Redis | redis.asyncio.RedisCluster:
    """A client of our own on the backend's server or cluster, to look at what the backend stored."""
    if settings.redis_tls_ca_file:
        return redis.asyncio.RedisCluster.from_url(
            settings.redis_url, ssl_ca_certs=settings.redis_tls_ca_file
        )
    return redis.asyncio.Redis.from_url(settings.redis_url)


@dataclass
class RedisSpace:
    """A namespace of the Redis under test, an inspector client on it, and extra clients (siblings)."""

    settings: SharedSettings
    namespace: str
    inspector: Any
    extra_clients: list[Any]

    async def keys(self) -> list[str]:
        return [k.decode() async for k in self.inspector.scan_iter(match=f"{self.namespace}*", count=500)]

    async def new_client(self) -> Any:
        """A second, independent client on the same storage (another instance's)."""
        self.extra_clients.append(await new_redis_client(self.settings))
        return self.extra_clients[-1]


@asynccontextmanager
async def redis_space(settings: SharedSettings) -> AsyncIterator[RedisSpace]:
    space = RedisSpace(settings, f"test:{uuid.uuid4().hex}:", inspector_for(settings), [])
    try:
        yield space
    finally:
        doomed = await space.keys()
        if doomed:
            await space.inspector.unlink(*doomed)
        for client in (space.inspector, *space.extra_clients):
            await client.aclose()
        await close_redis_clients()


@dataclass
class DynamoDBSpace:
    settings: SharedSettings
    table: str
    inspector: Any
    endpoint: str

    def new_client(self) -> Any:
        return boto3.client("dynamodb", endpoint_url=self.endpoint, region_name="us-east-1")

    async def keys(self) -> list[str]:
        items = self.inspector.scan(TableName=self.table, ProjectionExpression="pk")["Items"]
        return [item["pk"]["S"] for item in items]


def dynamodb_space(endpoint: str) -> DynamoDBSpace:
    table = f"textapi-cache-{uuid.uuid4().hex[:12]}"
    inspector = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    create_cache_table(inspector, table)
    return DynamoDBSpace(
        settings_for(aws_endpoint_url=endpoint, cache_table_name=table), table, inspector, endpoint
    )
