"""Retries with tenacity: transient failures only, exponential backoff with jitter, `Retry-After`
honoured up to the strategy's maximum, and never past the invocation's deadline.

Transient failures reach this seam already classified as `AIUnavailableError` (429, 5xx, timeouts,
transport errors). A `CircuitOpenError` is not retried: the breaker has just said no.
"""

from __future__ import annotations

import math
import random
import time
from typing import TYPE_CHECKING, Any

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from textapi_shared.errors import AIUnreachableError
from textapi_shared.resilience.circuit_breaker import counts_as_failure

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tenacity import RetryCallState

    from textapi_shared.resilience.strategies import Strategy

# The least time an attempt needs to be worth starting before the deadline.
MIN_ATTEMPT_SECONDS = 0.2
# The longest wait after a refused connection. A refusal comes back at once: nothing listens there (an
# endpoint restarting, a route or firewall that says no). The strategies' backoff is sized for an
# overloaded upstream (seconds) and would hold the caller for as long with nothing likely to change;
# a short jittered wait still rides out a restart, and the breaker counts every failure.
UNREACHABLE_WAIT_SECONDS = 0.25


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def upstream_retry_after(exc: BaseException | None) -> float | None:
    """Seconds the upstream asked to wait: the `Retry-After` header of the response behind `exc`, or
    for a 429 the value the provider put on the error. None when the upstream did not say (the
    provider's default `Retry-After` is a hint for API clients, not an upstream instruction)."""
    if exc is None:
        return None
    response = getattr(exc.__cause__, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None and hasattr(headers, "get"):
        found = _seconds(headers.get("retry-after") or headers.get("Retry-After"))
        if found is not None:
            return found
    details = getattr(exc, "details", None) or {}
    if details.get("upstream_status") == 429:
        return _seconds((getattr(exc, "headers", None) or {}).get("Retry-After"))
    return None


class wait_for_strategy(wait_base):
    """Exponential backoff clamped to [min, max], raised to the upstream's `Retry-After` (itself capped
    at max), plus uniform jitter in [0, jitter_max] when enabled; after a refused connection at most
    `UNREACHABLE_WAIT_SECONDS`."""

    def __init__(self, policy: Strategy, *, rand: Callable[[float, float], float] = random.uniform) -> None:
        self._policy = policy
        self._rand = rand

    def __call__(self, retry_state: RetryCallState) -> float:
        p = self._policy
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, AIUnreachableError):
            return self._rand(0, UNREACHABLE_WAIT_SECONDS) if p.jitter_enabled else UNREACHABLE_WAIT_SECONDS
        delay = p.exponential_multiplier * 2 ** (retry_state.attempt_number - 1)
        delay = min(max(delay, p.exponential_min), p.exponential_max)
        hinted = upstream_retry_after(error)
        if hinted is not None:
            delay = max(delay, min(hinted, p.exponential_max))
        if p.jitter_enabled:
            delay += self._rand(0, p.jitter_max)
        return delay


class stop_before_limits(stop_base):
    """Stop when the next attempt would start `max_delay_s` or more after the first one started, or
    could not start at least `min_attempt_s` before the deadline (None: no deadline), or when
    `give_up()` says so (the breaker has just opened: no point in waiting to be refused)."""

    def __init__(
        self,
        *,
        started_at: float,
        max_delay_s: float,
        deadline_at: float | None,
        min_attempt_s: float = MIN_ATTEMPT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        give_up: Callable[[], bool] | None = None,
    ) -> None:
        self._give_up = give_up
        self._started_at = started_at
        self._max_delay_s = max_delay_s
        self._deadline_at = deadline_at
        self._min_attempt_s = min_attempt_s
        self._clock = clock

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self._give_up is not None and self._give_up():
            return True
        next_start = self._clock() + (retry_state.upcoming_sleep or 0.0)
        if next_start - self._started_at >= self._max_delay_s:
            return True
        return self._deadline_at is not None and next_start + self._min_attempt_s > self._deadline_at


def is_retryable(exc: BaseException) -> bool:
    return counts_as_failure(exc)


def retrying_for(
    policy: Strategy,
    *,
    started_at: float,
    deadline_at: float | None,
    sleep: Callable[[float], Awaitable[None]],
    before_sleep: Callable[[RetryCallState], Any] | None = None,
    min_attempt_s: float = MIN_ATTEMPT_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    rand: Callable[[float, float], float] = random.uniform,
    give_up: Callable[[], bool] | None = None,
) -> AsyncRetrying:
    """The tenacity controller for one call under `policy` whose first attempt started at `started_at`
    (monotonic); the last error is re-raised as is."""
    limits = stop_before_limits(
        started_at=started_at,
        max_delay_s=policy.max_delay_seconds,
        deadline_at=deadline_at,
        min_attempt_s=min_attempt_s,
        clock=clock,
        give_up=give_up,
    )
    return AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts) | limits,
        wait=wait_for_strategy(policy, rand=rand),
        retry=retry_if_exception(is_retryable),
        reraise=True,
        sleep=sleep,
        before_sleep=before_sleep,
    )
