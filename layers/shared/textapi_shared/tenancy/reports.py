"""Usage as the APIs report it: a key's billed rows (durable) and its unbilled counters (the fleet state:
requests, cache hits, tokens saved) together, per UTC day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from textapi_shared.tenancy.usage import FLEET_FIELDS, Period, usage_key
from textapi_shared.timestamps import utc_timestamp

if TYPE_CHECKING:
    from collections.abc import Iterable

    from textapi_shared.fleet.protocol import FleetState
    from textapi_shared.tenancy.records import TokenBudget
    from textapi_shared.tenancy.usage import DayUsage, UsageStore

MAX_DAYS = 92
_BILLED = ("ai_calls", "prompt_tokens", "output_tokens", "tokens_billed")


def _day_view(date_text: str, row: DayUsage | None, counters: dict[str, int]) -> dict[str, Any]:
    view: dict[str, Any] = {"date": date_text}
    view.update({name: counters.get(name, 0) for name in ("requests",)})
    view.update({name: getattr(row, name) if row is not None else 0 for name in _BILLED})
    view["cache_hits"] = counters.get("cache_hits", 0)
    view["tokens_saved"] = counters.get("tokens_saved", 0)
    view["estimated_cost_usd"] = round((row.cost_micros if row is not None else 0) / 1e6, 6)
    return view


def dates(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


class UsageReports:
    def __init__(self, usage: UsageStore, fleet: FleetState) -> None:
        self._usage = usage
        self._fleet = fleet

    async def _counters(
        self, subjects: Iterable[str], days: Iterable[str]
    ) -> dict[tuple[str, str], dict[str, int]]:
        names = {
            (subject, day, name): f"{usage_key(subject, day)}{name}"
            for subject in subjects
            for day in days
            for name in FLEET_FIELDS
        }
        values = await self._fleet.read_counters(list(names.values())) if names else {}
        found: dict[tuple[str, str], dict[str, int]] = {}
        for (subject, day, name), key in names.items():
            found.setdefault((subject, day), {})[name] = values.get(key, 0)
        return found

    async def days(self, subject: str, first: date, last: date) -> list[dict[str, Any]]:
        """The key's days from `first` to `last` that saw any use, in date order."""
        span = dates(first, last)
        rows = {row.date: row for row in await self._usage.days(subject, span[0], span[-1])}
        counters = await self._counters([subject], span)
        views = [_day_view(day, rows.get(day), counters.get((subject, day), {})) for day in span]
        return [view for view in views if any(v for k, v in view.items() if k != "date")]

    async def on_day(self, day: str, subjects: Iterable[str]) -> list[dict[str, Any]]:
        """One row per key that used the service on `day`: keys with billed rows, and the given ones."""
        rows = {row.subject: row for row in await self._usage.on_day(day)}
        everyone = sorted({*rows, *subjects})
        counters = await self._counters(everyone, [day])
        views = []
        for subject in everyone:
            view = _day_view(day, rows.get(subject), counters.get((subject, day), {}))
            if any(v for k, v in view.items() if k != "date"):
                views.append({"key_id": subject, **view})
        return views

    async def current(self, subject: str, budget: TokenBudget, now: float) -> dict[str, Any]:
        """Today's and this month's billed tokens against the key's budgets, and today's use."""
        period = Period.at(now)
        rows = await self._usage.days(subject, period.day, period.day)
        today = rows[0] if rows else None
        month_billed, month_committed = await self._usage.month_totals(subject, period.month)
        counters = (await self._counters([subject], [period.day])).get((subject, period.day), {})
        view = _day_view(period.day, today, counters)

        def within(budget_tokens: int | None, committed: int) -> int | None:
            return None if budget_tokens is None else max(0, budget_tokens - committed)

        return {
            "day": {
                "date": period.day,
                "tokens_billed": view["tokens_billed"],
                "budget": budget.daily,
                "remaining": within(budget.daily, today.committed if today is not None else 0),
                "resets_at": utc_timestamp(period.day_ends_at),
            },
            "month": {
                "month": period.month,
                "tokens_billed": month_billed,
                "budget": budget.monthly,
                "remaining": within(budget.monthly, month_committed),
                "resets_at": utc_timestamp(period.month_ends_at),
            },
            "requests": view["requests"],
            "ai_calls": view["ai_calls"],
            "cache_hits": view["cache_hits"],
            "tokens_saved": view["tokens_saved"],
            "estimated_cost_usd": view["estimated_cost_usd"],
        }


def today() -> date:
    return datetime.now(UTC).date()
