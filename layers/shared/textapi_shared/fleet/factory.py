"""Builds the fleet state from settings: it follows `CACHE_BACKEND` (memory, Redis or DynamoDB's cache
table). `redis` and `boto3` load only when their backend is chosen; nothing connects here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textapi_shared.config import require_installed

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.config import SharedSettings
    from textapi_shared.fleet.protocol import FleetState


def build_fleet_state(
    settings: SharedSettings, *, on_error: Callable[[str, Exception, str], None] | None = None
) -> FleetState:
    """`memory` → MemoryFleetState; `redis`/`dynamodb` → that backend behind a `GuardedFleetState`.

    `on_error(action, exc, reason)` hears every backend failure (wire it to a log line and a metric).
    """
    if settings.cache_backend == "memory":
        from textapi_shared.fleet.memory_state import MemoryFleetState

        return MemoryFleetState()
    package = "redis" if settings.cache_backend == "redis" else "boto3"
    require_installed(package, package, f"CACHE_BACKEND={settings.cache_backend}")
    from textapi_shared.fleet.guarded import GuardedFleetState

    if settings.cache_backend == "redis":
        from textapi_shared.fleet.redis_state import RedisFleetState

        inner: FleetState = RedisFleetState(settings)
    else:
        from textapi_shared.fleet.dynamodb_state import DynamoDBFleetState

        inner = DynamoDBFleetState(settings)
    return GuardedFleetState.around(
        inner,
        failure_threshold=settings.cache_failure_threshold,
        cooldown_s=settings.cache_cooldown_seconds,
        on_error=on_error,
    )
