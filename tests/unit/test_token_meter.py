"""One request's token billing on the memory usage store: reservations only for keys with a budget, the
429 that says until when and why, budgets that never fail open, billing that never fails a served
request, and costs from the price table."""

from __future__ import annotations

import calendar
import io
import json
import uuid
from contextlib import redirect_stdout

import pytest
from aws_lambda_powertools.logging import Logger
from pydantic import ValidationError

from fakes.clock import FakeClock
from fakes.key_records import key_record
from fakes.loops import run
from textapi_shared.config import SharedSettings
from textapi_shared.errors import BudgetExceededError, ServiceUnavailableError
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.monitoring.observability import Observability
from textapi_shared.tenancy.key_store import MemoryKeyStore
from textapi_shared.tenancy.meter import Meters, TokenMeter
from textapi_shared.tenancy.prices import DEFAULT_PRICES, Prices
from textapi_shared.tenancy.records import TokenBudget
from textapi_shared.tenancy.resolver import KeyResolver
from textapi_shared.tenancy.usage import MemoryUsageStore, Period, TokenUsage

SUBJECT = "key_0123456789abcdef"


def at(*moment: int) -> float:
    return float(calendar.timegm((*moment, 0, 0, 0)[:6]))


class Recorder:
    """An `Observability` whose log lines and metrics the test reads back."""

    def __init__(self) -> None:
        self._logs = io.StringIO()
        # A service of its own: Powertools keeps one logger per service name, with its handlers.
        logger = Logger(service=f"meter-{uuid.uuid4().hex[:8]}", stream=self._logs)
        self.obs = Observability(logger, None, "Textapi", "meter-test")

    def logs(self) -> list[dict]:
        return [json.loads(line) for line in self._logs.getvalue().splitlines()]

    def metrics(self) -> dict[str, float]:
        out = io.StringIO()
        with redirect_stdout(out):
            self.obs.flush_metrics()
        found: dict[str, float] = {}
        for line in out.getvalue().splitlines():
            document = json.loads(line)
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    found[metric["Name"]] = document[metric["Name"]]
        return found


class BrokenUsageStore:
    """A usage store that cannot be reached: every call fails as a timed-out client would; calls counted."""

    name = "broken"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _fail(self, method: str):
        self.calls.append(method)
        raise TimeoutError("read timed out")

    async def reserve(self, *args, **kwargs):
        self._fail("reserve")

    async def settle(self, *args, **kwargs):
        self._fail("settle")

    async def release(self, *args, **kwargs):
        self._fail("release")


def meter(store, budget: TokenBudget, *, clock: FakeClock, prices: Prices | None = None):
    recorder = Recorder()
    token_meter = TokenMeter(
        store, SUBJECT, budget, prices=prices or Prices(), observability=recorder.obs, clock=clock
    )
    return token_meter, recorder


def committed(store: MemoryUsageStore, now: float) -> tuple[int, int]:
    period = Period.at(now)
    rows = run(store.days(SUBJECT, period.day, period.day))
    return (rows[0].committed if rows else 0), run(store.month_totals(SUBJECT, period.month))[1]


# -- reservations -------------------------------------------------------------------------------------


def test_a_key_without_a_budget_reserves_nothing_and_needs_no_store():
    store = BrokenUsageStore()
    token_meter, recorder = meter(store, TokenBudget(), clock=FakeClock(at(2026, 3, 14, 12, 0, 0)))
    assert run(token_meter.reserve(10**9)) is None
    run(token_meter.release(None))
    assert store.calls == []  # a budget store that is down changes nothing for unlimited keys
    assert recorder.logs() == []


def test_a_reservation_within_the_budget_is_held_in_the_store():
    store, clock = MemoryUsageStore(), FakeClock(at(2026, 3, 14, 12, 0, 0))
    token_meter, _ = meter(store, TokenBudget(daily=1000, monthly=5000), clock=clock)
    reservation = run(token_meter.reserve(400))
    assert (reservation.subject, reservation.tokens, reservation.period) == (SUBJECT, 400, Period.at(clock()))
    assert committed(store, clock()) == (400, 400)


def test_a_spent_daily_budget_is_a_429_until_the_next_utc_midnight():
    store, clock = MemoryUsageStore(), FakeClock(at(2026, 3, 14, 18, 0, 0))
    token_meter, recorder = meter(store, TokenBudget(daily=1000, monthly=50_000), clock=clock)
    run(token_meter.reserve(900))
    with pytest.raises(BudgetExceededError) as refused:
        run(token_meter.reserve(200))
    error = refused.value
    assert (error.status_code, error.error_code) == (429, "BUDGET_EXCEEDED")
    assert error.headers == {"Retry-After": str(6 * 3600)}
    assert error.details == {"period": "day", "budget": 1000, "used": 900}
    assert "daily" in error.message
    assert "1000" in error.message
    assert committed(store, clock()) == (900, 900)  # the refused request holds nothing
    assert recorder.metrics() == {"BudgetRefused": 1}


def test_a_spent_monthly_budget_is_a_429_until_the_first_of_next_month():
    store, clock = MemoryUsageStore(), FakeClock(at(2026, 2, 27, 23, 0, 0) + 0.25)
    token_meter, _ = meter(store, TokenBudget(daily=10_000, monthly=3000), clock=clock)
    run(token_meter.reserve(2500))
    with pytest.raises(BudgetExceededError) as refused:
        run(token_meter.reserve(600))
    # 2026-02-27 23:00:00.25 to 2026-03-01 00:00:00, rounded up to whole seconds.
    assert refused.value.headers["Retry-After"] == str(86_400 + 3600)
    assert refused.value.details == {"period": "month", "budget": 3000, "used": 2500}
    assert "monthly" in refused.value.message


def test_retry_after_is_at_least_one_second_in_the_last_moment_of_a_period():
    clock = FakeClock(at(2026, 12, 31, 23, 59, 59) + 0.9999)
    token_meter, _ = meter(MemoryUsageStore(), TokenBudget(daily=10), clock=clock)
    with pytest.raises(BudgetExceededError) as refused:
        run(token_meter.reserve(11))
    assert refused.value.headers["Retry-After"] == "1"


def test_a_budget_store_that_cannot_be_reached_is_a_503_never_an_open_door():
    store, clock = BrokenUsageStore(), FakeClock(at(2026, 3, 14, 12, 0, 0))
    token_meter, recorder = meter(store, TokenBudget(monthly=1000), clock=clock)
    with pytest.raises(ServiceUnavailableError) as refused:
        run(token_meter.reserve(10))
    error = refused.value
    assert (error.status_code, error.error_code, error.headers) == (
        503,
        "SERVICE_UNAVAILABLE",
        {"Retry-After": "5"},
    )
    assert "read timed out" not in error.message
    [line] = recorder.logs()
    assert (line["level"], line["message"], line["error"]) == (
        "ERROR",
        "token budget store unavailable",
        "TimeoutError",
    )
    assert recorder.metrics() == {}  # not a budget refusal


# -- settling and releasing ---------------------------------------------------------------------------


def test_settling_bills_the_actual_tokens_and_their_cost():
    store, clock = MemoryUsageStore(), FakeClock(at(2026, 3, 14, 12, 0, 0))
    token_meter, _ = meter(store, TokenBudget(daily=10_000), clock=clock)
    reservation = run(token_meter.reserve(3000))
    usage = run(
        token_meter.settle(
            reservation, provider="gemini", model="gemini-2.5-flash", prompt_tokens=1000, output_tokens=200
        )
    )
    assert usage == TokenUsage(1000, 200, cost_micros=1000 * 0.30 + 200 * 2.50)
    assert committed(store, clock()) == (1200, 1200)
    [row] = run(store.days(SUBJECT, "2026-03-14", "2026-03-14"))
    assert (row.ai_calls, row.prompt_tokens, row.output_tokens, row.cost_micros) == (1, 1000, 200, 800)


def test_a_call_settles_in_the_period_it_reserved_in_even_after_midnight():
    store, clock = MemoryUsageStore(), FakeClock(at(2026, 3, 31, 23, 59, 50))
    token_meter, _ = meter(store, TokenBudget(daily=1000, monthly=1000), clock=clock)
    reservation = run(token_meter.reserve(500))
    clock.advance(20)  # the call ends in April
    run(token_meter.settle(reservation, provider="gemini", model="x", prompt_tokens=100, output_tokens=50))
    assert committed(store, at(2026, 3, 31, 12, 0, 0)) == (150, 150)
    assert committed(store, clock()) == (0, 0)


def test_settling_without_a_reservation_bills_the_current_day():
    store, clock = MemoryUsageStore(), FakeClock(at(2026, 3, 14, 12, 0, 0))
    token_meter, _ = meter(store, TokenBudget(), clock=clock)
    run(token_meter.settle(None, provider="local", model="local", prompt_tokens=30, output_tokens=12))
    assert committed(store, clock()) == (42, 42)


def test_a_failed_call_gives_its_reservation_back():
    store, clock = MemoryUsageStore(), FakeClock(at(2026, 3, 14, 12, 0, 0))
    token_meter, _ = meter(store, TokenBudget(daily=1000), clock=clock)
    run(token_meter.release(run(token_meter.reserve(800))))
    assert committed(store, clock()) == (0, 0)
    assert run(token_meter.reserve(1000)).tokens == 1000


@pytest.mark.parametrize("action", ["settle", "release"])
def test_a_store_that_fails_after_the_call_is_logged_and_counted_not_the_requests_failure(action):
    memory, broken, clock = MemoryUsageStore(), BrokenUsageStore(), FakeClock(at(2026, 3, 14, 12, 0, 0))
    reservation = run(meter(memory, TokenBudget(daily=1000), clock=clock)[0].reserve(300))
    token_meter, recorder = meter(broken, TokenBudget(daily=1000), clock=clock)
    if action == "settle":
        usage = run(
            token_meter.settle(
                reservation, provider="gemini", model="gemini-2.5-pro", prompt_tokens=100, output_tokens=20
            )
        )
        assert usage == TokenUsage(100, 20, cost_micros=325)  # the answer is served and says what it cost
    else:
        run(token_meter.release(reservation))
    assert broken.calls == [action]
    [line] = recorder.logs()
    assert (line["level"], line["message"], line["action"], line["error"]) == (
        "ERROR",
        "billed usage not written",
        action,
        "TimeoutError",
    )
    assert line["tokens"] == (120 if action == "settle" else 300)
    assert recorder.metrics() == {MetricName.USAGE_WRITE_FAILED.value: 1}


# -- Meters -------------------------------------------------------------------------------------------


def test_meters_hold_a_records_budget_and_none_for_a_static_key():
    store, keys = MemoryUsageStore(), KeyResolver(MemoryKeyStore(), ttl_s=30)
    meters = Meters(store, keys, Prices(), Recorder().obs)
    record, _ = key_record(token_budget=TokenBudget(daily=100))
    assert run(meters.meter("3f2a9c0d1e2b3a4c", None).reserve(10**6)) is None
    with pytest.raises(BudgetExceededError):
        run(meters.meter(record.key_id, record).reserve(101))
    assert run(meters.meter(record.key_id, record).reserve(100)).subject == record.key_id


def test_meters_find_a_job_owners_record_only_for_a_record_id():
    key_store = MemoryKeyStore()
    record, _ = key_record()
    run(key_store.create(record))
    meters = Meters(MemoryUsageStore(), KeyResolver(key_store, ttl_s=30), Prices(), Recorder().obs)
    assert run(meters.record_of(record.key_id)) == record
    assert run(meters.record_of("3f2a9c0d1e2b3a4c")) is None  # a static key's hash has no record


# -- prices -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "input_usd", "output_usd"),
    [
        ("gemini-2.5-flash", 0.30, 2.50),
        ("gemini-2.5-flash-lite", 0.10, 0.40),
        ("gemini-2.5-pro", 1.25, 10.00),
    ],
)
def test_default_prices_are_usd_per_million_tokens(model, input_usd, output_usd):
    prices = Prices()
    assert prices.cost_micros("gemini", model, 1_000_000, 0) == round(input_usd * 1e6)
    assert prices.cost_micros("gemini", model, 0, 1_000_000) == round(output_usd * 1e6)
    assert prices.cost_micros("gemini", model, 2000, 500) == round(2000 * input_usd + 500 * output_usd)


def test_the_offline_provider_and_unknown_models_cost_nothing():
    prices = Prices()
    assert prices.cost_micros("local", "gemini-2.5-pro", 10**6, 10**6) == 0
    assert prices.cost_micros("local", "local", 10**6, 10**6) == 0
    assert prices.cost_micros("gemini", "gemini-9-ultra", 10**6, 10**6) == 0


def test_ai_model_prices_override_a_default_and_add_models():
    settings = SharedSettings(
        ai_model_prices='{"gemini-2.5-flash": {"input_per_million": 1, "output_per_million": 3},'
        ' "gemini-3-flash": {"input_per_million": 0.5, "output_per_million": 4}}'
    )
    prices = Prices(settings.ai_model_prices)
    assert prices.cost_micros("gemini", "gemini-2.5-flash", 1000, 1000) == 4000
    assert prices.cost_micros("gemini", "gemini-3-flash", 1000, 1000) == 4500
    assert prices.cost_micros("gemini", "gemini-2.5-pro", 1000, 1000) == 11_250  # defaults kept
    assert prices.cost_micros("local", "gemini-3-flash", 1000, 1000) == 0
    assert DEFAULT_PRICES["gemini-2.5-flash"]["input_per_million"] == 0.30  # the defaults are not changed


def test_no_ai_model_prices_means_the_defaults():
    assert SharedSettings(ai_model_prices="").ai_model_prices == {}
    assert Prices(SharedSettings().ai_model_prices).cost_micros("gemini", "gemini-2.5-flash", 10, 10) == 28


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"gemini-2.5-flash": {"input_per_million": 1}}',
        '{"gemini-2.5-flash": {"input_per_million": 1, "output_per_million": -1}}',
        '{"gemini-2.5-flash": {"input_per_million": 1, "output_per_million": 2, "cached": 0.1}}',
    ],
)
def test_ai_model_prices_that_are_not_a_price_table_fail_the_cold_start(value):
    with pytest.raises(ValidationError, match="ai_model_prices"):
        SharedSettings(ai_model_prices=value)
