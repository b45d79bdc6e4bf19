"""The provider seam with resilience: the effective policy of each operation, its circuit breaker, and
retries, around any `AIProvider`.

Every attempt passes through the operation's breaker, so each transient failure counts and an open
breaker stops the retries at once. Each attempt's timeout is cut to the time left before the
request's deadline (`AIRequest.deadline_at`, monotonic, already net of the response reserve).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from textapi_shared.resilience.circuit_breaker import BreakerState, counts_as_failure

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tenacity import RetryCallState

    from textapi_shared.ai.provider import AIProvider, AIRequest, AIResponse
    from textapi_shared.resilience.breaker_registry import BreakerRegistry
    from textapi_shared.resilience.circuit_breaker import CircuitBreaker
    from textapi_shared.resilience.config_source import ResilienceConfigSource
    from textapi_shared.resilience.events import ResilienceEvents
    from textapi_shared.resilience.strategies import Strategy


class ResilientProvider:
    """An `AIProvider` that applies the configuration in force to every call of the one it wraps."""

    def __init__(
        self,
        provider: AIProvider,
        *,
        config: ResilienceConfigSource,
        breakers: BreakerRegistry,
        events: ResilienceEvents | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._provider = provider
        self._config = config
        self._breakers = breakers
        self._events = events or breakers.events
        self._sleep = sleep
        self._monotonic = monotonic

    @property
    def name(self) -> str:
        return self._provider.name

    @property
    def model(self) -> str:
        return self._provider.model

    @property
    def inner(self) -> AIProvider:
        return self._provider

    async def generate(self, request: AIRequest) -> AIResponse:
        config = await self._config.get()
        operation = str(request.operation)
        policy = config.policy_for(operation)
        breaker = self._breakers.get(operation)
        attempt = self._attempt_fn(request, breaker, policy)
        started = self._monotonic()
        try:
            # The first attempt runs outside tenacity: a healthy call pays for no retry machinery.
            return await attempt()
        except BaseException as exc:
            if policy.max_attempts <= 1 or not counts_as_failure(exc):
                raise
            replay: list[BaseException] = [exc]
        from textapi_shared.resilience.retry import retrying_for  # tenacity loads on the first retry

        async def replay_then_attempt() -> AIResponse:
            if replay:  # tenacity's attempt 1 is the one that already failed: re-raise its error
                raise replay.pop()
            return await attempt()

        retrying = retrying_for(
            policy,
            started_at=started,
            deadline_at=request.deadline_at,
            sleep=self._sleep,
            before_sleep=lambda state: self._before_sleep(operation, breaker, state),
            clock=self._monotonic,
            give_up=lambda: breaker.state is not BreakerState.CLOSED,
        )
        async for try_ in retrying:
            with try_:
                return await replay_then_attempt()
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _attempt_fn(
        self, request: AIRequest, breaker: CircuitBreaker, policy: Strategy
    ) -> Callable[[], Awaitable[AIResponse]]:
        deadline_at = request.deadline_at

        async def attempt() -> AIResponse:
            current = request
            if deadline_at is not None:
                left = deadline_at - self._monotonic()
                if left < request.timeout_s:
                    current = replace(request, timeout_s=max(0.001, left))
            return await breaker.call(lambda: self._provider.generate(current), policy)

        return attempt

    def _before_sleep(self, operation: str, breaker: CircuitBreaker, state: RetryCallState) -> None:
        breaker.count_retry()
        error = state.outcome.exception() if state.outcome is not None else None
        self._events.retry(operation, state.attempt_number + 1, state.upcoming_sleep or 0.0, error)
