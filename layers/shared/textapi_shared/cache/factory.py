"""Builds the response cache from settings; `redis` and `boto3` load only when their backend is chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textapi_shared.cache.guarded import GuardedCache
from textapi_shared.cache.memory_cache import MemoryCache
from textapi_shared.cache.tiered import TieredCache
from textapi_shared.config import require_installed

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.cache.generation import CacheGeneration
    from textapi_shared.cache.protocol import ResponseCache
    from textapi_shared.config import SharedSettings


def build_cache(
    settings: SharedSettings,
    generation: CacheGeneration,
    *,
    on_error: Callable[[str, Exception, str], None] | None = None,
    on_oversize: Callable[[str, int], None] | None = None,
) -> ResponseCache:
    """`memory` → MemoryCache; `redis`/`dynamodb` → TieredCache(MemoryCache, GuardedCache(backend)).

    What an instance keeps for itself (the memory tier, DynamoDB's namespace versions) is dropped when
    `generation` moves. `on_error(action, exc, reason)` hears every backend failure (wire it to a log
    line and a metric); `on_oversize(operation, stored_bytes)` hears values DynamoDB could not hold.
    Nothing connects here.
    """
    front = MemoryCache.from_settings(settings)
    generation.on_change(front.clear)
    if settings.cache_backend == "memory":
        return front
    # A backend this deployment cannot load fails the cold start, never a silent fall back to memory.
    package = "redis" if settings.cache_backend == "redis" else "boto3"
    require_installed(package, package, f"CACHE_BACKEND={settings.cache_backend}")
    if settings.cache_backend == "redis":
        from textapi_shared.cache.redis_cache import RedisCache

        back: ResponseCache = RedisCache(settings)
    else:
        from textapi_shared.cache.dynamodb_cache import DynamoDBCache

        dynamodb = DynamoDBCache(settings, on_oversize=on_oversize)
        generation.on_change(dynamodb.forget_versions)
        back = dynamodb
    guarded = GuardedCache(
        back,
        failure_threshold=settings.cache_failure_threshold,
        cooldown_s=settings.cache_cooldown_seconds,
        on_error=on_error,
    )
    return TieredCache(front, guarded)
