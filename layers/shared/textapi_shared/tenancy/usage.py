"""Billed usage and token budgets: the usage store port, its in-memory twin, and the periods.

Every AI call's tokens are billed to the calling key in a row per key and UTC day (and a ledger per key and
UTC month). A key with a budget first reserves an upper estimate of the call's tokens in one atomic,
conditional step per period (the day's and the month's rows), which refuses the reservation when it does
not fit; after the call the reservation settles to the actual tokens, and a failed call releases it. Each
period's `committed` is what was settled plus what is reserved, so across any number of instances the
billed total never exceeds the budget as long as every call stays within its estimate (the estimate takes
the prompt's bytes and the operation's output maximum, an upper bound).

What a request adds that is not billed (requests, cache hits, tokens saved) is counted in the fleet state
instead, in the round trip the request already makes (`usage_counts`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, Protocol

DAY, MONTH = "day", "month"
USAGE_TTL_S = 400 * 86_400  # rows outlive the 92 days the usage API reads back, and a year's billing


class Period(NamedTuple):
    day: str  # YYYY-MM-DD, UTC
    month: str  # YYYY-MM
    day_ends_at: float  # epoch seconds: the next UTC midnight
    month_ends_at: float

    @classmethod
    def at(cls, now: float) -> Period:
        moment = datetime.fromtimestamp(now, UTC)
        day_start = now - now % 86_400  # UTC days are 86,400 epoch seconds (no leap seconds in epoch time)
        year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        next_month = datetime(year, month, 1, tzinfo=UTC)
        return cls(
            moment.strftime("%Y-%m-%d"), moment.strftime("%Y-%m"), day_start + 86_400, next_month.timestamp()
        )

    def ends_at(self, period: str) -> float:
        return self.day_ends_at if period == DAY else self.month_ends_at


class TokenUsage(NamedTuple):
    """One AI call's tokens (output includes thinking, as it is billed) and its cost in micro-USD."""

    prompt_tokens: int
    output_tokens: int
    cost_micros: int = 0

    @property
    def billed(self) -> int:
        return self.prompt_tokens + self.output_tokens


class Reservation(NamedTuple):
    subject: str
    period: Period
    tokens: int
    periods: tuple[str, ...]  # the ledgers charged: "day", "month"


class PeriodFull(Exception):
    """A reservation that does not fit the period's budget."""

    def __init__(self, period: str, budget: int, used: int) -> None:
        super().__init__(f"{period} budget {budget} has {used} committed")
        self.period, self.budget, self.used = period, budget, used


@dataclass
class DayUsage:
    """One key's billed usage on one UTC day (`committed` includes what is reserved right now)."""

    subject: str
    date: str
    ai_calls: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    tokens_billed: int = 0
    cost_micros: int = 0
    committed: int = 0


class UsageStore(Protocol):
    name: str

    async def reserve(
        self, subject: str, tokens: int, *, period: Period, daily: int | None, monthly: int | None
    ) -> Reservation:
        """Add `tokens` to the day's and the month's committed tokens if each stays within its budget (a
        None budget: no limit, nothing reserved there); `PeriodFull` otherwise, with nothing kept."""
        ...

    async def settle(
        self, subject: str, period: Period, usage: TokenUsage, reservation: Reservation | None
    ) -> None:
        """Bill `usage` (one AI call) to the key's day and month; the reservation, if any, becomes the
        actual tokens."""
        ...

    async def release(self, reservation: Reservation) -> None:
        """Give back a reservation whose call failed (nothing was billed)."""
        ...

    async def days(self, subject: str, first: str, last: str) -> list[DayUsage]:
        """The key's rows from day `first` to `last` (inclusive), in date order; days without usage absent."""
        ...

    async def month_totals(self, subject: str, month: str) -> tuple[int, int]:
        """The key's month: (tokens billed, tokens committed: billed plus reserved)."""
        ...

    async def on_day(self, date: str) -> list[DayUsage]:
        """Every key's row of one day (the billing export)."""
        ...


def usage_counts(subject: str, date: str, **amounts: int) -> dict[str, int]:
    """The fleet counters of what a request used without being billed, keyed per key and day: `requests`,
    `cache_hits`, `tokens_saved` (counted in the fleet state, written with the request's other counters)."""
    return {f"{usage_key(subject, date)}{name}": amount for name, amount in amounts.items() if amount}


class _UtcDay:
    """Today's UTC date as text, worked out again only when the day ends: every request asks for it."""

    __slots__ = ("_ends_at", "_starts_at", "_text")

    def __init__(self) -> None:
        self._starts_at = self._ends_at = 0.0
        self._text = ""

    def __call__(self, now: float) -> str:
        if not self._starts_at <= now < self._ends_at:
            self._starts_at = now - now % 86_400
            self._ends_at = self._starts_at + 86_400
            self._text = time.strftime("%Y-%m-%d", time.gmtime(self._starts_at))
        return self._text


utc_day = _UtcDay()


def usage_key(subject: str, date: str) -> str:
    # The braces are a Redis Cluster hash tag: one key's counters share a slot.
    return f"usage:{{{subject}}}:{date}:"


FLEET_FIELDS = ("requests", "cache_hits", "tokens_saved")


class MemoryUsageStore:
    """Per execution environment (`make run`, tests)."""

    name = "memory"

    def __init__(self) -> None:
        self._days: dict[tuple[str, str], DayUsage] = {}
        self._months: dict[tuple[str, str], list[int]] = {}  # (subject, month) -> [committed, billed]
        self._lock = threading.Lock()

    def _day(self, subject: str, date: str) -> DayUsage:
        row = self._days.get((subject, date))
        if row is None:
            row = self._days[(subject, date)] = DayUsage(subject, date)
        return row

    def _month(self, subject: str, month: str) -> list[int]:
        return self._months.setdefault((subject, month), [0, 0])

    async def reserve(
        self, subject: str, tokens: int, *, period: Period, daily: int | None, monthly: int | None
    ) -> Reservation:
        with self._lock:
            day, month = self._day(subject, period.day), self._month(subject, period.month)
            if daily is not None and day.committed + tokens > daily:
                raise PeriodFull(DAY, daily, day.committed)
            if monthly is not None and month[0] + tokens > monthly:
                raise PeriodFull(MONTH, monthly, month[0])
            charged = tuple(p for p, budget in ((DAY, daily), (MONTH, monthly)) if budget is not None)
            if DAY in charged:
                day.committed += tokens
            if MONTH in charged:
                month[0] += tokens
            return Reservation(subject, period, tokens, charged)

    async def settle(
        self, subject: str, period: Period, usage: TokenUsage, reservation: Reservation | None
    ) -> None:
        charged = reservation.periods if reservation is not None else ()
        reserved = reservation.tokens if reservation is not None else 0
        with self._lock:
            day, month = self._day(subject, period.day), self._month(subject, period.month)
            day.committed += usage.billed - (reserved if DAY in charged else 0)
            month[0] += usage.billed - (reserved if MONTH in charged else 0)
            month[1] += usage.billed
            day.ai_calls += 1
            day.prompt_tokens += usage.prompt_tokens
            day.output_tokens += usage.output_tokens
            day.tokens_billed += usage.billed
            day.cost_micros += usage.cost_micros

    async def release(self, reservation: Reservation) -> None:
        with self._lock:
            if DAY in reservation.periods:
                self._day(reservation.subject, reservation.period.day).committed -= reservation.tokens
            if MONTH in reservation.periods:
                self._month(reservation.subject, reservation.period.month)[0] -= reservation.tokens

    async def days(self, subject: str, first: str, last: str) -> list[DayUsage]:
        return sorted(
            (row for (who, date), row in self._days.items() if who == subject and first <= date <= last),
            key=lambda row: row.date,
        )

    async def month_totals(self, subject: str, month: str) -> tuple[int, int]:
        committed, billed = self._months.get((subject, month), [0, 0])
        return billed, committed

    async def on_day(self, date: str) -> list[DayUsage]:
        return sorted((row for (_, day), row in self._days.items() if day == date), key=lambda r: r.subject)
