"""Degradation: a failing shared backend becomes misses and skipped writes, and is not waited on.

After `failure_threshold` consecutive failures the backend is bypassed for `cooldown_s` (no call, so no
timeout cost); then one call probes it (half-open) and a success closes the guard again. Counters fall
back to an in-process store meanwhile, so rate limits still hold per instance, and every single-flight
lease is granted (each instance then shares calls only within itself).

A backend may offer `describe_failure(exc) -> str` (a short, secret-free reason such as "TLS certificate
not trusted"); failures are reported with it, else with the exception's type name.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any, TypeVar

from textapi_shared.cache.codec import CacheDecodeError
from textapi_shared.cache.protocol import CacheStatus, InvalidationResult, require_invalidation_target
from textapi_shared.counters import MemoryCounterStore
from textapi_shared.errors import ServiceUnavailableError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from textapi_shared.cache.protocol import Cache, CacheEntry, StoredSize
    from textapi_shared.windows import Admission

T = TypeVar("T")


class GuardedCache:
    def __init__(
        self,
        inner: Cache,
        *,
        failure_threshold: int = 3,
        cooldown_s: float = 30.0,
        on_error: Callable[[str, Exception, str], None] | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self._threshold = failure_threshold
        self._cooldown_s = cooldown_s
        self._on_error = on_error
        self._timer = timer
        self._fallback = MemoryCounterStore()
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

    def describe_failure(self, exc: BaseException) -> str:
        describe = getattr(self.inner, "describe_failure", None)
        if describe is not None:
            with contextlib.suppress(Exception):
                return str(describe(exc))
        return type(exc).__name__

    def _report(self, action: str, exc: Exception) -> None:
        if self._on_error is not None:
            with contextlib.suppress(Exception):  # a broken log sink must not break caching
                self._on_error(action, exc, self.describe_failure(exc))

    def _failed(self, action: str, exc: Exception) -> None:
        self._failures += 1
        if self._failures >= self._threshold:
            self._open_until = self._timer() + self._cooldown_s
        self._report(action, exc)

    def _succeeded(self) -> None:
        self._failures = 0
        self._open_until = None

    async def _call(
        self, action: str, call: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]
    ) -> T:
        admitted = self._admit()
        if admitted is None:
            return await fallback()
        try:
            result = await call()
        except CacheDecodeError as exc:  # the backend answered; the stored bytes were bad
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

    async def get(self, key: str) -> CacheEntry | None:
        return await self._call("get", lambda: self.inner.get(key), _none)

    async def set(self, key: str, value: dict[str, Any], *, ttl_s: int) -> StoredSize | None:
        return await self._call("set", lambda: self.inner.set(key, value, ttl_s=ttl_s), _none)

    async def acquire_lease(self, key: str, owner: str, ttl_s: float) -> bool:
        """Granted when the backend fails: a request never waits on a store that cannot answer."""
        return await self._call(
            "acquire_lease", lambda: self.inner.acquire_lease(key, owner, ttl_s), _granted
        )

    async def release_lease(self, key: str, owner: str) -> None:
        await self._call("release_lease", lambda: self.inner.release_lease(key, owner), _none)

    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        return await self._call(
            "incr",
            lambda: self.inner.incr(key, amount, ttl_s),
            lambda: self._fallback.incr(key, amount, ttl_s),
        )

    async def incr_many(self, amounts: Mapping[str, int], ttl_s: int | Mapping[str, int]) -> None:
        await self._call(
            "incr_many",
            lambda: self.inner.incr_many(amounts, ttl_s),
            lambda: self._fallback.incr_many(amounts, ttl_s),
        )

    async def read_counters(self, keys: list[str]) -> dict[str, int]:
        return await self._call(
            "read_counters",
            lambda: self.inner.read_counters(keys),
            lambda: self._fallback.read_counters(keys),
        )

    async def admit(
        self,
        key: str,
        units: int,
        *,
        limit: int,
        window_s: float,
        now: float,
        counts: Mapping[str, int] | None = None,
        ttls: Mapping[str, int] | None = None,
    ) -> Admission:
        """Counted in this process while the backend fails: a limit then holds per instance."""
        return await self._call(
            "admit",
            lambda: self.inner.admit(
                key, units, limit=limit, window_s=window_s, now=now, counts=counts, ttls=ttls
            ),
            lambda: self._fallback.admit(
                key, units, limit=limit, window_s=window_s, now=now, counts=counts, ttls=ttls
            ),
        )

    async def invalidate(
        self, *, pattern: str | None = None, operation: str | None = None, everything: bool = False
    ) -> InvalidationResult:
        """Raises `ServiceUnavailableError` when the backend is down: an admin must know it did not happen."""
        require_invalidation_target(pattern, operation, everything)
        retry_after = max(1, round(self._cooldown_s))
        admitted = self._admit()
        if admitted is None:
            raise ServiceUnavailableError(
                "The cache backend is unavailable; nothing was invalidated.", retry_after=retry_after
            )
        try:
            result = await self.inner.invalidate(pattern=pattern, operation=operation, everything=everything)
        except Exception as exc:
            self._failed("invalidate", exc)
            raise ServiceUnavailableError(
                "The cache backend failed; the invalidation did not complete.", retry_after=retry_after
            ) from exc
        finally:
            self._end_probe(admitted)
        self._succeeded()
        return result

    async def ping(self) -> float:
        """The backend's round trip; raises at once while the guard bypasses it, and when it fails."""
        admitted = self._admit()
        if admitted is None:
            raise ServiceUnavailableError("The cache backend is bypassed after repeated failures.")
        try:
            latency_ms = await self.inner.ping()
        except Exception as exc:
            self._failed("ping", exc)
            raise
        finally:
            self._end_probe(admitted)
        self._succeeded()
        return latency_ms

    async def status(self) -> CacheStatus:
        """Always probes the backend, even while bypassing it; the guard's state is in `detail`."""
        try:
            status = await self.inner.status()
        except Exception as exc:
            reason = self.describe_failure(exc)
            status = CacheStatus(self.name, False, None, None, None, f"unreachable: {reason}")
        return status._replace(detail=f"{status.detail}; guard {self._describe()}")

    def _describe(self) -> str:
        state = self.state
        if state == "closed":
            return f"closed ({self._failures} recent failures)"
        remaining = max(0.0, (self._open_until or 0.0) - self._timer())
        return (
            f"{state} after {self._failures} consecutive failures, "
            f"{self.bypassed_calls} calls bypassed, next probe in {remaining:.1f} s"
        )


async def _none() -> None:
    return None


async def _granted() -> bool:
    return True
