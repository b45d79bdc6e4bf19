"""Health checks: each component checked for real, concurrently, each within a time budget."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from textapi_shared.aws import SecretUnavailableError
from textapi_shared.errors import ApiError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from textapi_shared.aws import SecureParameters
    from textapi_shared.cache.protocol import ResponseCache
    from textapi_shared.config import SharedSettings
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
    """Key sources readable and holding usable keys (unhealthy otherwise: protected routes answer 503);
    open mode is `degraded` in development and `unhealthy` in production."""

    async def check() -> ComponentHealth:
        health = await authenticator.health(force=force)
        data = {"source": health.source, "public_keys": health.public_keys, "admin_keys": health.admin_keys}
        if health.problems:
            return ComponentHealth(HealthStatus.UNHEALTHY, "; ".join(health.problems), data=data)
        if health.open_public and production:
            return ComponentHealth(HealthStatus.UNHEALTHY, "no API keys configured in production", data=data)
        if health.open_public:
            return ComponentHealth(HealthStatus.DEGRADED, "open: no API keys configured", data=data)
        return ComponentHealth(HealthStatus.HEALTHY, "API keys loaded", data=data)

    return check


def ai_configuration_check(settings: SharedSettings, secrets: SecureParameters, *, force: bool = False):
    """Which provider and model answer, and for Gemini whether its key can be read; configuration only,
    so health never spends AI quota."""
    from textapi_shared.ai.factory import check_production_provider, gemini_api_key, uses_gemini

    async def check() -> ComponentHealth:
        # Where the AI functions refuse to start, this is unhealthy with the same message (`_timed`).
        check_production_provider(settings)
        if not uses_gemini(settings):
            data = {"provider": "local", "model": "local-extractive-v1"}
            return ComponentHealth(HealthStatus.HEALTHY, "offline provider configured", data=data)
        data = {"provider": "gemini", "model": settings.ai_model}
        try:
            await asyncio.to_thread(gemini_api_key, settings, secrets, force=force)
        except SecretUnavailableError as exc:
            detail = f"Gemini API key unavailable: SSM parameter {exc.parameter} cannot be read"
            return ComponentHealth(HealthStatus.UNHEALTHY, f"{detail} ({exc.reason})", data=data)
        return ComponentHealth(HealthStatus.HEALTHY, "gemini provider configured", data=data)

    return check


def cache_check(cache: ResponseCache):
    """The cache backend really probed (ping with latency, entries); down is `degraded`: requests work."""

    async def check() -> ComponentHealth:
        status = await cache.status()
        state = HealthStatus.HEALTHY if status.connected else HealthStatus.DEGRADED
        data = {"backend": status.backend, "entries": status.entries}
        return ComponentHealth(state, status.detail, status.latency_ms, data)

    return check


def cache_ping_check(cache: ResponseCache):
    """One round trip to the backend, no scan: the check public health can afford on every refresh."""

    async def check() -> ComponentHealth:
        try:
            latency_ms = await cache.ping()
        except Exception as exc:
            return ComponentHealth(HealthStatus.DEGRADED, f"cache backend unreachable: {type(exc).__name__}")
        return ComponentHealth(HealthStatus.HEALTHY, f"{cache.name} answers", latency_ms)

    return check


class CachedStatus:
    """The overall status of some checks, recomputed at most every `max_age_s` (public health: any
    caller may ask, so asking must not cost a round of backend calls each time)."""

    def __init__(
        self,
        checks: Mapping[str, Callable[[], Awaitable[ComponentHealth]]],
        *,
        max_age_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = checks
        self._max_age_s = max_age_s
        self._clock = clock
        self._value: tuple[float, HealthStatus] | None = None

    async def get(self) -> HealthStatus:
        now = self._clock()
        if self._value is None or now - self._value[0] >= self._max_age_s:
            overall, _ = await run_checks(self._checks)
            self._value = (now, overall)
        return self._value[1]
