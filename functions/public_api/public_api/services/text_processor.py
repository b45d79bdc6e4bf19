"""One text operation from validated request to response: limits, cache, prompt guard, one AI call per
distinct text (single-flight), metrics.

The hot path is a cache hit: one key, one read, no prompt-guard pass when the entry was stored under
the same guard rules (its verdict is kept with it), and the request's fleet counters written in one
batch. A miss inspects the text, then shares the AI call with every concurrent request for the same
key, in this instance and (through a lease in the shared store) in the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from public_api.services.answer_generation import AnswerGenerator
from public_api.services.cached_answers import from_cache, shared_copy, stored_value, stored_verdict
from public_api.services.prompts import PROMPT_VERSION
from textapi_shared.ai.provider import Operation
from textapi_shared.cache.keys import cache_key, ttl_for
from textapi_shared.counters import CounterBatch
from textapi_shared.errors import ApiError, GatewayTimeoutError, InputValidationError, ServiceUnavailableError
from textapi_shared.monitoring.metric_names import MetricName

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aws_lambda_powertools.logging import Logger

    from public_api.config import PublicApiSettings
    from public_api.schemas import TextProcessingRequest, TextProcessingResponse
    from textapi_shared.cache.protocol import Cache, CacheEntry
    from textapi_shared.cache.single_flight import SingleFlight
    from textapi_shared.cache.statistics import CacheStatistics
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.monitoring.request_metrics import RequestMetrics
    from textapi_shared.resilience.deadline import Deadline
    from textapi_shared.resilience.resilient_provider import ResilientProvider
    from textapi_shared.security.prompt_guard import GuardVerdict, PromptGuard
    from textapi_shared.security.rate_limiter import Charge


def check_lengths(
    located: list[tuple[tuple[str | int, ...], TextProcessingRequest]], settings: PublicApiSettings
) -> None:
    """422 naming every request (by its body location) whose text exceeds MAX_TEXT_LENGTH or whose
    question exceeds MAX_QUESTION_LENGTH.

    The limits are configuration, so they are checked here rather than in the schema; the error has
    the same shape as FastAPI's own validation errors. Text is never truncated.
    """
    limits = (("text", settings.max_text_length), ("question", settings.max_question_length))
    errors = [
        {
            "field": ".".join(str(p) for p in (*location[1:], field)),
            "location": [str(p) for p in (*location, field)],
            "message": f"{field} must be at most {max_length} characters",
            "type": "string_too_long",
        }
        for location, request in located
        for field, max_length in limits
        if len(getattr(request, field) or "") > max_length
    ]
    if errors:
        summary = "; ".join(sorted({error["message"] for error in errors}))
        raise InputValidationError(f"Invalid request: {summary}", details={"errors": errors})


class TextProcessor:
    def __init__(
        self,
        *,
        provider: ResilientProvider,
        guard: PromptGuard,
        settings: PublicApiSettings,
        observability: Observability,
        cache: Cache,
        statistics: CacheStatistics,
        request_metrics: RequestMetrics,
        flights: SingleFlight,
    ) -> None:
        self._provider = provider
        self._guard = guard
        self._settings = settings
        self._obs = observability
        self._cache = cache
        self._statistics = statistics
        self._request_metrics = request_metrics
        self._flights = flights
        self._answers = AnswerGenerator(settings, observability)

    @property
    def provider(self) -> ResilientProvider:
        return self._provider

    @property
    def logger(self) -> Logger:
        return self._obs.logger

    @contextlib.asynccontextmanager
    async def counting(self) -> AsyncIterator[CounterBatch]:
        """The fleet counters of a request with several items (a batch), written together on exit."""
        batch = CounterBatch(self._cache)
        try:
            yield batch
        finally:
            await batch.flush()

    async def process(
        self,
        request: TextProcessingRequest,
        *,
        deadline: Deadline,
        read_cache: bool = True,
        scope: str,
        counts: CounterBatch | None = None,
        charge: Charge | None = None,
    ) -> TextProcessingResponse:
        """Cached answer if fresh; else the AI's (then cached); a stale answer only when the AI is down.

        `scope` is whose cache entries and single-flight leases the call may use (`key:<hash>`, `open` or
        `shared`). Every outcome is counted per operation for the fleet-wide metrics: into `counts` when
        the caller gathers a batch's, else written before this returns. `charge`, the request's rate-limit
        charge if not spent yet, is spent before the AI is asked or a lease taken, and otherwise (a cache
        hit) with the counters, in one store round trip; a refused charge is a 429.
        """
        started = time.perf_counter()
        batch = counts if counts is not None else CounterBatch(self._cache)
        status = 500
        try:
            response = await self._process(request, deadline, read_cache, started, scope, batch, charge)
            status = 200
            return response
        except ApiError as exc:
            status = exc.status_code
            raise
        except asyncio.CancelledError:  # a batch item cut off by the deadline
            status = 504
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            await self._request_metrics.record(
                request.operation, status=status, latency_ms=elapsed_ms, batch=batch
            )
            if charge is not None:
                await charge.settle(batch)
            elif counts is None:
                await batch.flush()

    async def _process(
        self,
        request: TextProcessingRequest,
        deadline: Deadline,
        read_cache: bool,
        started: float,
        scope: str,
        counts: CounterBatch,
        charge: Charge | None,
    ) -> TextProcessingResponse:
        operation = Operation(request.operation)
        texts = (request.text, request.question) if request.question else (request.text,)
        options = request.resolved_options()
        # The entry of the model that would answer: the primary's unless its breaker is open.
        model = self._provider.current_model(operation)
        key = self._key(request, options, scope, model)
        entry: CacheEntry | None = None
        get_ms = 0.0
        if read_cache:
            read_started = time.perf_counter()
            entry = await self._cache.get(key)
            get_ms = (time.perf_counter() - read_started) * 1000
            if entry is not None and entry.fresh:
                self._pass_cached(operation, entry, texts)
                await self._statistics.record(operation, hit=True, get_ms=get_ms, batch=counts)
                self._obs.count_for(operation, MetricName.CACHE_HITS)
                return from_cache(entry.value, started, stale=False)
        verdict = self._inspect(operation, texts)
        if read_cache:
            await self._statistics.record(operation, hit=False, get_ms=get_ms, batch=counts)
            self._obs.count_for(operation, MetricName.CACHE_MISSES)
        not_before = 0.0 if read_cache else time.time()  # no-cache: only an answer newer than the request
        if charge is not None:
            await charge.now()  # before a lease or an AI call: a refused request must cause neither

        async def fill() -> TextProcessingResponse:
            return await self._fill(
                (key, model), request, options, verdict, deadline, scope, counts, started, not_before
            )

        try:
            response, joined = await self._flights.share(key, fill)
        except (ServiceUnavailableError, GatewayTimeoutError):
            if entry is None:
                raise
            self._obs.count_for(operation, MetricName.CACHE_STALE_SERVED)
            return from_cache(entry.value, started, stale=True)
        if joined:  # another request here made the call: the same answer, this request's timing
            self._obs.count_for(operation, MetricName.AI_CALLS_SHARED)
            return shared_copy(response, started)
        return response

    def _key(self, request: TextProcessingRequest, options: dict[str, int], scope: str, model: str) -> str:
        return cache_key(
            operation=request.operation,
            text=request.text,
            options=options,
            question=request.question,
            provider=self._provider.name,
            model=model,
            prompt_version=PROMPT_VERSION,
            scope=scope,
        )

    def _inspect(self, operation: Operation, texts: tuple[str, ...]) -> GuardVerdict:
        verdict = self._guard.enforce(*texts)
        if verdict.flagged:
            self._flagged(operation, verdict)
        return verdict

    def _pass_cached(self, operation: Operation, entry: CacheEntry, texts: tuple[str, ...]) -> None:
        """The guard on a cached answer's text: the verdict stored with it under these rules (nothing to
        inspect again), or a new inspection when the rules have changed since it was stored."""
        verdict = stored_verdict(entry.value)
        if verdict is None:
            self._inspect(operation, texts)
        elif self._guard.apply(verdict).flagged:
            self._flagged(operation, verdict)

    def _flagged(self, operation: Operation, verdict: GuardVerdict) -> None:
        self._obs.logger.warning("prompt guard flagged text", extra={"rules": list(verdict.rules)})
        self._obs.count_for(operation, MetricName.PROMPT_FLAGGED)

    async def _fill(
        self,
        keyed: tuple[str, str],
        request: TextProcessingRequest,
        options: dict[str, int],
        verdict: GuardVerdict,
        deadline: Deadline,
        scope: str,
        counts: CounterBatch,
        started: float,
        not_before: float,
    ) -> TextProcessingResponse:
        """The one computation of `key` in this instance: another instance's answer if it comes while
        this one waits for the lease, else a new AI call, stored, with the lease given up after.
        `keyed`: the key and the model it names."""
        key, key_model = keyed
        remaining = deadline.remaining()
        claim = await self._flights.claim(
            key,
            lease_s=max(1.0, remaining),  # its holder cannot be working on it any longer than that
            wait_s=min(self._settings.single_flight_wait_seconds, remaining / 2),
            not_before=not_before,
        )
        if claim.entry is not None:
            self._obs.count_for(request.operation, MetricName.AI_CALLS_SHARED)
            return from_cache(claim.entry.value, started, stale=False)
        try:
            response = await self._answers.answer(self._provider, request, options, deadline, started)
            # Kept under the model that answered: a fallback's answer is never read as the primary's.
            model = response.metadata["model"]
            entry_key = key if model == key_model else self._key(request, options, scope, model)
            await self._write(entry_key, response, verdict, counts)
            return response
        finally:
            await self._flights.release(key, claim)

    async def _write(
        self, key: str, response: TextProcessingResponse, verdict: GuardVerdict, counts: CounterBatch
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
                batch=counts,
            )
