"""Retries at the provider seam: which failures, how long to wait, when to stop (fake clocks, no sockets)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from types import SimpleNamespace

import pytest
from tenacity import RetryCallState

from textapi_shared.ai.provider import AIRequest, AIResponse, Operation
from textapi_shared.config import SharedSettings
from textapi_shared.errors import AIServiceError, AIUnavailableError, AIUnreachableError, ContentBlockedError
from textapi_shared.resilience.breaker_registry import BreakerRegistry
from textapi_shared.resilience.breaker_store import MemoryBreakerStore
from textapi_shared.resilience.circuit_breaker import CircuitOpenError
from textapi_shared.resilience.config_source import ResilienceConfigSource
from textapi_shared.resilience.resilient_provider import ResilientProvider
from textapi_shared.resilience.retry import UNREACHABLE_WAIT_SECONDS, upstream_retry_after, wait_for_strategy
from textapi_shared.resilience.strategies import STRATEGIES


class Clock:
    """Monotonic and wall clock in one; `sleep` advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


class ScriptedProvider:
    name = "scripted"
    model = "scripted-1"

    def __init__(self, clock: Clock, *outcomes: object, latency: float = 0.05) -> None:
        self.clock = clock
        self.outcomes = list(outcomes)
        self.requests: list[AIRequest] = []
        self.latency = latency

    async def generate(self, request: AIRequest) -> AIResponse:
        self.requests.append(request)
        self.clock.now += self.latency
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if isinstance(outcome, BaseException):
            raise outcome
        return AIResponse(text=str(outcome), provider=self.name, model=self.model)


class UpstreamResponse(Exception):
    """Stands in for a vendor error carrying the HTTP response (like google-genai's APIError)."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("upstream")
        self.response = SimpleNamespace(headers=headers)


def unavailable(status: int = 503, header: str | None = None) -> AIUnavailableError:
    error = AIUnavailableError(retry_after=5, details={"upstream_status": status})
    if header is not None:
        error.__cause__ = UpstreamResponse({"retry-after": header})
    return error


def request(
    operation: str = "summarize", deadline_at: float | None = None, timeout_s: float = 25.0
) -> AIRequest:
    return AIRequest(
        operation=Operation(operation),
        system_instruction="system",
        prompt="prompt",
        text="text",
        timeout_s=timeout_s,
        deadline_at=deadline_at,
    )


def resilient(clock: Clock, provider: ScriptedProvider, **custom: object) -> ResilientProvider:
    custom = {"default_strategy": "aggressive", "jitter_enabled": False, **custom}
    settings = SharedSettings(resilience_custom_config=json.dumps(custom))
    breakers = BreakerRegistry(MemoryBreakerStore(), clock=clock)
    return ResilientProvider(
        provider,
        config=ResilienceConfigSource(settings),
        breakers=breakers,
        sleep=clock.sleep,
        monotonic=clock,
    )


def outcome(coro):
    try:
        return asyncio.run(coro)
    except Exception as exc:
        return exc


def state_after(attempt: int, error: BaseException) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("aggressive", [1, 1, 2, 4, 5, 5]),
        ("balanced", [2, 2, 4, 8, 10, 10]),
        ("critical", [3, 3, 6, 12, 24, 48]),
    ],
)
def test_backoff_is_exponential_within_min_and_max(strategy, expected):
    wait = wait_for_strategy(replace(STRATEGIES[strategy], jitter_enabled=False))
    assert [wait(state_after(n, unavailable())) for n in range(1, 7)] == expected


def test_jitter_adds_up_to_jitter_max():
    wait = wait_for_strategy(STRATEGIES["balanced"], rand=lambda low, high: high)
    assert wait(state_after(1, unavailable())) == 2 + STRATEGIES["balanced"].jitter_max


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_a_refused_connection_waits_a_quarter_second_at_most_whatever_the_strategy(strategy):
    unreachable = AIUnreachableError(retry_after=2)
    steady = wait_for_strategy(replace(STRATEGIES[strategy], jitter_enabled=False))
    jittered = wait_for_strategy(STRATEGIES[strategy], rand=lambda low, high: high)
    for attempt in range(1, 6):
        assert steady(state_after(attempt, unreachable)) == UNREACHABLE_WAIT_SECONDS == 0.25
        assert jittered(state_after(attempt, unreachable)) == UNREACHABLE_WAIT_SECONDS


def test_refused_connections_are_retried_with_short_waits_to_the_last_attempt():
    clock = Clock()
    last = AIUnreachableError()
    provider = ScriptedProvider(clock, AIUnreachableError(), AIUnreachableError(), last, latency=0.001)
    wrapped = resilient(clock, provider, retry_attempts=3, circuit_breaker_threshold=10)
    assert outcome(wrapped.generate(request())) is last
    assert clock.sleeps == [0.25, 0.25]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (unavailable(429, "3"), 3.0),
        (unavailable(503, "1.5"), 1.5),
        (AIUnavailableError(retry_after=7, details={"upstream_status": 429}), 7.0),
        (
            AIUnavailableError(retry_after=5, details={"upstream_status": 503}),
            None,
        ),  # a default, not a header
        (AIUnavailableError("timeout", retry_after=2), None),
        (unavailable(503, "soon"), None),
    ],
)
def test_upstream_retry_after(error, expected):
    assert upstream_retry_after(error) == expected


def test_retry_after_is_honoured_up_to_the_strategys_maximum():
    wait = wait_for_strategy(replace(STRATEGIES["aggressive"], jitter_enabled=False))
    assert wait(state_after(1, unavailable(429, "3"))) == 3
    assert wait(state_after(1, unavailable(429, "60"))) == STRATEGIES["aggressive"].exponential_max


def test_transient_failures_are_retried_up_to_the_attempts_of_the_policy():
    clock = Clock()
    provider = ScriptedProvider(clock, unavailable(), unavailable(), "third time lucky")
    answer = asyncio.run(resilient(clock, provider, retry_attempts=3).generate(request()))
    assert answer.text == "third time lucky"
    assert len(provider.requests) == 3
    assert clock.sleeps == [1, 1]


def test_retries_stop_after_the_last_attempt_with_the_last_error():
    clock = Clock()
    last = unavailable(504)
    provider = ScriptedProvider(clock, unavailable(), unavailable(), last)
    wrapped = resilient(clock, provider, retry_attempts=3, circuit_breaker_threshold=10)
    assert outcome(wrapped.generate(request())) is last
    assert wrapped._breakers.get("summarize").totals["retries"] == 2


@pytest.mark.parametrize(
    "permanent",
    [AIServiceError(details={"upstream_status": 400}), ContentBlockedError()],
    ids=["400", "blocked"],
)
def test_permanent_errors_are_not_retried(permanent):
    clock = Clock()
    provider = ScriptedProvider(clock, permanent)
    assert outcome(resilient(clock, provider, retry_attempts=5).generate(request())) is permanent
    assert len(provider.requests) == 1
    assert clock.sleeps == []


def test_a_429_waits_as_long_as_the_upstream_asks():
    clock = Clock()
    provider = ScriptedProvider(clock, unavailable(429, "4"), "ok")
    asyncio.run(resilient(clock, provider, retry_attempts=2).generate(request()))
    assert clock.sleeps == [4]


def test_no_retry_starts_past_the_deadline_and_each_attempt_gets_the_time_left():
    clock = Clock()
    provider = ScriptedProvider(clock, *[unavailable()] * 5)
    wrapped = resilient(clock, provider, retry_attempts=5, circuit_breaker_threshold=10)
    error = outcome(wrapped.generate(request(deadline_at=clock.now + 2.2, timeout_s=2.2)))
    assert isinstance(error, AIUnavailableError)
    # attempt 1 at 0 s, wait 1, attempt 2 at 1.05 s, wait 1: attempt 3 would start at 2.1 s, < 0.2 s left
    assert len(provider.requests) == 2
    assert provider.requests[1].timeout_s == pytest.approx(2.2 - 1.05)
    assert clock.now < 1000 + 2.2


def test_no_retry_starts_after_the_strategys_total_delay():
    clock = Clock()
    provider = ScriptedProvider(clock, *[unavailable()] * 10, latency=2.0)
    wrapped = resilient(clock, provider, retry_attempts=10, max_delay_seconds=6, circuit_breaker_threshold=20)
    outcome(wrapped.generate(request()))
    # starts at 0, 3 (2 + wait 1), 6 would be the third: not before 6 s
    assert len(provider.requests) == 2


def test_an_opening_breaker_ends_the_retries_at_once():
    clock = Clock()
    provider = ScriptedProvider(clock, *[unavailable()] * 5)
    wrapped = resilient(clock, provider, retry_attempts=5, circuit_breaker_threshold=2)
    assert isinstance(outcome(wrapped.generate(request())), AIUnavailableError)
    assert len(provider.requests) == 2
    assert clock.sleeps == [1]
    rejected = outcome(wrapped.generate(request()))
    assert isinstance(rejected, CircuitOpenError)
    assert len(provider.requests) == 2


def test_each_operation_gets_its_own_policy_and_breaker():
    clock = Clock()
    provider = ScriptedProvider(clock, *[unavailable()] * 10)
    wrapped = resilient(
        clock,
        provider,
        retry_attempts=1,
        circuit_breaker_threshold=2,
        operation_overrides={"qa": "aggressive"},
    )
    for _ in range(2):
        outcome(wrapped.generate(request("summarize")))
    assert isinstance(outcome(wrapped.generate(request("summarize"))), CircuitOpenError)
    sent = len(provider.requests)
    outcome(wrapped.generate(request("qa")))  # aggressive: 2 attempts, its own closed breaker
    assert len(provider.requests) == sent + 2
    assert (wrapped.name, wrapped.model) == ("scripted", "scripted-1")
