"""One request's token billing (or one job item's): the reservation an AI call needs when the key has a
budget, and the tokens the call used, billed to the key."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from textapi_shared.errors import BudgetExceededError, ServiceUnavailableError
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.tenancy.records import TokenBudget
from textapi_shared.tenancy.usage import Period, PeriodFull, TokenUsage

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.tenancy.prices import Prices
    from textapi_shared.tenancy.records import KeyRecord
    from textapi_shared.tenancy.resolver import KeyResolver
    from textapi_shared.tenancy.usage import Reservation, UsageStore

_UNLIMITED = TokenBudget()


class TokenMeter:
    __slots__ = ("_budget", "_clock", "_obs", "_prices", "_store", "subject")

    def __init__(
        self,
        store: UsageStore,
        subject: str,
        budget: TokenBudget,
        *,
        prices: Prices,
        observability: Observability,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self.subject = subject
        self._budget = budget
        self._prices = prices
        self._obs = observability
        self._clock = clock

    async def reserve(self, estimate: int) -> Reservation | None:
        """Room for a call of at most `estimate` tokens, when the key has a budget (None when it has
        none). 429 `BUDGET_EXCEEDED` when it does not fit; 503 when the store cannot say (budgets never
        fail open)."""
        budget = self._budget
        if budget.daily is None and budget.monthly is None:
            return None
        period = Period.at(self._clock())
        try:
            return await self._store.reserve(
                self.subject, estimate, period=period, daily=budget.daily, monthly=budget.monthly
            )
        except PeriodFull as full:
            self._obs.count(MetricName.BUDGET_REFUSED)
            retry_after = max(1, math.ceil(period.ends_at(full.period) - self._clock()))
            raise BudgetExceededError(
                f"The {'daily' if full.period == 'day' else 'monthly'} token budget of this API key "
                f"({full.budget}) cannot take this request: {full.used} are used or reserved.",
                details={"period": full.period, "budget": full.budget, "used": full.used},
                headers={"Retry-After": str(retry_after)},
            ) from None
        except Exception as exc:
            self._obs.logger.error("token budget store unavailable", extra={"error": type(exc).__name__})
            raise ServiceUnavailableError(
                "Token budgets cannot be checked right now; retry shortly.", retry_after=5
            ) from exc

    async def settle(
        self,
        reservation: Reservation | None,
        *,
        provider: str,
        model: str,
        prompt_tokens: int,
        output_tokens: int,
    ) -> TokenUsage:
        """Bill one AI call's tokens; a store that fails is logged and counted, never the request's failure
        (the call was made: its answer is served)."""
        usage = TokenUsage(
            prompt_tokens,
            output_tokens,
            self._prices.cost_micros(provider, model, prompt_tokens, output_tokens),
        )
        period = reservation.period if reservation is not None else Period.at(self._clock())
        try:
            await self._store.settle(self.subject, period, usage, reservation)
        except Exception as exc:
            self._write_failed("settle", exc, usage.billed)
        return usage

    async def release(self, reservation: Reservation | None) -> None:
        """Give back the reservation of a call that failed."""
        if reservation is None:
            return
        try:
            await self._store.release(reservation)
        except Exception as exc:
            self._write_failed("release", exc, reservation.tokens)

    def _write_failed(self, action: str, exc: Exception, tokens: int) -> None:
        self._obs.logger.error(
            "billed usage not written",
            extra={"action": action, "tokens": tokens, "error": type(exc).__name__},
        )
        self._obs.count(MetricName.USAGE_WRITE_FAILED)


class Meters:
    """Makes each request's `TokenMeter`: the usage store, the prices and the key's budget together."""

    def __init__(
        self, usage: UsageStore, keys: KeyResolver, prices: Prices, observability: Observability
    ) -> None:
        self.usage = usage
        self.keys = keys
        self.prices = prices
        self._obs = observability

    def meter(self, subject: str, record: KeyRecord | None) -> TokenMeter:
        """The meter of a request by `subject`, within its record's budget (none for a static key)."""
        budget = record.token_budget if record is not None else _UNLIMITED
        return TokenMeter(self.usage, subject, budget, prices=self.prices, observability=self._obs)

    async def record_of(self, subject: str) -> KeyRecord | None:
        """The key record behind a subject (a job's owner), if it is one: through the resolver's cache."""
        return await self.keys.by_id(subject) if subject.startswith("key_") else None
