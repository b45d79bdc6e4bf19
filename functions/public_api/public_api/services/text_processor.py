"""One text operation from validated request to response: cached? → guard → share or call → validate →
store → record.

The hot path is a cache hit: one key, one read, no prompt-guard pass when the entry was stored under
the same guard rules (its verdict is kept with it), and the request's charge and fleet counters written
in one round trip. A miss inspects the text, spends the charge, then shares the AI call with every
concurrent request for the same key, in this instance and (through a lease in the fleet state) in the
others.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from public_api.services.answer_generation import AnswerGenerator
from public_api.services.cached_answers import (
    from_cache,
    shared_copy,
    stored_value,
    stored_verdict,
    tokens_of,
)
from public_api.services.privacy import REDACT
from public_api.services.prompts import PROMPT_VERSION
from public_api.services.text_requests import Answer, BudgetHold, Lookup, RequestOutcome
from textapi_shared.ai.provider import Operation
from textapi_shared.cache.keys import cache_key, ttl_for
from textapi_shared.errors import (
    ApiError,
    BudgetExceededError,
    GatewayTimeoutError,
    ServiceUnavailableError,
)
from textapi_shared.monitoring.metric_names import MetricName

if TYPE_CHECKING:
    from aws_lambda_powertools.logging import Logger

    from public_api.config import PublicApiSettings
    from public_api.schemas import TextProcessingRequest, TextProcessingResponse
    from public_api.services.context import RequestContext
    from public_api.services.privacy import Privacy
    from textapi_shared.cache.generation import CacheGeneration
    from textapi_shared.cache.protocol import CacheEntry, ResponseCache
    from textapi_shared.cache.single_flight import SingleFlight
    from textapi_shared.cache.statistics import CacheStatistics
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.resilience.resilient_provider import ResilientProvider
    from textapi_shared.security.prompt_guard import GuardVerdict, PromptGuard
    from textapi_shared.web.request_metrics import RequestMetrics


class TextProcessor:
    def __init__(
        self,
        *,
        provider: ResilientProvider,
        guard: PromptGuard,
        settings: PublicApiSettings,
        observability: Observability,
        cache: ResponseCache,
        generation: CacheGeneration,
        statistics: CacheStatistics,
        request_metrics: RequestMetrics,
        flights: SingleFlight,
        privacy: Privacy,
    ) -> None:
        self.provider = provider
        self.privacy = privacy
        self._guard = guard
        self._settings = settings
        self._obs = observability
        self._cache = cache
        self._generation = generation
        self._statistics = statistics
        self._request_metrics = request_metrics
        self._flights = flights
        self._answers = AnswerGenerator(settings, observability)

    @property
    def logger(self) -> Logger:
        return self._obs.logger

    async def process(self, request: TextProcessingRequest, ctx: RequestContext) -> TextProcessingResponse:
        """`answer`, with the originals of any redacted PII put back: what the caller is sent."""
        return self.reveal(await self.answer(request, ctx))

    def reveal(self, answer: Answer) -> TextProcessingResponse:
        """The answer with its PII back (it is kept with placeholders)."""
        if answer.redaction is None:
            return answer.response
        return self.privacy.restored(answer.response, answer.redaction)

    async def answer(self, request: TextProcessingRequest, ctx: RequestContext) -> Answer:
        """Cached answer if fresh; else the AI's (then cached); a stale answer only when the AI is down.
        With PII redaction, everything from the cache to the AI sees the redacted request.

        Every outcome is counted per operation into `ctx.counts`, which the request's owner writes
        (`RequestContext.finish`) once it is done with every item.
        """
        outcome = RequestOutcome(self._request_metrics, request.operation, ctx)
        try:
            kept = await self._redacted_answer(request, ctx, outcome)
        except ApiError as exc:
            await outcome.record(exc.status_code)
            raise
        except asyncio.CancelledError:  # a batch item cut off by the deadline
            await outcome.record(504)
            raise
        except BaseException:
            await outcome.record(500)
            raise
        await outcome.record(200)
        return kept

    async def _redacted_answer(
        self, request: TextProcessingRequest, ctx: RequestContext, outcome: RequestOutcome
    ) -> Answer:
        if not self.privacy.applies(request, ctx.pii_mode):
            return Answer(await self._answer(request, ctx, outcome, redaction=None))
        redacted = await self.privacy.redact(request)
        found = sum(redacted.redaction.counts.values())  # by type in the answer's metadata only
        if found:
            self._obs.count_for(request.operation, MetricName.PII_REDACTED, found)
        response = await self._answer(redacted.request, ctx, outcome, redaction=REDACT)
        return Answer(self.privacy.marked(response, redacted.redaction), redacted.redaction)

    async def _answer(
        self,
        request: TextProcessingRequest,
        ctx: RequestContext,
        outcome: RequestOutcome,
        *,
        redaction: str | None,
    ) -> TextProcessingResponse:
        started = outcome.started
        lookup = self._lookup(request, ctx.scope, redaction)
        entry: CacheEntry | None = None
        get_ms = 0.0
        if ctx.read_cache:
            entry, get_ms = await self._cached(lookup, ctx, outcome)
            if entry is not None and entry.fresh:
                return from_cache(entry.value, started, outcome="hit")
        verdict = self._inspect(lookup.operation, lookup.texts, ctx)
        if ctx.read_cache:
            await self._statistics.record(lookup.operation, hit=False, get_ms=get_ms, batch=ctx.counts)
            self._obs.count_for(lookup.operation, MetricName.CACHE_MISSES)
        # The key's budget, then its rate limit, before a lease or an AI call: a request either refuses
        # causes neither and spends nothing of the other.
        try:
            reservation = await ctx.meter.reserve(self._answers.estimate(lookup.request, lookup.options, ctx))
        except BudgetExceededError:
            ctx.waive()
            raise
        held = BudgetHold(reservation)
        try:
            await ctx.spend()
        except BaseException:
            await ctx.meter.release(held.take())
            raise
        not_before = 0.0 if ctx.read_cache else time.time()  # no-cache: only an answer newer than the request
        try:
            response, joined = await self._flights.share(
                lookup.key, lambda: self._call(lookup, verdict, ctx, started, not_before, held)
            )
        except (ServiceUnavailableError, GatewayTimeoutError):
            if entry is None:
                raise
            self._obs.count_for(lookup.operation, MetricName.CACHE_STALE_SERVED)
            return self._saved(from_cache(entry.value, started, outcome="stale"), ctx)
        finally:
            await ctx.meter.release(held.take())  # this request's call did not use it (another's answered)
        if joined:  # another request here made the call: the same answer, this request's timing
            self._obs.count_for(lookup.operation, MetricName.AI_CALLS_SHARED)
            return self._saved(shared_copy(response, started), ctx)
        return response

    def _saved(self, response: TextProcessingResponse, ctx: RequestContext) -> TextProcessingResponse:
        """A response another call paid for: counted as the tokens it saved the key."""
        saved = response.metadata.get("tokens_saved", 0)
        if saved:
            self._obs.count_for(response.operation, MetricName.TOKENS_SAVED, saved)
            ctx.count_usage(tokens_saved=saved)
        return response

    def _lookup(self, request: TextProcessingRequest, scope: str, redaction: str | None) -> Lookup:
        operation = Operation(request.operation)
        options = request.resolved_options()
        # The entry of the model that would answer: the primary's unless its breaker is open.
        model = self.provider.current_model(operation)
        texts = (request.text, request.question) if request.question else (request.text,)
        key = self._key(request, options, scope, model, redaction)
        return Lookup(request, operation, texts, options, model, key, redaction)

    def _key(
        self,
        request: TextProcessingRequest,
        options: dict[str, int],
        scope: str,
        model: str,
        redaction: str | None,
    ) -> str:
        return cache_key(
            operation=request.operation,
            text=request.text,
            options=options,
            question=request.question,
            provider=self.provider.name,
            model=model,
            prompt_version=PROMPT_VERSION,
            scope=scope,
            redaction=redaction,
        )

    async def _cached(
        self, lookup: Lookup, ctx: RequestContext, outcome: RequestOutcome
    ) -> tuple[CacheEntry | None, float]:
        """The entry for `lookup` (fresh or stale) and the read's milliseconds. A fresh one is served only
        once the charge confirms the fleet's cache generation has not moved since it was read (the hit
        and the request counted in that same round trip); if it has, the read is done again under the
        new one."""
        expected = self._generation.seen
        entry, get_ms = await self._read(lookup.key)
        if entry is None or not entry.fresh:
            return entry, get_ms
        self._pass_cached(lookup.operation, entry, lookup.texts, ctx)
        await self._statistics.record(lookup.operation, hit=True, get_ms=get_ms, batch=ctx.counts)
        saved = tokens_of(entry.value.get("metadata") or {})
        ctx.count_usage(cache_hits=1, tokens_saved=saved)
        await outcome.record(200)
        if not await ctx.confirm(expected):  # what was counted is dropped: the request goes on
            outcome.recorded = False
            entry, get_ms = await self._read(lookup.key)
            if entry is None or not entry.fresh:
                return entry, get_ms
            await self._statistics.record(lookup.operation, hit=True, get_ms=get_ms, batch=ctx.counts)
            saved = tokens_of(entry.value.get("metadata") or {})
            ctx.count_usage(cache_hits=1, tokens_saved=saved)
        self._obs.count_for(lookup.operation, MetricName.CACHE_HITS)
        if saved:
            self._obs.count_for(lookup.operation, MetricName.TOKENS_SAVED, saved)
        return entry, get_ms

    async def _read(self, key: str) -> tuple[CacheEntry | None, float]:
        read_started = time.perf_counter()
        entry = await self._cache.get(key)
        return entry, (time.perf_counter() - read_started) * 1000

    def _inspect(self, operation: Operation, texts: tuple[str, ...], ctx: RequestContext) -> GuardVerdict:
        verdict = self._guard.enforce(*texts, mode=ctx.guard_mode)
        if verdict.flagged:
            self._flagged(operation, verdict)
        return verdict

    def _pass_cached(
        self, operation: Operation, entry: CacheEntry, texts: tuple[str, ...], ctx: RequestContext
    ) -> None:
        """The guard on a cached answer's text: the verdict stored with it under these rules (nothing to
        inspect again), or a new inspection when the rules have changed since it was stored."""
        verdict = stored_verdict(entry.value)
        if verdict is None:
            self._inspect(operation, texts, ctx)
        elif self._guard.apply(verdict, mode=ctx.guard_mode).flagged:
            self._flagged(operation, verdict)

    def _flagged(self, operation: Operation, verdict: GuardVerdict) -> None:
        self._obs.logger.warning("prompt guard flagged text", extra={"rules": list(verdict.rules)})
        self._obs.count_for(operation, MetricName.PROMPT_FLAGGED)

    async def _call(
        self,
        lookup: Lookup,
        verdict: GuardVerdict,
        ctx: RequestContext,
        started: float,
        not_before: float,
        held: BudgetHold,
    ) -> TextProcessingResponse:
        """The one computation of the key in this instance: another instance's answer if it comes while
        this one waits for the lease, else a new AI call, stored, with the lease given up after."""
        remaining = ctx.deadline.remaining()
        claim = await self._flights.claim(
            lookup.key,
            lease_s=max(1.0, remaining),  # its holder cannot be working on it any longer than that
            wait_s=min(self._settings.single_flight_wait_seconds, remaining / 2),
            not_before=not_before,
        )
        if claim.entry is not None:
            self._obs.count_for(lookup.operation, MetricName.AI_CALLS_SHARED)
            return self._saved(from_cache(claim.entry.value, started, outcome="shared"), ctx)
        try:
            response = await self._answers.answer(
                self.provider, lookup.request, lookup.options, ctx, started, held.take()
            )
            # Kept under the model that answered: a fallback's answer is never read as the primary's.
            model = response.metadata["model"]
            key = (
                lookup.key
                if model == lookup.model
                else self._key(lookup.request, lookup.options, ctx.scope, model, lookup.redaction)
            )
            await self._store(key, response, verdict, ctx)
            return response
        finally:
            await self._flights.release(lookup.key, claim)

    async def _store(
        self, key: str, response: TextProcessingResponse, verdict: GuardVerdict, ctx: RequestContext
    ) -> None:
        operation = response.operation
        started = time.perf_counter()
        ttl_s = ttl_for(operation, self._settings.cache_default_ttl)
        stored = await self._cache.set(key, stored_value(response, verdict), ttl_s=ttl_s)
        if stored is not None:
            await self._statistics.record_set(
                operation,
                set_ms=(time.perf_counter() - started) * 1000,
                raw_bytes=stored.raw_bytes,
                stored_bytes=stored.stored_bytes,
                batch=ctx.counts,
            )
