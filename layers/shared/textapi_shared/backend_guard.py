"""Degradation for a shared backend (Redis, DynamoDB): a failing one is bypassed, not waited on.

After `failure_threshold` consecutive failures the backend is bypassed for `cooldown_s` (no call, so no
timeout cost); then one call probes it (half-open) and a success closes the guard again. What a
bypassed call does instead is the caller's fallback: a cache miss, an in-process counter, a granted
lease. The response cache and the fleet state each have one guard around their backend.

A backend may offer `describe_failure(exc) -> str` (a short, secret-free reason such as "TLS certificate
not trusted"); failures are reported with it, else with the exception's type name.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any, TypeVar

from textapi_shared.errors import ServiceUnavailableError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

T = TypeVar("T")


class DecodeFailure(Exception):
    """The backend answered, but what it returned could not be read: reported, yet not a backend failure."""


class BackendGuard:
    def __init__(
        self,
        backend: Any,
        *,
        failure_threshold: int = 3,
        cooldown_s: float = 30.0,
        on_error: Callable[[str, Exception, str], None] | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._backend = backend
        self._threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._on_error = on_error
        self._timer = timer
        self._failures = 0
        self._open_until: float | None = None
        self._probing = False
        self.bypassed_calls = 0

    @property
    def state(self) -> str:
        """`closed` (calling), `open` (bypassing until the cool-down ends), `half_open` (next call probes)."""
        if self._open_until is None:
            return "closed"
        return "open" if self._probing or self._timer() < self._open_until else "half_open"

    def describe_failure(self, exc: BaseException) -> str:
        describe = getattr(self._backend, "describe_failure", None)
        if describe is not None:
            with contextlib.suppress(Exception):
                return str(describe(exc))
        return type(exc).__name__

    def describe(self) -> str:
        state = self.state
        if state == "closed":
            return f"closed ({self._failures} recent failures)"
        remaining = max(0.0, (self._open_until or 0.0) - self._timer())
        return (
            f"{state} after {self._failures} consecutive failures, "
            f"{self.bypassed_calls} calls bypassed, next probe in {remaining:.1f} s"
        )

    async def call(
        self, action: str, call: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]
    ) -> T:
        """`call()`, or `fallback()` while bypassing and when the call fails (the failure is reported)."""
        admitted = self._admit()
        if admitted is None:
            return await fallback()
        try:
            result = await call()
        except DecodeFailure as exc:
            self._succeeded()
            self._report(action, exc)
            return await fallback()
        except Exception as exc:
            self._failed(action, exc)
            return await fallback()
        finally:
            self._end_probe(admitted)
        self._succeeded()
        return result

    async def required(self, action: str, call: Callable[[], Awaitable[T]], *, failure: str) -> T:
        """`call()` for an operator's action whose outcome is reported: a bypassed or failed backend is a
        503 `ServiceUnavailableError(failure)`, never a pretended success."""
        retry_after = max(1, round(self.cooldown_s))
        admitted = self._admit()
        if admitted is None:
            raise ServiceUnavailableError(failure, retry_after=retry_after)
        try:
            result = await call()
        except Exception as exc:
            self._failed(action, exc)
            raise ServiceUnavailableError(failure, retry_after=retry_after) from exc
        finally:
            self._end_probe(admitted)
        self._succeeded()
        return result

    async def probe(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call()` raising as it fails, at once while bypassing (`ServiceUnavailableError`)."""
        admitted = self._admit()
        if admitted is None:
            raise ServiceUnavailableError("The backend is bypassed after repeated failures.")
        try:
            result = await call()
        except Exception as exc:
            self._failed("ping", exc)
            raise
        finally:
            self._end_probe(admitted)
        self._succeeded()
        return result

    def _admit(self) -> str | None:
        """`call`, `probe` (the one half-open trial) or None (bypass)."""
        if self._open_until is None:
            return "call"
        if self._probing or self._timer() < self._open_until:
            self.bypassed_calls += 1
            return None
        self._probing = True
        return "probe"

    def _end_probe(self, admitted: str) -> None:
        if admitted == "probe":
            self._probing = False

    def _report(self, action: str, exc: Exception) -> None:
        if self._on_error is not None:
            with contextlib.suppress(Exception):  # a broken log sink must not break the request
                self._on_error(action, exc, self.describe_failure(exc))

    def _failed(self, action: str, exc: Exception) -> None:
        self._failures += 1
        if self._failures >= self._threshold:
            self._open_until = self._timer() + self.cooldown_s
        self._report(action, exc)

    def _succeeded(self) -> None:
        self._failures = 0
        self._open_until = None
