"""The provider seam with resilience: the effective policy of each operation, its circuit breakers,
fallback models and retries, around any `AIProvider`.

An attempt asks the models in order (`AI_MODEL`, then `AI_FALLBACK_MODELS`): a transient failure (429,
5xx, a timeout, a transport error) or an open breaker sends it on to the next model at once, as AI
gateways do; a permanent error (a rejected or blocked request) ends it, since another model would refuse
it too. Each model has its own breaker per operation (`operation@model`; plain `operation` with one
model), so each transient failure counts against the model that failed. When every model failed, the
retry policy waits and runs the chain again; an open breaker on every model stops the retries at once.
Each attempt's timeout is cut to the time left before the request's deadline (`AIRequest.deadline_at`,
monotonic, already net of the response reserve).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from textapi_shared.errors import AIUnavailableError
from textapi_shared.resilience.breaker_registry import breaker_name
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
    """An `AIProvider` that applies the configuration in force to every call of the one it wraps.

    `models`: the models to try in order (the wrapped provider's own first); empty or one: no fallback.
    """

    def __init__(
        self,
        provider: AIProvider,
        *,
        config: ResilienceConfigSource,
        breakers: BreakerRegistry,
        events: ResilienceEvents | None = None,
        models: tuple[str, ...] = (),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._provider = provider
        self._config = config
        self._breakers = breakers
        self._events = events or breakers.events
        self._models = models if len(models) > 1 else (provider.model,)
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

    @property
    def models(self) -> tuple[str, ...]:
        return self._models

    def _chain(self, operation: str) -> list[tuple[str, CircuitBreaker]]:
        chained = len(self._models) > 1
        return [(m, self._breakers.get(breaker_name(operation, m, chained))) for m in self._models]

    def current_model(self, operation: str) -> str:
        """The model a call for `operation` would ask first: the first whose breaker is not open (so a
        cache read can look for that model's answer); the primary when every breaker is open."""
        if len(self._models) > 1:
            for model, breaker in self._chain(operation):
                if breaker.state is not BreakerState.OPEN:
                    return model
        return self._models[0]

    async def generate(self, request: AIRequest) -> AIResponse:
        config = await self._config.get()
        operation = str(request.operation)
        policy = config.policy_for(operation)
        chain = self._chain(operation)
        attempt = self._attempt_fn(request, chain, policy)
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
            before_sleep=lambda state: self._before_sleep(operation, chain, state),
            clock=self._monotonic,
            give_up=lambda: all(breaker.state is not BreakerState.CLOSED for _, breaker in chain),
        )
        async for try_ in retrying:
            with try_:
                return await replay_then_attempt()
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _attempt_fn(
        self, request: AIRequest, chain: list[tuple[str, CircuitBreaker]], policy: Strategy
    ) -> Callable[[], Awaitable[AIResponse]]:
        deadline_at = request.deadline_at
        operation = str(request.operation)
        chained = len(chain) > 1

        async def ask(model: str, breaker: CircuitBreaker) -> AIResponse:
            current = replace(request, model=model) if chained else request
            if deadline_at is not None:
                left = deadline_at - self._monotonic()
                if left < request.timeout_s:
                    current = replace(current, timeout_s=max(0.001, left))
            return await breaker.call(lambda: self._provider.generate(current), policy)

        async def attempt() -> AIResponse:
            for index, (model, breaker) in enumerate(chain):
                try:
                    return await ask(model, breaker)
                except AIUnavailableError as exc:  # transient, or this model's breaker is open
                    if index == len(chain) - 1:
                        raise
                    self._events.model_fallback(operation, model, chain[index + 1][0], exc)
            raise AssertionError("unreachable: the chain is never empty")

        return attempt

    def _before_sleep(
        self, operation: str, chain: list[tuple[str, CircuitBreaker]], state: RetryCallState
    ) -> None:
        chain[0][1].count_retry()
        error = state.outcome.exception() if state.outcome is not None else None
        self._events.retry(operation, state.attempt_number + 1, state.upcoming_sleep or 0.0, error)
