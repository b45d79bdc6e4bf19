"""Where circuit-breaker state is shared: the port, and its in-process implementation.

A breaker keeps its state in memory and talks to the store only on failures, transitions, and a
periodic sync (see `circuit_breaker`). The store holds, per breaker: `open_until` (epoch seconds,
0 = closed), `opened_at`, a failure count that resets after `window_s` without failures, and the
half-open probe lease (`probe_owner`, `probe_until`). It also accumulates per-operation call
statistics so the internal API can report them fleet-wide. Times come from the caller's clock, so
every instance (and every test) decides with the same notion of "now".

Backends: `MemoryBreakerStore` (one per app instance: per execution environment in Lambda),
`RedisBreakerStore`, `DynamoDBBreakerStore`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple, Protocol

STAT_FIELDS = ("calls", "successes", "failures", "ignored_errors", "rejections", "retries", "opens")


class SharedState(NamedTuple):
    """One breaker as the store sees it."""

    open_until: float = 0.0
    opened_at: float = 0.0
    failures: int = 0
    probe_owner: str = ""
    probe_until: float = 0.0

    @property
    def is_open(self) -> bool:
        return self.open_until > 0


CLOSED = SharedState()


class BreakerStore(Protocol):
    name: str
    shared: bool  # True when other execution environments see the same state

    async def get(self, name: str) -> SharedState: ...

    async def add_failure(self, name: str, *, now: float, window_s: float) -> SharedState:
        """Count one failure; the state afterwards, `failures` included."""
        ...

    async def open(self, name: str, *, now: float, open_until: float) -> tuple[bool, SharedState]:
        """Open unless already open until later than `now`: (this call opened it, state afterwards)."""
        ...

    async def acquire_probe(
        self, name: str, *, owner: str, now: float, lease_until: float
    ) -> tuple[bool, SharedState]:
        """Take the half-open probe if open, past `open_until`, and nobody else holds a live lease."""
        ...

    async def release_probe(self, name: str, *, owner: str) -> None: ...

    async def close(self, name: str) -> None:
        """Closed, failure count cleared."""
        ...

    async def clear_failures(self, name: str) -> None: ...

    async def sync(self, name: str, stats: dict[str, int]) -> SharedState:
        """Add `stats` deltas to the shared statistics and read the state: one round trip."""
        ...

    async def read_stats(self, names: tuple[str, ...]) -> dict[str, dict[str, int]]: ...

    async def reset_stats(self, names: tuple[str, ...]) -> None: ...


class MemoryBreakerStore:
    """The store of one app instance. Meant for one event loop: no method awaits while it touches state."""

    name = "memory"
    shared = False

    def __init__(self) -> None:
        self._states: dict[str, SharedState] = {}
        self._failures_until: dict[str, float] = {}
        self._stats: dict[str, dict[str, int]] = defaultdict(dict)

    async def get(self, name: str) -> SharedState:
        return self._states.get(name, CLOSED)

    async def add_failure(self, name: str, *, now: float, window_s: float) -> SharedState:
        state = self._states.get(name, CLOSED)
        failures = state.failures + 1 if self._failures_until.get(name, 0) > now else 1
        self._failures_until[name] = now + window_s
        state = self._states[name] = state._replace(failures=failures)
        return state

    async def open(self, name: str, *, now: float, open_until: float) -> tuple[bool, SharedState]:
        state = self._states.get(name, CLOSED)
        if state.open_until > now:
            return False, state
        state = self._states[name] = SharedState(open_until=open_until, opened_at=now)
        return True, state

    async def acquire_probe(
        self, name: str, *, owner: str, now: float, lease_until: float
    ) -> tuple[bool, SharedState]:
        state = self._states.get(name, CLOSED)
        if not state.is_open or state.open_until > now or state.probe_until > now:
            return False, state
        state = self._states[name] = state._replace(probe_owner=owner, probe_until=lease_until)
        return True, state

    async def release_probe(self, name: str, *, owner: str) -> None:
        state = self._states.get(name, CLOSED)
        if state.probe_owner == owner:
            self._states[name] = state._replace(probe_owner="", probe_until=0.0)

    async def close(self, name: str) -> None:
        self._states.pop(name, None)
        self._failures_until.pop(name, None)

    async def clear_failures(self, name: str) -> None:
        state = self._states.get(name)
        if state is not None:
            self._states[name] = state._replace(failures=0)

    async def sync(self, name: str, stats: dict[str, int]) -> SharedState:
        totals = self._stats[name]
        for key, value in stats.items():
            totals[key] = totals.get(key, 0) + value
        return self._states.get(name, CLOSED)

    async def read_stats(self, names: tuple[str, ...]) -> dict[str, dict[str, int]]:
        return {name: {f: self._stats[name].get(f, 0) for f in STAT_FIELDS} for name in names}

    async def reset_stats(self, names: tuple[str, ...]) -> None:
        for name in names:
            self._stats.pop(name, None)
