"""One circuit breaker per operation, fleet-wide through a `BreakerStore`, free on the healthy path.

closed --(threshold counted failures)--> open --(recovery timeout)--> half-open: one probe, fleet-wide
--> closed on success, open again on failure. Only transient AI failures (`AIUnavailableError`) count;
permanent errors, blocked content, unusable output and client errors leave the breaker as it was.

Each instance keeps the state in memory, so a call on a closed breaker costs a clock read and a few
attribute reads. The store is used only:
- on a counted failure (the count is shared, so the instance that sees the last failure opens the
  breaker for everyone) and on transitions (open, probe election, close);
- every `sync_interval` seconds under traffic, to push call statistics and pull the shared state. On a
  closed breaker that sync runs concurrently with the call that triggered it (which does not wait for
  it), so a healthy call never waits for the store; on an open one the call waits for it, so a reset
  made through any instance reaches the others within a sync interval, not only when their own
  recovery timeout ends.
Trade-off: after another instance opened the breaker, this one learns it from its first failure or
its next sync, whichever comes first; until then at most the calls of one sync interval reach the
upstream. `sync()` forces a sync. A failing store degrades every breaker to per-instance behaviour
(with a log line and a metric) for `store_cooldown` seconds instead of slowing calls down.
"""

from __future__ import annotations

import asyncio
import math
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from textapi_shared.errors import AIUnavailableError
from textapi_shared.resilience.breaker_store import STAT_FIELDS

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textapi_shared.resilience.breaker_store import BreakerStore, SharedState
    from textapi_shared.resilience.events import ResilienceEvents
    from textapi_shared.resilience.strategies import Strategy

T = TypeVar("T")


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(AIUnavailableError):
    """The breaker refused the call without contacting the AI service; `Retry-After` = time left open."""

    default_message = "The AI service is temporarily unavailable (circuit breaker open); retry later."

    def __init__(self, operation: str, retry_after: float, *, state: str = "open") -> None:
        super().__init__(
            retry_after=math.ceil(max(1.0, retry_after)),
            details={"circuit_breaker": state, "operation": operation},
        )


def counts_as_failure(exc: BaseException) -> bool:
    return isinstance(exc, AIUnavailableError) and not isinstance(exc, CircuitOpenError)


class BreakerHost(Protocol):
    """What a breaker shares with the other breakers of its instance (`BreakerRegistry`)."""

    store: BreakerStore
    events: ResilienceEvents
    clock: Callable[[], float]
    sync_interval: float
    probe_lease: float

    @property
    def owner(self) -> str: ...

    async def store_call(self, action: str, make: Callable[[], Awaitable[T]]) -> T | None: ...

    async def store_required(self, action: str, make: Callable[[], Awaitable[T]], *, failure: str) -> T: ...


class CircuitBreaker:
    def __init__(self, name: str, registry: BreakerHost) -> None:
        self.name = name
        self._r = registry
        self._state = BreakerState.CLOSED
        self._open_until = 0.0
        self._opened_at = 0.0
        self._failures = 0  # consecutive counted failures seen by this instance
        self._shared_failures = 0  # the fleet's count, as last read from the store
        self._dirty = False  # failures written to the store since this instance's last success
        self._persisted = False  # the open state is in the store (not only in this instance)
        self._probing = False  # this instance holds, or is electing for, the half-open probe
        self._next_sync = 0.0
        self.last_failure_at: float | None = None
        self.last_transition_at: float | None = None
        self.totals = dict.fromkeys(STAT_FIELDS, 0)
        self._unflushed = dict.fromkeys(STAT_FIELDS, 0)

    @property
    def state(self) -> BreakerState:
        """The state a caller would meet now: an open breaker past its timeout is half-open."""
        if self._state is BreakerState.OPEN and self._r.clock() >= self._open_until:
            return BreakerState.HALF_OPEN
        return self._state

    async def call(self, fn: Callable[[], Awaitable[T]], policy: Strategy) -> T:
        """Run `fn` under the breaker; raises `CircuitOpenError` without calling it when open."""
        now = self._r.clock()
        probe = False
        sync: asyncio.Future[None] | None = None
        if now >= self._next_sync:
            self._next_sync = now + self._r.sync_interval
            if self._state is BreakerState.CLOSED and self._r.store.shared:
                sync = asyncio.ensure_future(self.sync())
            else:
                # In-process it is as cheap as a dict lookup; when not closed, this instance is about to
                # refuse (or probe), so it first learns whether an operator reset the breaker elsewhere.
                await self.sync()
        if self._state is not BreakerState.CLOSED:
            probe = await self._admit(now)
        self._count("calls")
        try:
            result = await fn()
        except BaseException as exc:
            if counts_as_failure(exc):
                await self._on_failure(probe, policy)
            else:
                if isinstance(exc, Exception):
                    self._count("ignored_errors")
                if probe:
                    await self._release_probe()
            raise
        finally:
            if sync is not None:
                await sync
        self._count("successes")
        if probe or self._dirty or self._failures:
            await self._on_success(probe)
        return result

    def count_retry(self) -> None:
        self._count("retries")

    def _count(self, field: str) -> None:
        self.totals[field] += 1
        self._unflushed[field] += 1

    def clear_stats(self) -> None:
        """Forget this instance's statistics (after the fleet's were reset in the store)."""
        self.totals = dict.fromkeys(STAT_FIELDS, 0)
        self._unflushed = dict.fromkeys(STAT_FIELDS, 0)

    async def sync(self) -> None:
        """Push unflushed statistics and adopt the shared state (one store round trip)."""
        deltas, self._unflushed = self._unflushed, dict.fromkeys(STAT_FIELDS, 0)
        pending = {k: v for k, v in deltas.items() if v}
        state = await self._r.store_call("sync", lambda: self._r.store.sync(self.name, pending))
        if state is None:
            for key, value in deltas.items():
                self._unflushed[key] += value
            return
        self._adopt(state, self._r.clock())

    async def reset(self) -> None:
        """Closed in the store, then here; statistics are kept. A store failure raises
        `ServiceUnavailableError` and changes nothing: the rest of the fleet would still see it open."""
        old = self.state
        await self._r.store_required(
            "close",
            lambda: self._r.store.close(self.name),
            failure=f"The circuit breaker store failed; {self.name!r} was not reset.",
        )
        self._set_closed()
        if old is not BreakerState.CLOSED:
            self._r.events.breaker_transition(self.name, str(old), "closed", reason="reset")

    def _reject(self, retry_after: float, state: BreakerState) -> None:
        self._count("rejections")
        self._r.events.breaker_rejected(self.name, retry_after)
        raise CircuitOpenError(self.name, retry_after, state=str(state))

    async def _admit(self, now: float) -> bool:
        """Open: refuse, or elect this call as the half-open probe. True when it is the probe."""
        if self._probing:
            self._reject(1.0, BreakerState.HALF_OPEN)
        if now < self._open_until:
            self._reject(self._open_until - now, BreakerState.OPEN)
        self._probing = True
        try:
            lease_until = now + self._r.probe_lease
            result = await self._r.store_call(
                "acquire_probe",
                lambda: self._r.store.acquire_probe(
                    self.name, owner=self._r.owner, now=now, lease_until=lease_until
                ),
            )
            acquired, shared = result if result is not None else (True, None)
            if not acquired and shared is not None and not shared.is_open and not self._persisted:
                acquired = True  # opened while the store was down: probe from here
        except BaseException:
            self._probing = False
            raise
        if acquired:
            self._state = BreakerState.HALF_OPEN
            self.last_transition_at = now
            self._r.events.breaker_transition(self.name, "open", "half_open")
            return True
        self._probing = False
        assert shared is not None
        if not shared.is_open:  # another instance closed it (probe succeeded, or an operator reset)
            self._set_closed()
            self._r.events.breaker_adopted(self.name, "closed")
            return False
        self._adopt(shared, now)
        if shared.open_until > now:
            self._reject(shared.open_until - now, BreakerState.OPEN)
        self._reject(max(1.0, shared.probe_until - now), BreakerState.HALF_OPEN)
        raise AssertionError("unreachable")

    async def _on_failure(self, probe: bool, policy: Strategy) -> None:
        now = self._r.clock()
        self._count("failures")
        self.last_failure_at = now
        if probe:
            await self._open(now, policy, BreakerState.HALF_OPEN)
            return
        self._failures += 1
        self._dirty = True
        shared = await self._r.store_call(
            "add_failure",
            lambda: self._r.store.add_failure(self.name, now=now, window_s=policy.recovery_timeout),
        )
        if shared is not None:
            self._shared_failures = shared.failures
            if shared.open_until > now:
                self._adopt(shared, now)
                return
        count = max(self._failures, shared.failures if shared is not None else 0)
        if count >= policy.failure_threshold and self._state is BreakerState.CLOSED:
            await self._open(now, policy, BreakerState.CLOSED)

    async def _open(self, now: float, policy: Strategy, old: BreakerState) -> None:
        open_until = now + policy.recovery_timeout
        result = await self._r.store_call(
            "open", lambda: self._r.store.open(self.name, now=now, open_until=open_until)
        )
        self._probing = False
        if result is not None and not result[0]:  # another instance opened it first
            self._adopt(result[1], now)
            return
        failures = max(self._failures, self._shared_failures)
        self._set_open(now, open_until, persisted=result is not None)
        self._count("opens")
        self._r.events.breaker_transition(
            self.name,
            str(old),
            "open",
            failures=failures,
            recovery_timeout=policy.recovery_timeout,
            fleet_wide=result is not None and self._r.store.shared,
        )

    async def _on_success(self, probe: bool) -> None:
        if probe:
            await self._r.store_call("close", lambda: self._r.store.close(self.name))
            self._set_closed()
            self._r.events.breaker_transition(self.name, "half_open", "closed")
            return
        self._failures = 0
        if self._dirty:
            self._dirty = False
            await self._r.store_call("clear_failures", lambda: self._r.store.clear_failures(self.name))

    async def _release_probe(self) -> None:
        """The probe ended without a verdict (permanent error, cancellation): another call may probe."""
        self._probing = False
        if self._state is BreakerState.HALF_OPEN:
            self._state = BreakerState.OPEN
        await self._r.store_call(
            "release_probe", lambda: self._r.store.release_probe(self.name, owner=self._r.owner)
        )

    def _adopt(self, shared: SharedState, now: float) -> None:
        self._shared_failures = shared.failures
        if shared.is_open and (self._state is BreakerState.CLOSED or shared.opened_at != self._opened_at):
            if self._probing:
                return
            self._set_open(shared.opened_at, shared.open_until, persisted=True)
            self._r.events.breaker_adopted(self.name, "open", open_until=shared.open_until)
        elif (
            not shared.is_open
            and self._state is not BreakerState.CLOSED
            and self._persisted
            and not self._probing
        ):
            self._set_closed()
            self._r.events.breaker_adopted(self.name, "closed")

    def _set_open(self, opened_at: float, open_until: float, *, persisted: bool) -> None:
        self._state = BreakerState.OPEN
        self._opened_at, self._open_until = opened_at, open_until
        self._failures, self._dirty, self._probing = 0, False, False
        self._persisted = persisted
        self.last_transition_at = self._r.clock()

    def _set_closed(self) -> None:
        self._state = BreakerState.CLOSED
        self._opened_at = self._open_until = 0.0
        self._failures = self._shared_failures = 0
        self._dirty = self._probing = self._persisted = False
        self.last_transition_at = self._r.clock()

    def status(self, policy: Strategy | None = None) -> dict[str, Any]:
        now = self._r.clock()
        state = self.state
        return {
            "name": self.name,
            "state": str(state),
            "failure_count": max(self._failures, self._shared_failures),
            "failure_threshold": policy.failure_threshold if policy else None,
            "recovery_timeout": policy.recovery_timeout if policy else None,
            "opened_at": self._opened_at or None,
            "open_until": self._open_until or None,
            "seconds_until_half_open": round(max(0.0, self._open_until - now), 3)
            if state is BreakerState.OPEN
            else 0.0,
            "last_failure_at": self.last_failure_at,
            "last_transition_at": self.last_transition_at,
            "fleet_wide": self._r.store.shared,
            "instance_totals": dict(self.totals),
        }
