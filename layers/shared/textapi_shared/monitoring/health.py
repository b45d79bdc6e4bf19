"""Health: component states, checks run concurrently each within a time budget, and a cached overall
status. The checks of the components themselves are `textapi_shared.health_checks`."""

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
