"""The breakers of one app instance, one per operation (per operation and model with fallback models),
around one `BreakerStore`.

The registry owns what the breakers share: the store (with a timeout and a cooldown, so a dead store
is not waited on by every call), the clock, the sync interval and the probe owner id of this instance
(made on first use: a SnapStart snapshot of init must not carry it).
"""

from __future__ import annotations

import asyncio
import math
import os
import time
import uuid
from typing import TYPE_CHECKING, TypeVar

from textapi_shared.errors import NotFoundError, ServiceUnavailableError
from textapi_shared.resilience.circuit_breaker import CircuitBreaker
from textapi_shared.resilience.config_validation import OPERATIONS
from textapi_shared.resilience.events import ResilienceEvents

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textapi_shared.resilience.breaker_store import BreakerStore

T = TypeVar("T")


def breaker_name(operation: str, model: str, chained: bool) -> str:
    """`operation`, or `operation@model` when calls can fall back to other models (each has its own)."""
    return f"{operation}@{model}" if chained else operation


def breaker_names(models: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every breaker's name: one per operation, or per operation and model with more than one model."""
    chained = len(models) > 1
    return tuple(breaker_name(op, model, chained) for op in OPERATIONS for model in (models or ("",)))


def operation_of(name: str) -> str:
    """The operation a breaker guards (its policy is the operation's)."""
    return name.partition("@")[0]


class BreakerRegistry:
    """The breakers of one app instance (one per operation, or per operation and model) around one store."""

    def __init__(
        self,
        store: BreakerStore,
        *,
        events: ResilienceEvents | None = None,
        clock: Callable[[], float] = time.time,
        sync_interval: float = 1.0,
        store_timeout: float = 1.0,
        store_cooldown: float = 5.0,
        probe_lease: float = 30.0,
        owner: str | None = None,
        names: tuple[str, ...] = OPERATIONS,  # see `breaker_names`
    ) -> None:
        self.store = store
        self.events = events or ResilienceEvents()
        self.clock = clock
        self.sync_interval = sync_interval
        self.store_timeout = store_timeout
        self.store_cooldown = store_cooldown
        self.probe_lease = probe_lease
        self._owner = owner
        self._breakers = {name: CircuitBreaker(name, self) for name in names}
        self._store_down_until = 0.0

    @property
    def owner(self) -> str:
        """This instance's id in probe elections: made on first use, never at init, so the environments
        SnapStart restores from one snapshot do not share it."""
        if self._owner is None:
            self._owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        return self._owner

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._breakers)

    def get(self, name: str) -> CircuitBreaker:
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = self._breakers[name] = CircuitBreaker(name, self)
        return breaker

    def require(self, name: str) -> CircuitBreaker:
        """The breaker called `name`, or a 404 `NotFoundError`."""
        if name not in self._breakers:
            raise NotFoundError(
                f"No circuit breaker named {name[:40]!r}.", details={"available": list(self._breakers)}
            )
        return self._breakers[name]

    async def store_call(self, action: str, make: Callable[[], Awaitable[T]]) -> T | None:
        """`make()` against the store within `store_timeout`; None when the store failed or cools down."""
        if time.monotonic() < self._store_down_until:
            return None
        try:
            return await asyncio.wait_for(make(), self.store_timeout)
        except Exception as exc:
            already_down = time.monotonic() < self._store_down_until  # a concurrent call failed first
            self._store_down_until = time.monotonic() + self.store_cooldown
            if not already_down:
                self.events.store_error(action, exc, self.store_cooldown)
            return None

    async def store_required(self, action: str, make: Callable[[], Awaitable[T]], *, failure: str) -> T:
        """`make()` for an operator's action whose outcome is reported: tried even while the store cools
        down, and a failure raises `ServiceUnavailableError(failure)` (503, `Retry-After`) instead of
        passing for success, since the other instances would not see the change."""
        try:
            result = await asyncio.wait_for(make(), self.store_timeout)
        except Exception as exc:
            self._store_down_until = time.monotonic() + self.store_cooldown
            self.events.store_error(action, exc, self.store_cooldown)
            raise ServiceUnavailableError(failure, retry_after=math.ceil(self.store_cooldown)) from exc
        self._store_down_until = 0.0  # it answered: the breakers may use it again at once
        return result

    async def sync_all(self) -> None:
        await asyncio.gather(*(breaker.sync() for breaker in self._breakers.values()))

    async def fleet_stats(self) -> dict[str, dict[str, int]]:
        """Statistics of every instance sharing the store (this one's flushed first)."""
        await self.sync_all()
        stats = await self.store_call("read_stats", lambda: self.store.read_stats(self.names))
        return stats if stats is not None else {n: dict(b.totals) for n, b in self._breakers.items()}

    async def reset_stats(self) -> None:
        """Zero the statistics in the store, then here; a store failure is a 503 and changes nothing."""
        await self.store_required(
            "reset_stats",
            lambda: self.store.reset_stats(self.names),
            failure="The circuit breaker store failed; the resilience metrics were not reset.",
        )
        for breaker in self._breakers.values():
            breaker.clear_stats()
