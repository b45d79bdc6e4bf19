"""A failing shared backend becomes misses and skipped writes, and is not waited on (`BackendGuard`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textapi_shared.backend_guard import BackendGuard
from textapi_shared.cache.protocol import CacheStatus, InvalidationResult, require_invalidation_target

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.cache.protocol import CacheEntry, ResponseCache, StoredSize


class GuardedCache:
    def __init__(
        self,
        inner: ResponseCache,
        *,
        failure_threshold: int = 3,
        cooldown_s: float = 30.0,
        on_error: Callable[[str, Exception, str], None] | None = None,
        timer: Callable[[], float] | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        extra = {} if timer is None else {"timer": timer}
        self.guard = BackendGuard(
            inner, failure_threshold=failure_threshold, cooldown_s=cooldown_s, on_error=on_error, **extra
        )

    @property
    def state(self) -> str:
        return self.guard.state

    @property
    def bypassed_calls(self) -> int:
        return self.guard.bypassed_calls

    def describe_failure(self, exc: BaseException) -> str:
        return self.guard.describe_failure(exc)

    async def get(self, key: str) -> CacheEntry | None:
        return await self.guard.call("get", lambda: self.inner.get(key), _none)

    async def set(self, key: str, value: dict[str, Any], *, ttl_s: int) -> StoredSize | None:
        return await self.guard.call("set", lambda: self.inner.set(key, value, ttl_s=ttl_s), _none)

    async def invalidate(
        self, *, pattern: str | None = None, operation: str | None = None, everything: bool = False
    ) -> InvalidationResult:
        """Raises `ServiceUnavailableError` when the backend is down: an admin must know it did not happen."""
        require_invalidation_target(pattern, operation, everything)
        return await self.guard.required(
            "invalidate",
            lambda: self.inner.invalidate(pattern=pattern, operation=operation, everything=everything),
            failure="The cache backend is unavailable; nothing was invalidated.",
        )

    async def ping(self) -> float:
        """The backend's round trip; raises at once while the guard bypasses it, and when it fails."""
        return await self.guard.probe(self.inner.ping)

    async def status(self) -> CacheStatus:
        """Always probes the backend, even while bypassing it; the guard's state is in `detail`."""
        try:
            status = await self.inner.status()
        except Exception as exc:
            reason = self.guard.describe_failure(exc)
            status = CacheStatus(self.name, False, None, None, None, f"unreachable: {reason}")
        return status._replace(detail=f"{status.detail}; guard {self.guard.describe()}")


async def _none() -> None:
    return None
