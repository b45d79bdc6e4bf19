"""Health checks: each component checked for real, concurrently, each within a time budget."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from textapi_shared.errors import ApiError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from textapi_shared.ai.provider import AIProvider
    from textapi_shared.cache.protocol import Cache
    from textapi_shared.security.api_keys import ApiKeyAuthenticator


class HealthStatus(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


HealthState = Literal["healthy", "degraded", "unhealthy"]


class ComponentHealthResponse(BaseModel):
    """One component in a health response (both APIs): status, detail, latency, plus extras."""

    model_config = ConfigDict(extra="allow")

    status: HealthState
    detail: str
    latency_ms: float | None = None


_RANK = {HealthStatus.HEALTHY: 0, HealthStatus.DEGRADED: 1, HealthStatus.UNHEALTHY: 2}


@dataclass(frozen=True)
class ComponentHealth:
    status: HealthStatus
    detail: str
    latency_ms: float | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail, "latency_ms": self.latency_ms, **self.data}


async def _timed(check: Callable[[], Awaitable[ComponentHealth]], budget_s: float) -> ComponentHealth:
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(check(), budget_s)
    except TimeoutError:
        return ComponentHealth(HealthStatus.UNHEALTHY, f"no answer within {budget_s:g} s")
    except ApiError as exc:
        return ComponentHealth(HealthStatus.UNHEALTHY, exc.message)
    except Exception as exc:  # a health check reports failures, it never raises them
        return ComponentHealth(HealthStatus.UNHEALTHY, f"check failed: {type(exc).__name__}")
    if result.latency_ms is None:
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        result = ComponentHealth(result.status, result.detail, elapsed, result.data)
    return result


async def run_checks(
    checks: Mapping[str, Callable[[], Awaitable[ComponentHealth]]], *, budget_s: float = 2.0
) -> tuple[HealthStatus, dict[str, ComponentHealth]]:
    """Run every check at once; the overall status is the worst component's."""
    names = list(checks)
    results = await asyncio.gather(*(_timed(checks[name], budget_s) for name in names))
    components = dict(zip(names, results, strict=True))
    overall = max((c.status for c in results), key=_RANK.__getitem__, default=HealthStatus.HEALTHY)
    return overall, components


def authentication_check(authenticator: ApiKeyAuthenticator, *, production: bool, force: bool = False):
    """Key sources readable and non-empty; open mode is `degraded` in development, `unhealthy` in prod."""

    async def check() -> ComponentHealth:
        health = await authenticator.health(force=force)
        data = {"source": health.source, "public_keys": health.public_keys, "admin_keys": health.admin_keys}
        if health.open_public and production:
            return ComponentHealth(HealthStatus.UNHEALTHY, "no API keys configured in production", data=data)
        if health.open_public:
            return ComponentHealth(HealthStatus.DEGRADED, "open: no API keys configured", data=data)
        return ComponentHealth(HealthStatus.HEALTHY, "API keys loaded", data=data)

    return check


def ai_provider_check(provider: AIProvider):
    """Which provider and model answer; configuration only, so health never spends AI quota."""

    async def check() -> ComponentHealth:
        data = {"provider": provider.name, "model": provider.model}
        return ComponentHealth(HealthStatus.HEALTHY, f"{provider.name} provider configured", data=data)

    return check


def cache_check(cache: Cache):
    """The cache backend really probed (ping with latency); down is `degraded`: requests still work."""

    async def check() -> ComponentHealth:
        status = await cache.status()
        state = HealthStatus.HEALTHY if status.connected else HealthStatus.DEGRADED
        data = {"backend": status.backend, "entries": status.entries}
        return ComponentHealth(state, status.detail, status.latency_ms, data)

    return check
