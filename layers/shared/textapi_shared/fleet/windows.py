"""Budgets over a sliding window: the store operation behind rate limits (`FleetState.admit`).

A key's budget is `limit` units in any `window_s` seconds: a spend is admitted when the units admitted
in the `window_s` seconds before it, plus its own, stay within the limit; a refused spend leaves no
trace. So there is no window edge to burst across: at no moment have more than `limit` units been
admitted in the preceding `window_s`. The in-process and Redis stores keep every admitted spend
(exact); DynamoDB, which cannot do that in one atomic step, counts in sixths of the window and counts
the oldest sixth whole, so it never admits more than the limit and at most a sixth's spends less.

`admit` can carry counters to add only when the spend is admitted (a request's statistics, written in
the same round trip as its rate-limit step where the store allows: one script on a single Redis node).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Sequence


class Admission(NamedTuple):
    """The outcome of a spend: times are epoch seconds on the caller's clock."""

    admitted: bool
    used: int  # units counted in the window after the call (this spend's included when admitted)
    reset_at: float  # when the oldest counted units leave the window (the budget starts to come back)
    retry_at: float  # when this spend would fit (the call's `now` when it was admitted)
    watched: int = 0  # the value of the counter the spend watched (`protocol.Watch`), 0 when none


def settle_times(
    spends: Sequence[tuple[float, int]], used: int, units: int, limit: int, window_s: float, now: float
) -> tuple[float, float]:
    """(reset_at, retry_at) from the spends counted in the window, oldest first, as (time, units), for a
    spend of `units` that was refused (0 when it was admitted)."""
    reset_at = spends[0][0] + window_s if spends else now + window_s
    need = used + units - limit
    if need <= 0:
        return reset_at, now
    freed = 0
    for at, spent in spends:
        freed += spent
        if freed >= need:
            return reset_at, at + window_s
    return reset_at, now + window_s  # more than the whole limit: never fits (callers refuse it first)


class MemoryWindows:
    """Exact sliding windows of one process (the memory backend, and a shared store's stand-in while
    it is down): every admitted spend with its time, dropped once it leaves the window."""

    def __init__(self, *, max_keys: int = 10_000) -> None:
        self._logs: dict[str, tuple[deque[tuple[float, int]], list[int]]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def admit(self, key: str, units: int, *, limit: int, window_s: float, now: float) -> Admission:
        with self._lock:
            found = self._logs.get(key)
            if found is None:
                found = self._logs[key] = (deque(), [0])
                if len(self._logs) > self._max_keys:
                    self._forget_idle(now, window_s)
            spends, used = found
            cutoff = now - window_s
            while spends and spends[0][0] <= cutoff:
                used[0] -= spends.popleft()[1]
            admitted = used[0] + units <= limit
            if admitted:
                spends.append((now, units))
                used[0] += units
            pending = 0 if admitted else units
            reset_at, retry_at = settle_times(spends, used[0], pending, limit, window_s, now)
            return Admission(admitted, used[0], reset_at, retry_at)

    def _forget_idle(self, now: float, window_s: float) -> None:
        idle = [
            key for key, (spends, _) in self._logs.items() if not spends or spends[-1][0] <= now - window_s
        ]
        for key in idle:
            del self._logs[key]
