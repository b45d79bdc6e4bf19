"""Fleet-wide invalidation: the cache generation, a counter in the fleet state.

An invalidation bumps it. Every instance learns it on the round trip a request already makes (the
rate-limit spend watches the counter, `fleet.protocol.Watch`) and, when it moved, clears its in-process
tier (and DynamoDB's cached namespace versions) before serving anything else. A request that read an
entry under the generation it last knew spends with that value expected: if the generation moved
meanwhile, the entry is not served and the request goes on as a miss. So no instance serves an entry
older than the generation it has seen, at no extra round trip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textapi_shared.fleet.protocol import Watch

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.fleet.protocol import FleetState

GENERATION_KEY = "cache:generation"
_TTL_S = 400 * 86_400  # a counter must expire; a year and more is longer than any entry lives


class CacheGeneration:
    """The generation this instance has seen, and what to clear when it moves."""

    __slots__ = ("_listeners", "seen")

    def __init__(self) -> None:
        self.seen = 0
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def watch(self, expected: int | None = None) -> Watch:
        """The watch a spend carries: `expected` is the generation an entry was read under, if any."""
        return Watch(GENERATION_KEY, expected)

    def observe(self, value: int) -> bool:
        """Take a generation read from the fleet state; True when it moved (this tier was cleared)."""
        if value == self.seen:
            return False
        self.seen = value
        for listener in self._listeners:
            listener()
        return True

    async def refresh(self, fleet: FleetState) -> None:
        """Read the generation (for work that spends no rate-limit budget, such as a job's items)."""
        self.observe((await fleet.read_counters([GENERATION_KEY]))[GENERATION_KEY])

    async def bump(self, fleet: FleetState) -> int:
        """Move the generation after an invalidation; a fleet state that cannot take it raises 503."""
        from textapi_shared.fleet.guarded import GuardedFleetState

        if isinstance(fleet, GuardedFleetState):  # an admin must know when other instances won't follow
            value = await fleet.guard.required(
                "bump_generation",
                lambda: fleet.inner.incr(GENERATION_KEY, 1, _TTL_S),
                failure="The entries were removed, but the fleet state did not take the change; other "
                "instances may serve removed entries from memory until it does. Retry the invalidation.",
            )
        else:
            value = await fleet.incr(GENERATION_KEY, 1, _TTL_S)
        self.observe(value)
        return value
