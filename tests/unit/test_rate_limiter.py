"""The rate limiter's budget in quarters of a request, and the refusal of what it can never afford."""

from __future__ import annotations

import asyncio

import pytest

from fakes.clock import FakeClock
from textapi_shared.counters import MemoryCounterStore
from textapi_shared.errors import OverBudgetError, RateLimitExceededError
from textapi_shared.security.rate_limiter import INVALID_REQUEST_COST, RateLimiter


def run(coroutine):
    return asyncio.new_event_loop().run_until_complete(coroutine)


def test_invalid_requests_cost_a_quarter_and_headers_count_whole_requests():
    limiter = RateLimiter(MemoryCounterStore(), per_minute=2, clock=FakeClock(1_000.0))
    remaining = [run(limiter.consume("k", INVALID_REQUEST_COST)).remaining for _ in range(4)]
    assert remaining == [1, 1, 1, 1]
    assert run(limiter.consume("k")).remaining == 0
    with pytest.raises(RateLimitExceededError):
        run(limiter.consume("k", INVALID_REQUEST_COST))


def test_a_call_costing_more_than_the_whole_budget_is_refused_before_charging():
    store = MemoryCounterStore()
    limiter = RateLimiter(store, per_minute=30, clock=FakeClock(1_000.0))
    with pytest.raises(OverBudgetError) as refused:
        limiter.check_affordable(31, subject="k", what="A batch of 31", field="requests")
    assert refused.value.status_code == 422
    assert refused.value.details["errors"][0]["field"] == "requests"
    limiter.check_affordable(30, subject="k", what="A batch of 30", field="requests")
    assert run(limiter.consume("k", 30)).remaining == 0
