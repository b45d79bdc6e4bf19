"""The circuit-breaker state machine on the in-memory store with an injected clock (no sockets)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from fakes.clock import FakeClock
from textapi_shared.errors import (
    AIInvalidOutputError,
    AIServiceError,
    AIUnavailableError,
    ContentBlockedError,
    InputValidationError,
    NotFoundError,
    ServiceUnavailableError,
)
from textapi_shared.resilience.breaker_registry import BreakerRegistry
from textapi_shared.resilience.breaker_store import MemoryBreakerStore
from textapi_shared.resilience.circuit_breaker import BreakerState, CircuitOpenError
from textapi_shared.resilience.events import ResilienceEvents
from textapi_shared.resilience.strategies import STRATEGIES

POLICY = replace(STRATEGIES["balanced"], failure_threshold=3, recovery_timeout=30)


class RecordingEvents(ResilienceEvents):
    def __init__(self) -> None:
        super().__init__()
        self.transitions: list[tuple[str, str, str]] = []
        self.adopted: list[tuple[str, str]] = []
        self.store_errors: list[str] = []

    def breaker_transition(self, operation, old, new, **fields):
        self.transitions.append((operation, old, new))

    def breaker_adopted(self, operation, new, **fields):
        self.adopted.append((operation, new))

    def store_error(self, action, exc, cooldown_s):
        self.store_errors.append(action)


class Upstream:
    """Answers with the queued outcomes (an exception instance is raised), then "ok"."""

    def __init__(self) -> None:
        self.calls = 0
        self.outcomes: list[object] = []

    async def __call__(self) -> str:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if isinstance(outcome, BaseException):
            raise outcome
        return str(outcome)


def transient() -> AIUnavailableError:
    return AIUnavailableError(retry_after=5, details={"upstream_status": 503})


@pytest.fixture
def clock():
    return FakeClock(1_800_000_000.0)


@pytest.fixture
def events():
    return RecordingEvents()


@pytest.fixture
def registry(clock, events):
    return BreakerRegistry(MemoryBreakerStore(), events=events, clock=clock, sync_interval=1.0)


def run(coro):
    return asyncio.run(coro)


async def outcome_of(breaker, upstream, policy=POLICY):
    try:
        return await breaker.call(upstream, policy)
    except Exception as exc:
        return exc


def test_threshold_counted_failures_open_the_breaker_which_then_answers_at_once(registry, clock, events):
    breaker, upstream = registry.get("summarize"), Upstream()
    upstream.outcomes = [transient(), transient(), transient()]

    async def scenario():
        results = [await outcome_of(breaker, upstream) for _ in range(3)]
        assert all(isinstance(r, AIUnavailableError) for r in results)
        assert breaker.state is BreakerState.OPEN
        clock.advance(10)
        return await outcome_of(breaker, upstream)

    rejected = run(scenario())
    assert upstream.calls == 3
    assert isinstance(rejected, CircuitOpenError)
    assert isinstance(rejected, AIUnavailableError)
    assert rejected.status_code == 503
    assert rejected.headers["Retry-After"] == "20"
    assert rejected.details == {"circuit_breaker": "open", "operation": "summarize"}
    assert events.transitions == [("summarize", "closed", "open")]
    assert breaker.totals["rejections"] == 1
    assert breaker.totals["opens"] == 1


@pytest.mark.parametrize(
    "permanent",
    [
        AIServiceError(details={"upstream_status": 400}),
        ContentBlockedError(),
        AIInvalidOutputError(),
        InputValidationError(),
        ValueError("a bug"),
    ],
    ids=["ai-service", "blocked", "invalid-output", "client", "bug"],
)
def test_permanent_and_client_errors_do_not_count(registry, permanent):
    breaker, upstream = registry.get("qa"), Upstream()
    upstream.outcomes = [transient(), transient(), *[permanent] * 5, transient()]

    async def scenario():
        return [await outcome_of(breaker, upstream) for _ in range(7)]

    results = run(scenario())
    assert results[2] is permanent
    assert breaker.state is BreakerState.CLOSED
    assert breaker.totals["ignored_errors"] == 5
    run(outcome_of(breaker, upstream))
    assert breaker.state is BreakerState.OPEN  # the third counted failure


def test_a_success_resets_the_count(registry):
    breaker, upstream = registry.get("summarize"), Upstream()
    upstream.outcomes = [transient(), transient(), "ok", transient(), transient()]

    async def scenario():
        for _ in range(5):
            await outcome_of(breaker, upstream)

    run(scenario())
    assert breaker.state is BreakerState.CLOSED
    assert breaker.status(POLICY)["failure_count"] == 2


def open_breaker(breaker, upstream):
    upstream.outcomes = [transient()] * POLICY.failure_threshold

    async def scenario():
        for _ in range(POLICY.failure_threshold):
            await outcome_of(breaker, upstream)

    run(scenario())
    assert breaker.state is BreakerState.OPEN


def test_after_the_recovery_timeout_one_probe_goes_through_and_a_success_closes(registry, clock, events):
    breaker, upstream = registry.get("summarize"), Upstream()
    open_breaker(breaker, upstream)
    clock.advance(POLICY.recovery_timeout)
    assert breaker.state is BreakerState.HALF_OPEN
    release = asyncio.Event()

    async def slow_success():
        upstream.calls += 1
        await release.wait()
        return "ok"

    async def scenario():
        probe = asyncio.ensure_future(breaker.call(slow_success, POLICY))
        await asyncio.sleep(0)
        concurrent = await outcome_of(breaker, upstream)  # while the probe is in flight
        release.set()
        return await probe, concurrent

    probe_result, concurrent = run(scenario())
    assert probe_result == "ok"
    assert isinstance(concurrent, CircuitOpenError)
    assert concurrent.details["circuit_breaker"] == "half_open"
    assert upstream.calls == 4  # three failures and the one probe
    assert breaker.state is BreakerState.CLOSED
    assert events.transitions[-2:] == [
        ("summarize", "open", "half_open"),
        ("summarize", "half_open", "closed"),
    ]


def test_a_failed_probe_opens_the_breaker_again_for_a_full_recovery_timeout(registry, clock, events):
    breaker, upstream = registry.get("summarize"), Upstream()
    open_breaker(breaker, upstream)
    clock.advance(POLICY.recovery_timeout + 5)
    upstream.outcomes = [transient()]
    assert isinstance(run(outcome_of(breaker, upstream)), AIUnavailableError)
    assert breaker.state is BreakerState.OPEN
    rejected = run(outcome_of(breaker, upstream))
    assert rejected.headers["Retry-After"] == str(int(POLICY.recovery_timeout))
    assert events.transitions[-1] == ("summarize", "half_open", "open")


def test_a_probe_ending_in_a_permanent_error_lets_the_next_call_probe(registry, clock):
    breaker, upstream = registry.get("summarize"), Upstream()
    open_breaker(breaker, upstream)
    clock.advance(POLICY.recovery_timeout)
    upstream.outcomes = [AIServiceError()]
    assert isinstance(run(outcome_of(breaker, upstream)), AIServiceError)
    assert breaker.state is BreakerState.HALF_OPEN
    assert run(outcome_of(breaker, upstream)) == "ok"
    assert breaker.state is BreakerState.CLOSED


def test_reset_closes_an_open_breaker(registry, events):
    breaker, upstream = registry.get("sentiment"), Upstream()
    open_breaker(breaker, upstream)
    run(breaker.reset())
    assert breaker.state is BreakerState.CLOSED
    assert run(outcome_of(breaker, upstream)) == "ok"
    assert events.transitions[-1] == ("sentiment", "open", "closed")


def test_unknown_breaker_names_are_not_found(registry):
    with pytest.raises(NotFoundError):
        registry.require("translate")
    assert registry.names == ("summarize", "sentiment", "key_points", "questions", "qa")


def test_instances_sharing_a_store_see_each_others_open_breaker(clock, events):
    store = MemoryBreakerStore()
    first = BreakerRegistry(store, events=events, clock=clock, sync_interval=1.0)
    second = BreakerRegistry(store, events=RecordingEvents(), clock=clock, sync_interval=1.0)
    a, b, upstream = first.get("qa"), second.get("qa"), Upstream()
    assert run(outcome_of(b, upstream)) == "ok"  # b synced (closed) and is healthy
    open_breaker(a, upstream)
    clock.advance(1.0)  # b's next call is due for a sync
    calls = upstream.calls
    rejected = run(outcome_of(b, upstream))
    assert isinstance(rejected, CircuitOpenError)
    assert upstream.calls == calls
    assert second.events.adopted == [("qa", "open")]
    clock.advance(POLICY.recovery_timeout)
    assert run(outcome_of(b, upstream)) == "ok"  # b wins the probe for the whole fleet
    assert run(outcome_of(a, upstream)) == "ok"  # a learns from the store that it is closed
    assert a.state is BreakerState.CLOSED
    assert events.transitions.count(("qa", "closed", "open")) == 1


def test_a_reset_through_another_instance_reaches_an_open_breaker_at_its_next_sync(clock, events):
    store = MemoryBreakerStore()
    first = BreakerRegistry(store, events=events, clock=clock, sync_interval=1.0)
    operator = BreakerRegistry(store, events=RecordingEvents(), clock=clock, sync_interval=1.0)
    a, upstream = first.get("qa"), Upstream()
    open_breaker(a, upstream)
    run(operator.get("qa").reset())
    assert isinstance(run(outcome_of(a, upstream)), CircuitOpenError)  # not yet due for a sync
    clock.advance(1.0)  # well within the recovery timeout
    assert run(outcome_of(a, upstream)) == "ok"
    assert a.state is BreakerState.CLOSED
    assert events.adopted[-1] == ("qa", "closed")


def test_failures_add_up_across_instances(clock):
    store = MemoryBreakerStore()
    a = BreakerRegistry(store, clock=clock).get("qa")
    b = BreakerRegistry(store, clock=clock).get("qa")
    upstream = Upstream()
    upstream.outcomes = [transient()] * 3

    async def scenario():
        await outcome_of(a, upstream)
        await outcome_of(b, upstream)
        await outcome_of(a, upstream)

    run(scenario())
    assert a.state is BreakerState.OPEN
    clock.advance(1.0)
    assert run(outcome_of(b, upstream)).details["circuit_breaker"] == "open"


class BrokenStore(MemoryBreakerStore):
    shared = True

    async def add_failure(self, name, **kwargs):
        raise ConnectionError("store down")

    async def open(self, name, **kwargs):
        raise ConnectionError("store down")

    async def sync(self, name, stats):
        raise ConnectionError("store down")


def test_a_failing_store_degrades_to_a_per_instance_breaker(clock, events):
    registry = BreakerRegistry(BrokenStore(), events=events, clock=clock, store_cooldown=60)
    breaker, upstream = registry.get("summarize"), Upstream()
    open_breaker(breaker, upstream)
    assert len(events.store_errors) == 1  # then the cooldown: no more attempts, no more waiting
    assert isinstance(run(outcome_of(breaker, upstream)), CircuitOpenError)
    clock.advance(POLICY.recovery_timeout)
    assert run(outcome_of(breaker, upstream)) == "ok"
    assert breaker.state is BreakerState.CLOSED


class UnreachableStore(MemoryBreakerStore):
    shared = True

    async def close(self, name):
        raise ConnectionError("store down")

    async def reset_stats(self, names):
        raise ConnectionError("store down")


def test_a_reset_the_store_did_not_take_is_a_503_and_changes_nothing(clock, events):
    registry = BreakerRegistry(UnreachableStore(), events=events, clock=clock, store_cooldown=7)
    breaker, upstream = registry.get("summarize"), Upstream()
    open_breaker(breaker, upstream)
    breaker.totals["calls"] = 9
    for attempt in (breaker.reset, registry.reset_stats):
        with pytest.raises(ServiceUnavailableError) as raised:
            run(attempt())
        assert raised.value.headers["Retry-After"] == "7"
        assert "not reset" in raised.value.message
    assert breaker.state is BreakerState.OPEN
    assert breaker.totals["calls"] == 9
    assert events.store_errors == ["close", "reset_stats"]  # tried although the store was cooling down


def test_statistics_are_flushed_to_the_store(registry, clock):
    breaker, upstream = registry.get("key_points"), Upstream()
    upstream.outcomes = [transient(), AIServiceError()]

    async def scenario():
        for _ in range(3):
            await outcome_of(breaker, upstream)
        breaker.count_retry()
        return await registry.fleet_stats()

    stats = run(scenario())["key_points"]
    assert stats == {
        "calls": 3,
        "successes": 1,
        "failures": 1,
        "ignored_errors": 1,
        "rejections": 0,
        "retries": 1,
        "opens": 0,
    }
    run(registry.reset_stats())
    assert run(registry.fleet_stats())["key_points"]["calls"] == 0
