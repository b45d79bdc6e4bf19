"""Usage as the APIs report it (`UsageReports`) on the memory stores: billed rows and the fleet's unbilled
counters together per UTC day, the billing export, and a key's view of its budgets."""

from __future__ import annotations

import calendar
from datetime import date

import pytest

from fakes.loops import run
from textapi_shared.fleet.memory_state import MemoryFleetState
from textapi_shared.tenancy.records import TokenBudget
from textapi_shared.tenancy.reports import UsageReports
from textapi_shared.tenancy.usage import USAGE_TTL_S, MemoryUsageStore, Period, TokenUsage, usage_counts

KEY = "key_0123456789abcdef"
STATIC = "3f2a9c0d1e2b3a4c"


def at(*moment: int) -> float:
    return float(calendar.timegm((*moment, 0, 0, 0)[:6]))


@pytest.fixture
def usage():
    return MemoryUsageStore()


@pytest.fixture
def fleet():
    return MemoryFleetState()


def counted(fleet: MemoryFleetState, subject: str, day: str, **amounts: int) -> None:
    run(fleet.incr_many(usage_counts(subject, day, **amounts), USAGE_TTL_S))


def test_a_keys_days_join_billed_rows_and_fleet_counters_and_skip_idle_days(usage, fleet):
    run(usage.settle(KEY, Period.at(at(2026, 3, 2, 9, 0, 0)), TokenUsage(1000, 200, cost_micros=800), None))
    counted(fleet, KEY, "2026-03-02", requests=3, cache_hits=2, tokens_saved=1200)
    counted(fleet, KEY, "2026-03-04", requests=1, cache_hits=1, tokens_saved=600)  # cache hits only
    counted(fleet, STATIC, "2026-03-03", requests=9)  # another key
    days = run(UsageReports(usage, fleet).days(KEY, date(2026, 3, 1), date(2026, 3, 5)))
    assert days == [
        {
            "date": "2026-03-02",
            "requests": 3,
            "ai_calls": 1,
            "prompt_tokens": 1000,
            "output_tokens": 200,
            "tokens_billed": 1200,
            "cache_hits": 2,
            "tokens_saved": 1200,
            "estimated_cost_usd": 0.0008,
        },
        {
            "date": "2026-03-04",
            "requests": 1,
            "ai_calls": 0,
            "prompt_tokens": 0,
            "output_tokens": 0,
            "tokens_billed": 0,
            "cache_hits": 1,
            "tokens_saved": 600,
            "estimated_cost_usd": 0.0,
        },
    ]


def test_a_reservation_alone_is_no_use_to_report(usage, fleet):
    run(usage.reserve(KEY, 500, period=Period.at(at(2026, 3, 2, 9, 0, 0)), daily=1000, monthly=None))
    assert run(UsageReports(usage, fleet).days(KEY, date(2026, 3, 1), date(2026, 3, 3))) == []
    assert run(UsageReports(usage, fleet).on_day("2026-03-02", [KEY])) == []


def test_the_billing_export_has_a_row_per_key_that_used_the_day(usage, fleet):
    day = Period.at(at(2026, 3, 2, 9, 0, 0))
    run(usage.settle(KEY, day, TokenUsage(10, 5, cost_micros=3), None))
    run(usage.settle("key_00000000000000ff", Period.at(at(2026, 3, 3, 9, 0, 0)), TokenUsage(1, 1), None))
    counted(fleet, STATIC, day.day, requests=2, cache_hits=2, tokens_saved=40)
    rows = run(UsageReports(usage, fleet).on_day(day.day, [KEY, STATIC, "key_idle000000000"]))
    assert [(r["key_id"], r["requests"], r["tokens_billed"], r["tokens_saved"]) for r in rows] == [
        (STATIC, 2, 0, 40),
        (KEY, 0, 15, 0),
    ]
    assert rows[1]["estimated_cost_usd"] == 0.000003


def test_a_keys_current_view_counts_reservations_against_its_budgets(usage, fleet):
    now = at(2026, 3, 14, 18, 0, 0)
    period = Period.at(now)
    run(usage.settle(KEY, Period.at(at(2026, 3, 1, 9, 0, 0)), TokenUsage(3000, 0), None))
    run(usage.settle(KEY, period, TokenUsage(100, 50), None))
    run(usage.reserve(KEY, 400, period=period, daily=1000, monthly=10_000))
    counted(fleet, KEY, period.day, requests=4, cache_hits=1, tokens_saved=70)
    view = run(UsageReports(usage, fleet).current(KEY, TokenBudget(daily=1000, monthly=10_000), now))
    assert view["day"] == {
        "date": "2026-03-14",
        "tokens_billed": 150,
        "budget": 1000,
        "remaining": 450,
        "resets_at": "2026-03-15T00:00:00.000Z",
    }
    assert view["month"] == {
        "month": "2026-03",
        "tokens_billed": 3150,
        "budget": 10_000,
        "remaining": 6450,
        "resets_at": "2026-04-01T00:00:00.000Z",
    }
    assert (view["requests"], view["ai_calls"], view["cache_hits"], view["tokens_saved"]) == (4, 1, 1, 70)


def test_an_unlimited_key_has_no_budget_or_remaining(usage, fleet):
    view = run(UsageReports(usage, fleet).current(KEY, TokenBudget(), at(2026, 3, 14, 18, 0, 0)))
    assert (view["day"]["budget"], view["day"]["remaining"]) == (None, None)
    assert (view["month"]["budget"], view["month"]["remaining"]) == (None, None)
    assert (view["day"]["tokens_billed"], view["month"]["tokens_billed"]) == (0, 0)
