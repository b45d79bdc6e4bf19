"""One contract for the usage stores: memory and DynamoDB (moto, the keys table as template.yaml declares
it, with its `by_day` index). Reservations against daily and monthly budgets, settling to the actual
tokens, releases, the read-backs, UTC period boundaries, and many reservations racing for one budget."""

from __future__ import annotations

import asyncio
import calendar
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config

from fakes.loops import run
from textapi_shared.config import SharedSettings
from textapi_shared.tenancy.dynamodb_usage import DynamoDBUsageStore
from textapi_shared.tenancy.usage import DAY, MONTH, MemoryUsageStore, Period, PeriodFull, TokenUsage


def at(*moment: int) -> float:
    """Epoch seconds of a UTC (year, month, day, hour, minute, second)."""
    return float(calendar.timegm((*moment, 0, 0, 0)[:6]))


NOON = Period.at(at(2026, 3, 14, 12, 0, 0))
KEY = "key_00000000000000aa"
OTHER = "key_00000000000000bb"


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    if request.param == "memory":
        return MemoryUsageStore()
    # moto applies a conditional UpdateItem as an unlocked read-check-write, so two concurrent ADDs can
    # lose one and two reservations can both pass the condition for the last room (about once in 500
    # under load). Real DynamoDB applies each write atomically; serialised, these tests measure the
    # store's use of ADD and conditions rather than the fake's race (see fakes.services).
    request.getfixturevalue("atomic_moto_updates")
    endpoint = request.getfixturevalue("moto_endpoint")
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(max_pool_connections=64),  # the concurrency test's threads share it
    )
    return DynamoDBUsageStore(
        SharedSettings(), client=client, table_name=request.getfixturevalue("keys_table")
    )


def committed(store, subject: str = KEY, period: Period = NOON) -> tuple[int, int]:
    """(the day's, the month's) committed tokens: billed plus reserved."""
    rows = run(store.days(subject, period.day, period.day))
    return (rows[0].committed if rows else 0), run(store.month_totals(subject, period.month))[1]


def billed(store, subject: str = KEY, period: Period = NOON) -> tuple[int, int]:
    rows = run(store.days(subject, period.day, period.day))
    return (rows[0].tokens_billed if rows else 0), run(store.month_totals(subject, period.month))[0]


def refused(call) -> PeriodFull:
    with pytest.raises(PeriodFull) as full:
        run(call)
    return full.value


# -- reservations -------------------------------------------------------------------------------------


def test_a_reservation_within_the_budget_is_granted_and_committed(store):
    reservation = run(store.reserve(KEY, 300, period=NOON, daily=1000, monthly=10_000))
    assert (reservation.subject, reservation.period, reservation.tokens) == (KEY, NOON, 300)
    assert set(reservation.periods) == {DAY, MONTH}
    assert committed(store) == (300, 300)
    assert billed(store) == (0, 0)  # reserved is not billed


def test_only_the_periods_with_a_budget_are_reserved(store):
    daily = run(store.reserve(KEY, 100, period=NOON, daily=1000, monthly=None))
    assert daily.periods == (DAY,)
    assert committed(store) == (100, 0)
    monthly = run(store.reserve(OTHER, 100, period=NOON, daily=None, monthly=1000))
    assert monthly.periods == (MONTH,)
    assert committed(store, OTHER)[1] == 100


def test_a_reservation_that_exactly_fills_the_budget_is_granted(store):
    run(store.reserve(KEY, 600, period=NOON, daily=1000, monthly=None))
    run(store.reserve(KEY, 400, period=NOON, daily=1000, monthly=None))
    assert committed(store)[0] == 1000
    full = refused(store.reserve(KEY, 1, period=NOON, daily=1000, monthly=None))
    assert (full.period, full.budget, full.used) == (DAY, 1000, 1000)


def test_a_reservation_over_the_daily_budget_is_refused_and_keeps_nothing(store):
    run(store.reserve(KEY, 600, period=NOON, daily=1000, monthly=10_000))
    full = refused(store.reserve(KEY, 500, period=NOON, daily=1000, monthly=10_000))
    assert (full.period, full.budget, full.used) == (DAY, 1000, 600)
    assert committed(store) == (600, 600)


def test_a_reservation_over_the_monthly_budget_is_refused_and_gives_the_day_back(store):
    # Earlier days of the month used most of it; today's row is empty.
    earlier = Period.at(at(2026, 3, 2, 9, 0, 0))
    run(store.settle(KEY, earlier, TokenUsage(4000, 500), None))
    full = refused(store.reserve(KEY, 600, period=NOON, daily=1000, monthly=5000))
    assert (full.period, full.budget, full.used) == (MONTH, 5000, 4500)
    assert committed(store) == (0, 4500)  # the day's room taken for it (if any) is back


def test_a_reservation_bigger_than_the_whole_budget_is_refused(store):
    full = refused(store.reserve(KEY, 1001, period=NOON, daily=1000, monthly=None))
    assert (full.period, full.budget, full.used) == (DAY, 1000, 0)
    run(store.reserve(KEY, 200, period=NOON, daily=None, monthly=1000))
    full = refused(store.reserve(KEY, 5000, period=NOON, daily=None, monthly=1000))
    assert (full.period, full.budget, full.used) == (MONTH, 1000, 200)
    assert committed(store) == (0, 200)


def test_budgets_are_per_key(store):
    run(store.reserve(KEY, 1000, period=NOON, daily=1000, monthly=None))
    run(store.reserve(OTHER, 1000, period=NOON, daily=1000, monthly=None))
    assert committed(store, KEY)[0] == committed(store, OTHER)[0] == 1000


# -- settling and releasing ---------------------------------------------------------------------------


def test_settling_an_overestimate_commits_only_the_actual_tokens(store):
    reservation = run(store.reserve(KEY, 1000, period=NOON, daily=2000, monthly=50_000))
    run(store.settle(KEY, NOON, TokenUsage(300, 120, cost_micros=390), reservation))
    assert committed(store) == (420, 420)
    assert billed(store) == (420, 420)
    [row] = run(store.days(KEY, NOON.day, NOON.day))
    assert (row.ai_calls, row.prompt_tokens, row.output_tokens, row.cost_micros) == (1, 300, 120, 390)
    # The room the estimate held is free again.
    run(store.reserve(KEY, 1580, period=NOON, daily=2000, monthly=50_000))


def test_settling_an_underestimate_commits_the_actual_tokens(store):
    reservation = run(store.reserve(KEY, 100, period=NOON, daily=1000, monthly=None))
    run(store.settle(KEY, NOON, TokenUsage(90, 40), reservation))
    assert committed(store) == (130, 130)  # the month ledger counts what was billed even without a budget
    assert billed(store) == (130, 130)


def test_settling_without_a_reservation_bills_and_commits(store):
    run(store.settle(KEY, NOON, TokenUsage(10, 5, cost_micros=7), None))
    run(store.settle(KEY, NOON, TokenUsage(20, 5, cost_micros=8), None))
    assert committed(store) == (40, 40)
    [row] = run(store.days(KEY, NOON.day, NOON.day))
    assert (row.ai_calls, row.tokens_billed, row.cost_micros) == (2, 40, 15)


def test_a_released_reservation_gives_its_tokens_back_and_bills_nothing(store):
    kept = run(store.reserve(KEY, 300, period=NOON, daily=1000, monthly=1000))
    failed = run(store.reserve(KEY, 700, period=NOON, daily=1000, monthly=1000))
    run(store.release(failed))
    assert committed(store) == (300, 300)
    assert billed(store) == (0, 0)
    run(store.settle(KEY, NOON, TokenUsage(200, 100), kept))
    assert committed(store) == (300, 300)
    run(store.reserve(KEY, 700, period=NOON, daily=1000, monthly=1000))
    [row] = run(store.days(KEY, NOON.day, NOON.day))
    assert (row.ai_calls, row.tokens_billed) == (1, 300)


# -- reading usage back -------------------------------------------------------------------------------


def test_days_are_the_keys_rows_in_date_order_within_the_range(store):
    for day in (20, 3, 11, 1):
        run(store.settle(KEY, Period.at(at(2026, 3, day, 8, 0, 0)), TokenUsage(day, 1), None))
    run(store.settle(KEY, Period.at(at(2026, 2, 28, 8, 0, 0)), TokenUsage(5, 5), None))
    run(store.settle(OTHER, Period.at(at(2026, 3, 11, 8, 0, 0)), TokenUsage(99, 1), None))
    rows = run(store.days(KEY, "2026-03-01", "2026-03-11"))
    assert [(r.subject, r.date, r.tokens_billed) for r in rows] == [
        (KEY, "2026-03-01", 2),
        (KEY, "2026-03-03", 4),
        (KEY, "2026-03-11", 12),
    ]
    assert [r.date for r in run(store.days(KEY, "2026-02-01", "2026-03-31"))] == [
        "2026-02-28",
        "2026-03-01",
        "2026-03-03",
        "2026-03-11",
        "2026-03-20",
    ]
    assert run(store.days(KEY, "2026-03-12", "2026-03-19")) == []
    assert run(store.days("key_never", "2026-01-01", "2026-12-31")) == []


def test_month_totals_add_the_months_days_and_no_other_month(store):
    run(store.settle(KEY, Period.at(at(2026, 3, 1, 0, 0, 0)), TokenUsage(100, 10), None))
    run(store.settle(KEY, Period.at(at(2026, 3, 31, 23, 59, 59)), TokenUsage(200, 20), None))
    run(store.settle(KEY, Period.at(at(2026, 4, 1, 0, 0, 0)), TokenUsage(1000, 1), None))
    reservation = run(store.reserve(KEY, 50, period=NOON, daily=None, monthly=10_000))
    assert run(store.month_totals(KEY, "2026-03")) == (330, 330 + reservation.tokens)
    assert run(store.month_totals(KEY, "2026-04")) == (1001, 1001)
    assert run(store.month_totals(KEY, "2026-05")) == (0, 0)


def test_on_day_is_every_keys_row_of_that_day(store):
    today, tomorrow = NOON, Period.at(at(2026, 3, 15, 0, 0, 0))
    run(store.settle(OTHER, today, TokenUsage(7, 3, cost_micros=11), None))
    run(store.settle(KEY, today, TokenUsage(1, 1), None))
    run(store.settle(KEY, today, TokenUsage(2, 2), None))
    run(store.settle("3f2a9c0d1e2b3a4c", today, TokenUsage(5, 0), None))  # a static key, by hash
    run(store.settle(KEY, tomorrow, TokenUsage(50, 50), None))
    rows = run(store.on_day(today.day))
    assert [(r.subject, r.date, r.ai_calls, r.tokens_billed, r.cost_micros) for r in rows] == [
        ("3f2a9c0d1e2b3a4c", today.day, 1, 5, 0),
        (KEY, today.day, 2, 6, 0),
        (OTHER, today.day, 1, 10, 11),
    ]
    assert [r.subject for r in run(store.on_day(tomorrow.day))] == [KEY]
    assert run(store.on_day("2026-03-16")) == []


# -- UTC periods --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "day", "month", "day_ends", "month_ends"),
    [
        ((2026, 3, 14, 23, 59, 59), "2026-03-14", "2026-03", (2026, 3, 15), (2026, 4, 1)),
        ((2026, 3, 15, 0, 0, 0), "2026-03-15", "2026-03", (2026, 3, 16), (2026, 4, 1)),
        ((2026, 1, 31, 23, 59, 59), "2026-01-31", "2026-01", (2026, 2, 1), (2026, 2, 1)),
        ((2026, 2, 1, 0, 0, 0), "2026-02-01", "2026-02", (2026, 2, 2), (2026, 3, 1)),
        ((2026, 2, 28, 12, 0, 0), "2026-02-28", "2026-02", (2026, 3, 1), (2026, 3, 1)),
        ((2028, 2, 28, 12, 0, 0), "2028-02-28", "2028-02", (2028, 2, 29), (2028, 3, 1)),  # leap year
        ((2026, 12, 31, 23, 59, 59), "2026-12-31", "2026-12", (2027, 1, 1), (2027, 1, 1)),
        ((2027, 1, 1, 0, 0, 0), "2027-01-01", "2027-01", (2027, 1, 2), (2027, 2, 1)),
    ],
)
def test_periods_are_utc_days_and_months_ending_at_the_next_midnight(
    moment, day, month, day_ends, month_ends
):
    period = Period.at(at(*moment))
    assert (period.day, period.month) == (day, month)
    assert period.day_ends_at == at(*day_ends, 0, 0, 0)
    assert period.month_ends_at == at(*month_ends, 0, 0, 0)
    assert (period.ends_at(DAY), period.ends_at(MONTH)) == (period.day_ends_at, period.month_ends_at)


def test_the_last_fraction_of_a_second_still_belongs_to_its_day():
    period = Period.at(at(2026, 3, 31, 23, 59, 59) + 0.999)
    assert (period.day, period.month, period.day_ends_at) == (
        "2026-03-31",
        "2026-03",
        at(2026, 4, 1, 0, 0, 0),
    )


def test_a_full_day_is_free_again_at_utc_midnight(store):
    last_second = Period.at(at(2026, 3, 14, 23, 59, 59))
    run(store.reserve(KEY, 1000, period=last_second, daily=1000, monthly=None))
    full = refused(
        store.reserve(KEY, 1, period=Period.at(at(2026, 3, 14, 23, 59, 59) + 0.5), daily=1000, monthly=None)
    )
    assert full.period == DAY
    midnight = Period.at(at(2026, 3, 15, 0, 0, 0))
    assert run(store.reserve(KEY, 1000, period=midnight, daily=1000, monthly=None)).tokens == 1000
    assert committed(store, period=last_second)[0] == committed(store, period=midnight)[0] == 1000


def test_a_full_month_is_free_again_on_the_first_and_not_a_day_before(store):
    run(store.reserve(KEY, 900, period=Period.at(at(2026, 1, 3, 10, 0, 0)), daily=None, monthly=1000))
    last_day = Period.at(at(2026, 1, 31, 23, 59, 59))
    full = refused(store.reserve(KEY, 200, period=last_day, daily=None, monthly=1000))
    assert (full.period, full.used) == (MONTH, 900)
    first = Period.at(at(2026, 2, 1, 0, 0, 0))
    assert run(store.reserve(KEY, 1000, period=first, daily=None, monthly=1000)).tokens == 1000
    assert run(store.month_totals(KEY, "2026-01"))[1] == 900
    assert run(store.month_totals(KEY, "2026-02"))[1] == 1000


def test_a_call_settles_in_the_period_it_reserved_in(store):
    evening = Period.at(at(2026, 3, 31, 23, 59, 58))
    reservation = run(store.reserve(KEY, 500, period=evening, daily=1000, monthly=1000))
    run(store.settle(KEY, reservation.period, TokenUsage(100, 50), reservation))
    assert committed(store, period=evening) == (150, 150)
    assert committed(store, period=Period.at(at(2026, 4, 1, 0, 0, 1))) == (0, 0)


# -- concurrency --------------------------------------------------------------------------------------

TOKENS = 7
THREADS = 50
# Calls per thread: DynamoDB calls are round trips (200 in all); memory calls take microseconds, so it
# takes many more of them to overlap in the unlocked window a lost lock would open.
PER_THREAD = {"memory": 400, "dynamodb": 4}


def race(store, *, daily: bool, monthly: bool) -> tuple[list[Any], int]:
    """Reservations from `THREADS` threads at once, each with its own event loop (as instances would),
    against a budget with room for two in five of them: the outcomes (reservations granted, refusals)
    and the budget."""
    calls = THREADS * PER_THREAD[store.name]
    budget = TOKENS * (calls * 2 // 5) + TOKENS - 1  # room for calls * 2/5, and a remainder too small

    def thread(_: int) -> list[Any]:
        async def reservations() -> list[Any]:
            outcomes: list[Any] = []
            for _ in range(PER_THREAD[store.name]):
                try:
                    outcomes.append(
                        await store.reserve(
                            KEY,
                            TOKENS,
                            period=NOON,
                            daily=budget if daily else None,
                            monthly=budget if monthly else None,
                        )
                    )
                except PeriodFull as full:
                    outcomes.append(full)
            return outcomes

        return asyncio.run(reservations())

    interval = sys.getswitchinterval()
    if store.name == "memory":  # its window is microseconds: switch threads as often as CPython can
        sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            return [outcome for outcomes in pool.map(thread, range(THREADS)) for outcome in outcomes], budget
    finally:
        sys.setswitchinterval(interval)


@pytest.mark.parametrize(("daily", "monthly"), [(True, False), (False, True)], ids=["daily", "monthly"])
def test_concurrent_reservations_take_exactly_the_room_one_budget_has(store, daily, monthly):
    outcomes, budget = race(store, daily=daily, monthly=monthly)
    granted = [o for o in outcomes if not isinstance(o, PeriodFull)]
    # Never more (over budget), never fewer (room left that a refused call could have had).
    assert len(granted) == budget // TOKENS
    assert all(o.budget == budget and o.used <= budget for o in outcomes if isinstance(o, PeriodFull))
    day, month = committed(store)
    assert (day if daily else month) == len(granted) * TOKENS
    assert (month if daily else day) == 0


def test_concurrent_reservations_against_both_budgets_never_exceed_either(store):
    # A call holds the day's room while its month step is refused (and then gives it back), so on
    # DynamoDB racing calls can refuse each other: fewer than the room may be granted, never more.
    outcomes, budget = race(store, daily=True, monthly=True)
    granted = [o for o in outcomes if not isinstance(o, PeriodFull)]
    assert 0 < len(granted) <= budget // TOKENS
    assert committed(store) == (len(granted) * TOKENS, len(granted) * TOKENS)
