"""The fleet-state port: what every instance of a function shares besides cached answers.

Counters with expiry (statistics, quotas, the cache generation), sliding-window budgets (rate limits)
and single-flight leases. The memory implementation keeps them per execution environment; Redis and
DynamoDB make them fleet-wide. Callers (rate limiter, statistics, request metrics, single-flight, job
quota) depend on this protocol alone, never on the response cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textapi_shared.fleet.windows import Admission


class Watch(NamedTuple):
    """A counter read in the same step as a spend (`FleetState.admit`): its value comes back as
    `Admission.watched`, and when `expected` is given the spend's counts are added only if the counter
    still holds it (a request that learns it read an outdated cache entry counts again as a miss)."""

    key: str
    expected: int | None = None


class FleetState(Protocol):
    name: str

    async def incr(self, key: str, amount: int, ttl_s: int) -> int:
        """Add `amount` to `key` (created at 0, expiring `ttl_s` after creation); the new value."""
        ...

    async def incr_many(self, amounts: Mapping[str, int], ttl_s: int | Mapping[str, int]) -> None:
        """`incr` for several keys in one round trip where the store can; each key is atomic on its own.
        `ttl_s` is every key's TTL, or each key's own (a mapping with an entry for every key)."""
        ...

    async def read_counters(self, keys: list[str]) -> dict[str, int]:
        """The current value of each key; a missing or expired key reads 0."""
        ...

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
        watch: Watch | None = None,
    ) -> Admission:
        """Spend `units` of `key`'s budget (`limit` units in any `window_s` seconds, see `windows`) if they
        fit; only then add `counts` (TTLs in `ttls`), in the same round trip where the store can. `now` is
        the caller's clock (epoch seconds); `watch` reads a counter alongside."""
        ...

    async def acquire_lease(self, key: str, owner: str, ttl_s: float) -> bool:
        """Take the lease on `key` for `owner` when nobody holds a live one; it lapses after `ttl_s`.
        A store no other instance sees grants every request: its instance shares calls itself."""
        ...

    async def release_lease(self, key: str, owner: str) -> None:
        """Drop the lease on `key` if `owner` still holds it (a lapsed lease may belong to another now)."""
        ...


def ttl_for(ttl_s: int | Mapping[str, int], key: str) -> int:
    """The TTL `incr_many` gives `key`: the one for every key, or the key's own."""
    return ttl_s if isinstance(ttl_s, int) else ttl_s[key]


def counts_apply(admitted: bool, watch: Watch | None, watched: int) -> bool:
    """Whether an admission's counts are added: admitted, and the watched counter as expected."""
    return admitted and (watch is None or watch.expected is None or watch.expected == watched)
