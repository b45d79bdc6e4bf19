"""One text operation from validated request to response: limits, prompt guard, provider call,
output validation (one retry on unusable output), metadata and metrics."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from public_api.schemas import SentimentResult, TextProcessingRequest, TextProcessingResponse
from public_api.services.output_validation import parse_output
from public_api.services.prompts import PROMPT_VERSION, build_ai_request
from textapi_shared.ai.provider import Operation
from textapi_shared.cache.keys import cache_key, ttl_for
from textapi_shared.errors import (
    AIInvalidOutputError,
    ApiError,
    GatewayTimeoutError,
    InputValidationError,
    ServiceUnavailableError,
)
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.timestamps import utc_timestamp

if TYPE_CHECKING:
    from aws_lambda_powertools.logging import Logger

    from public_api.config import PublicApiSettings
    from public_api.services.output_validation import ParsedOutput
    from textapi_shared.ai.provider import AIProvider, AIRequest, AIResponse
    from textapi_shared.cache.protocol import Cache, CacheEntry
    from textapi_shared.cache.statistics import CacheStatistics
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.monitoring.request_metrics import RequestMetrics
    from textapi_shared.resilience.deadline import Deadline
    from textapi_shared.security.prompt_guard import PromptGuard


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
        provider: AIProvider,
        guard: PromptGuard,
        settings: PublicApiSettings,
        observability: Observability,
        cache: Cache,
        statistics: CacheStatistics,
        request_metrics: RequestMetrics,
    ) -> None:
        self._provider = provider
        self._guard = guard
        self._settings = settings
        self._obs = observability
        self._cache = cache
        self._statistics = statistics
        self._request_metrics = request_metrics

    @property
    def provider(self) -> AIProvider:
        return self._provider

    @property
    def logger(self) -> Logger:
        return self._obs.logger

    async def process(
        self, request: TextProcessingRequest, *, deadline: Deadline, read_cache: bool = True, scope: str
    ) -> TextProcessingResponse:
        """Cached answer if fresh; else the AI's (then cached); a stale answer only when the AI is down.

        `scope` is whose cache entries the call may read and write (`key:<hash>`, `open` or `shared`).
        Every outcome is counted per operation for the fleet-wide request metrics.
        """
        started = time.perf_counter()
        status = 500
        try:
            response = await self._process(
                request, deadline=deadline, read_cache=read_cache, started=started, scope=scope
            )
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
            await self._request_metrics.record(request.operation, status=status, latency_ms=elapsed_ms)

    async def _process(
        self,
        request: TextProcessingRequest,
        *,
        deadline: Deadline,
        read_cache: bool,
        started: float,
        scope: str,
    ) -> TextProcessingResponse:
        operation = Operation(request.operation)
        texts = [request.text] + ([request.question] if request.question else [])
        verdict = self._guard.enforce(*texts)
        if verdict.flagged:
            self._obs.logger.warning("prompt guard flagged text", extra={"rules": list(verdict.rules)})
            self._obs.count_for(operation, MetricName.PROMPT_FLAGGED)
        options = request.resolved_options()
        key = cache_key(
            operation=operation,
            text=request.text,
            options=options,
            question=request.question,
            provider=self._provider.name,
            model=self._provider.model,
            prompt_version=PROMPT_VERSION,
            scope=scope,
        )
        entry = await self._read(operation, key) if read_cache else None
        if entry is not None and entry.fresh:
            return self._from_cache(entry, started, stale=False)
        try:
            answer, parsed = await self._generate_valid(operation, request, options, deadline)
        except (ServiceUnavailableError, GatewayTimeoutError):
            if entry is None:
                raise
            self._obs.count_for(operation, MetricName.CACHE_STALE_SERVED)
            return self._from_cache(entry, started, stale=True)
        elapsed = time.perf_counter() - started
        self._record(operation, answer, elapsed)
        response = TextProcessingResponse(
            operation=request.operation,
            result=parsed.result,
            sentiment=SentimentResult(**parsed.sentiment) if parsed.sentiment else None,
            key_points=parsed.key_points,
            questions=parsed.questions,
            metadata={
                "word_count": len(request.text.split()),
                "provider": answer.provider,
                "model": answer.model,
                "prompt_tokens": answer.prompt_tokens,
                "output_tokens": answer.output_tokens,
                "prompt_version": PROMPT_VERSION,
                "options": options,
            },
            processing_time=round(elapsed, 4),
            timestamp=utc_timestamp(),
            cache_hit=False,
        )
        await self._write(operation, key, response)
        return response

    async def _read(self, operation: Operation, key: str) -> CacheEntry | None:
        started = time.perf_counter()
        entry = await self._cache.get(key)
        hit = entry is not None and entry.fresh
        await self._statistics.record(operation, hit=hit, get_ms=(time.perf_counter() - started) * 1000)
        self._obs.count_for(operation, MetricName.CACHE_HITS if hit else MetricName.CACHE_MISSES)
        return entry

    async def _write(self, operation: Operation, key: str, response: TextProcessingResponse) -> None:
        started = time.perf_counter()
        value = response.model_dump(mode="json", exclude={"processing_time", "timestamp", "cache_hit"})
        stored = await self._cache.set(key, value, ttl_s=ttl_for(operation, self._settings.cache_default_ttl))
        if stored is not None:
            await self._statistics.record_set(
                operation,
                set_ms=(time.perf_counter() - started) * 1000,
                raw_bytes=stored.raw_bytes,
                stored_bytes=stored.stored_bytes,
            )

    @staticmethod
    def _from_cache(entry: CacheEntry, started: float, *, stale: bool) -> TextProcessingResponse:
        value = dict(entry.value)
        value["metadata"] = {**value.get("metadata", {}), "stale": stale}
        return TextProcessingResponse(
            **value,
            processing_time=round(time.perf_counter() - started, 4),
            timestamp=utc_timestamp(),
            cache_hit=True,
        )

    async def _generate_valid(
        self,
        operation: Operation,
        request: TextProcessingRequest,
        options: dict[str, int],
        deadline: Deadline,
    ) -> tuple[AIResponse, ParsedOutput]:
        for attempt in (1, 2):
            try:
                answer = await self._call(self._ai_request(operation, request, options, deadline), deadline)
                return answer, parse_output(operation, answer.text, options, request.text)
            except AIInvalidOutputError as exc:
                self._obs.count_for(operation, MetricName.AI_INVALID_OUTPUT)
                self._obs.logger.warning("unusable AI output", extra={"attempt": attempt, **exc.details})
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _ai_request(
        self,
        operation: Operation,
        request: TextProcessingRequest,
        options: dict[str, int],
        deadline: Deadline,
    ) -> AIRequest:
        return build_ai_request(
            operation,
            request.text,
            question=request.question,
            options=options,
            temperature=self._settings.ai_temperature,
            timeout_s=min(self._settings.ai_timeout_seconds, deadline.remaining()),
            deadline_at=deadline.at,
        )

    async def _call(self, ai_request: AIRequest, deadline: Deadline) -> AIResponse:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise GatewayTimeoutError("The request ran out of time before the AI service could be called.")
        try:
            return await asyncio.wait_for(self._provider.generate(ai_request), timeout=remaining)
        except TimeoutError as exc:
            raise GatewayTimeoutError("The AI service did not answer before the deadline.") from exc

    def _record(self, operation: Operation, answer: AIResponse, elapsed: float) -> None:
        self._obs.milliseconds_for(operation, MetricName.OPERATION_LATENCY, elapsed * 1000)
        if answer.prompt_tokens:
            self._obs.count_for(operation, MetricName.AI_PROMPT_TOKENS, answer.prompt_tokens)
        if answer.output_tokens:
            self._obs.count_for(operation, MetricName.AI_OUTPUT_TOKENS, answer.output_tokens)
