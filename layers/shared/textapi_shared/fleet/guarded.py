"""The shared fleet state behind a `BackendGuard`: while Redis or DynamoDB fails, counters and budgets
are kept in this process (limits then hold per instance) and every lease is granted (each instance then
shares calls only within itself). A request never fails because the fleet state did."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textapi_shared.backend_guard import BackendGuard
from textapi_shared.fleet.memory_state import MemoryFleetState

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from textapi_shared.fleet.protocol import FleetState, Watch
    from textapi_shared.fleet.windows import Admission


class GuardedFleetState:
    def __init__(self, inner: FleetState, guard: BackendGuard | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.guard = guard or BackendGuard(inner)
        self._fallback = MemoryFleetState()

    @classmethod
    def around(
        cls,
        inner: FleetState,
        *,
        failure_threshold: int,
        cooldown_s: float,
        on_error: Callable[[str, Exception, str], None] | None = None,
    ) -> GuardedFleetState:
        guard = BackendGuard(
            inner, failure_threshold=failure_threshold, cooldown_s=cooldown_s, on_error=on_error
        )
        return cls(inner, guard)

    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        return await self.guard.call(
            "incr",
            lambda: self.inner.incr(key, amount, ttl_s),
            lambda: self._fallback.incr(key, amount, ttl_s),
        )

    async def incr_many(self, amounts: Mapping[str, int], ttl_s: int | Mapping[str, int]) -> None:
        await self.guard.call(
            "incr_many",
            lambda: self.inner.incr_many(amounts, ttl_s),
            lambda: self._fallback.incr_many(amounts, ttl_s),
        )

    async def read_counters(self, keys: list[str]) -> dict[str, int]:
        return await self.guard.call(
            "read_counters",
            lambda: self.inner.read_counters(keys),
            lambda: self._fallback.read_counters(keys),
        )

    async def admit(
        self,
        key: str,
        units: int,
        *,
        limit: int,
        window_s: float,
        now: float,
        counts: Mapping[str, int] | None = None,
        ttls: Mapping[str, int] | None = None,
        watch: Watch | None = None,
    ) -> Admission:
        def spend(state: FleetState) -> Callable[[], object]:
            return lambda: state.admit(
                key, units, limit=limit, window_s=window_s, now=now, counts=counts, ttls=ttls, watch=watch
            )

        return await self.guard.call("admit", spend(self.inner), spend(self._fallback))  # type: ignore[arg-type]

    async def acquire_lease(self, key: str, owner: str, ttl_s: float) -> bool:
        return await self.guard.call(
            "acquire_lease", lambda: self.inner.acquire_lease(key, owner, ttl_s), _granted
        )

    async def release_lease(self, key: str, owner: str) -> None:
        await self.guard.call("release_lease", lambda: self.inner.release_lease(key, owner), _nothing)


async def _granted() -> bool:
    return True


async def _nothing() -> None:
    return None
