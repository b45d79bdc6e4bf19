"""The rate limiter: a sliding one-minute window in quarters of a request, per-key limits, headers, the
refusal of what it can never afford, and a charge settled with the request's counters."""

from __future__ import annotations

import asyncio

import pytest

from fakes.clock import FakeClock
from textapi_shared.errors import OverBudgetError, RateLimitExceededError
from textapi_shared.fleet.counters import CounterBatch
from textapi_shared.fleet.memory_state import MemoryFleetState
from textapi_shared.security.rate_limiter import INVALID_REQUEST_COST, RateLimiter


def run(coroutine):
    return asyncio.new_event_loop().run_until_complete(coroutine)


def test_invalid_requests_cost_a_quarter_and_headers_count_whole_requests():
    limiter = RateLimiter(MemoryFleetState(), per_minute=2, clock=FakeClock(1_000.0))
    remaining = [run(limiter.consume("k", INVALID_REQUEST_COST)).remaining for _ in range(4)]
    assert remaining == [1, 1, 1, 1]
    assert run(limiter.consume("k")).remaining == 0
    with pytest.raises(RateLimitExceededError):
        run(limiter.consume("k", INVALID_REQUEST_COST))


def test_a_call_costing_more_than_the_whole_budget_is_refused_before_charging():
    store = MemoryFleetState()
    limiter = RateLimiter(store, per_minute=30, clock=FakeClock(1_000.0))
    with pytest.raises(OverBudgetError) as refused:
        limiter.charge("k").check_affordable(31, what="A batch of 31", field="requests")
    assert refused.value.status_code == 422
    assert refused.value.details["errors"][0]["field"] == "requests"
    limiter.charge("k").check_affordable(30, what="A batch of 30", field="requests")
    assert run(limiter.consume("k", 30)).remaining == 0


def test_no_burst_across_the_minute_the_budget_comes_back_a_minute_after_each_spend():
    clock = FakeClock(1_000.0)  # 1,000 s: 40 s into a clock minute, where a fixed window would reset at 20
    limiter = RateLimiter(MemoryFleetState(), per_minute=3, clock=clock)
    for _ in range(3):
        run(limiter.consume("k"))
        clock.advance(10)  # spends at 1,000, 1,010, 1,020
    clock.now = 1_021.0  # past the clock minute: a fixed window would start again here
    with pytest.raises(RateLimitExceededError) as refused:
        run(limiter.consume("k"))
    headers = refused.value.headers
    assert headers["Retry-After"] == "39"  # the spend at 1,000 leaves at 1,060
    assert (headers["X-RateLimit-Remaining"], headers["X-RateLimit-Reset"]) == ("0", "39")
    clock.now = 1_060.0
    state = run(limiter.consume("k"))
    assert (state.remaining, state.reset_s) == (0, 10)  # next back: the spend at 1,010, at 1,070


def test_a_refused_request_spends_nothing():
    clock = FakeClock(1_000.0)
    limiter = RateLimiter(MemoryFleetState(), per_minute=1, clock=clock)
    run(limiter.consume("k"))
    for _ in range(50):  # hammering while refused does not push the time it comes back
        clock.advance(1)
        with pytest.raises(RateLimitExceededError):
            run(limiter.consume("k"))
    clock.now = 1_060.0
    assert run(limiter.consume("k")).remaining == 0


def test_overrides_give_a_key_its_own_limit_by_the_longest_matching_hash_prefix():
    limiter = RateLimiter(
        MemoryFleetState(), per_minute=2, overrides={"ab": 5, "abcd": 7}, clock=FakeClock(1_000.0)
    )
    assert [limiter.limit_for(s) for s in ("abcdef", "ab12", "ff00", "open:ab")] == [7, 5, 2, 2]
    states = [run(limiter.consume("ab99")) for _ in range(5)]
    assert [s.limit for s in states] == [5] * 5
    assert states[-1].remaining == 0
    with pytest.raises(RateLimitExceededError) as refused:
        run(limiter.consume("ab99"))
    assert refused.value.headers["X-RateLimit-Limit"] == "5"
    assert run(limiter.consume("ff00")).limit == 2  # everyone else keeps the default
    with pytest.raises(OverBudgetError):
        limiter.charge("ff00").check_affordable(3, what="A batch of 3", field="requests")
    limiter.charge("abcd01").check_affordable(7, what="A batch of 7", field="requests")


def test_a_charge_settled_with_counters_adds_them_only_when_admitted():
    store = MemoryFleetState()
    limiter = RateLimiter(store, per_minute=1, clock=FakeClock(1_000.0))
    first, counts = limiter.charge("k"), CounterBatch(store)
    counts.add("hits", 1, 60)
    assert run(first.settle(counts)).remaining == 0
    assert first.state.headers()["X-RateLimit-Remaining"] == "0"
    second, more = limiter.charge("k"), CounterBatch(store)
    more.add("hits", 1, 60)
    with pytest.raises(RateLimitExceededError):
        run(second.settle(more))
    assert run(store.read_counters(["hits"])) == {"hits": 1}  # the refused request's are dropped


def test_a_charge_spent_up_front_then_settled_writes_the_counters_once_and_charges_once():
    store = MemoryFleetState()
    limiter = RateLimiter(store, per_minute=2, clock=FakeClock(1_000.0))
    charge, counts = limiter.charge("k"), CounterBatch(store)
    assert run(charge.spend()).remaining == 1
    counts.add("misses", 1, 60)
    assert run(charge.settle(counts)).remaining == 1  # not charged again
    assert run(store.read_counters(["misses"])) == {"misses": 1}
