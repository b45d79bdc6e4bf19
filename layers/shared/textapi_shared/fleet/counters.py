"""Counters a request gathers (`CounterBatch`) and counters kept per subject in time windows
(`WindowedCounters`), both written to the `FleetState`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from textapi_shared.fleet.protocol import FleetState


class CounterBatch:
    """Counter increments gathered while one request runs, written together by `flush`: one
    `incr_many`, so one round trip per hash slot (the slots at once) for everything the request counted.

    The caller flushes before its handler returns: Lambda freezes the environment afterwards, and a
    write left for later would wait for the next invocation, or for ever.
    """

    __slots__ = ("_amounts", "_store", "_ttls")

    def __init__(self, store: FleetState) -> None:
        self._store = store
        self._amounts: dict[str, int] = {}
        self._ttls: dict[str, int] = {}

    def add(self, key: str, amount: int, ttl_s: int) -> None:
        self._amounts[key] = self._amounts.get(key, 0) + amount
        self._ttls[key] = ttl_s

    def add_all(self, amounts: Mapping[str, int], ttl_s: int) -> None:
        """`add` for several keys with one TTL."""
        known = self._amounts
        for key, amount in amounts.items():
            known[key] = known.get(key, 0) + amount
        self._ttls.update(dict.fromkeys(amounts, ttl_s))

    def take(self) -> tuple[dict[str, int], dict[str, int]]:
        """The increments gathered so far and their TTLs, removed from the batch (for a store call that
        writes them alongside something else, such as a rate-limit spend)."""
        taken = self._amounts, self._ttls
        self._amounts, self._ttls = {}, {}
        return taken

    async def flush(self) -> None:
        amounts, ttls = self.take()
        if amounts:
            await self._store.incr_many(amounts, ttls)


class WindowedCounters:
    """Integer counters per (subject, field) in fixed time windows, in the `FleetState`.

    Keys are `{prefix}:{{stats:subject}}:{window}:{field}`; each window expires after three of its length.
    The braces are a Redis Cluster hash tag: every counter of one subject (an operation) lives in one
    slot, whichever family it belongs to (cache statistics, request metrics), so one request's counts are
    one script on one node and a subject's reads one MGET, while different operations spread over the
    shards instead of heating one slot. `add` writes at once, or into a `CounterBatch` the caller flushes;
    `totals` sums the current and the previous window, so figures cover the last one to two windows.
    With a shared store the numbers are fleet-wide.
    """

    def __init__(
        self, store: FleetState, *, prefix: str, window_s: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._prefix = prefix
        self.window_s = window_s
        self._clock = clock

    def _key(self, window: int, subject: str, field: str) -> str:
        return f"{self._prefix}:{{stats:{subject}}}:{window}:{field}"

    async def add(
        self, subject: str, amounts: Mapping[str, int], *, batch: CounterBatch | None = None
    ) -> None:
        """Count `amounts` for `subject` now (one `incr_many`), or into `batch` (written by its flush)."""
        window = int(self._clock() // self.window_s)
        base = self._key(window, subject, "")
        keyed = {base + field: amount for field, amount in amounts.items() if amount}
        if batch is not None:
            batch.add_all(keyed, 3 * self.window_s)
        elif keyed:
            await self._store.incr_many(keyed, ttl_s=3 * self.window_s)

    async def totals(self, subjects: Iterable[str], fields: Iterable[str]) -> dict[str, dict[str, int]]:
        """`{subject: {field: count}}` over the current and the previous window, in one read."""
        subjects, fields = list(subjects), list(fields)
        current = int(self._clock() // self.window_s)
        keys = {
            (subject, field, window): self._key(window, subject, field)
            for window in (current - 1, current)
            for subject in subjects
            for field in fields
        }
        values = await self._store.read_counters(list(keys.values()))
        totals = {subject: dict.fromkeys(fields, 0) for subject in subjects}
        for (subject, field, _), key in keys.items():
            totals[subject][field] += values.get(key, 0)
        return totals

    async def report(
        self,
        subjects: Iterable[str],
        fields: Iterable[str],
        summarize: Callable[[dict[str, int]], dict[str, Any]],
    ) -> dict[str, Any]:
        """`{"operations": {subject: summary}, "totals": summary, "window_s": ...}` in one read."""
        subjects, fields = list(subjects), list(fields)
        raw = await self.totals(subjects, fields)
        overall = {field: sum(raw[subject][field] for subject in subjects) for field in fields}
        return {
            "operations": {subject: summarize(raw[subject]) for subject in subjects},
            "totals": summarize(overall),
            "window_s": 2 * self.window_s,
        }
