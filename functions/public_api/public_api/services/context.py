"""What one request (or one job item) carries down to the services: who asks, until when, which cache
entries it may use, and its accounting, spent and written in one place.

The accounting is the request's rate-limit charge (None for job items: their job was charged when it was
submitted) and the fleet counters it gathers. The charge is spent at most once, in one store round trip
that also reads the fleet's cache generation (`cache.generation`): before the AI is asked (`spend`),
with a cache hit's counters (`confirm`), or at the end with whatever was counted (`finish`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textapi_shared.fleet.counters import CounterBatch
from textapi_shared.tenancy.usage import USAGE_TTL_S, usage_counts, utc_day

if TYPE_CHECKING:
    from textapi_shared.cache.generation import CacheGeneration
    from textapi_shared.fleet.protocol import FleetState
    from textapi_shared.resilience.deadline import Deadline
    from textapi_shared.security.api_keys import Principal
    from textapi_shared.security.prompt_guard import GuardMode
    from textapi_shared.security.rate_limiter import Charge
    from textapi_shared.tenancy.meter import TokenMeter


@dataclass(slots=True, kw_only=True)
class RequestContext:
    deadline: Deadline
    scope: (
        str  # whose cache entries and single-flight leases the request uses (`key:<hash>`, `open`, `shared`)
    )
    generation: CacheGeneration
    fleet: FleetState
    meter: TokenMeter  # bills the request's AI calls to its key (`meter.subject`), within its budget
    principal: Principal | None = None
    read_cache: bool = True  # False with `Cache-Control: no-cache`: the answer is computed anew, then stored
    charge: Charge | None = None
    guard_mode: GuardMode | None = None  # the key's own prompt-guard mode; None: PROMPT_GUARD_MODE
    pii_mode: str | None = None  # the key's own PII mode (`off`, `redact`); None: PII_MODE
    counts: CounterBatch = field(init=False)

    def __post_init__(self) -> None:
        self.counts = CounterBatch(self.fleet)

    def count_usage(self, **amounts: int) -> None:
        """The key's unbilled usage today (`requests`, `cache_hits`, `tokens_saved`), written with the
        request's other counters."""
        today = utc_day(time.time())
        self.counts.add_all(usage_counts(self.meter.subject, today, **amounts), USAGE_TTL_S)

    async def spend(self, *, cost: float | None = None) -> None:
        """Spend the charge (at `cost` requests if given) before anything with effects (an AI call, a
        lease, a batch, a job): 429 when refused."""
        if self.charge is not None and not self.charge.spent:
            await self.charge.spend(cost=cost, watch=self.generation.watch())
            self._observe()

    async def confirm(self, expected: int) -> bool:
        """For an answer read from the cache under generation `expected`: spend the charge with the
        counts so far (one round trip) and tell whether the generation is still `expected`. False: an
        invalidation moved it, this instance has cleared its own tier, and the answer must not be served
        (its counts were not added). A charge spent already was spent under the current generation."""
        if self.charge is None or self.charge.spent:
            return True
        await self.charge.settle(self.counts, watch=self.generation.watch(expected))
        watched = self._observe()
        return watched == expected

    def waive(self) -> None:
        """The request was refused by a quota before it cost anything (its key's token budget): its charge
        is not spent, and `finish` drops its counts as for a request the rate limit refused."""
        if self.charge is not None and not self.charge.spent:
            self.charge.waived = True

    async def finish(self) -> None:
        """Write what the request counted: with the charge when it is not spent yet, else on its own."""
        charge = self.charge
        if charge is None or (charge.admission is not None and charge.admission.admitted):
            await self.counts.flush()
        elif charge.admission is not None or charge.waived:  # refused: not served, its counts are dropped
            self.counts.take()
        else:
            await charge.settle(self.counts, watch=self.generation.watch())
            self._observe()

    def _observe(self) -> int:
        admission = self.charge.admission if self.charge is not None else None
        assert admission is not None
        watched = admission.watched
        self.generation.observe(watched)
        return watched
