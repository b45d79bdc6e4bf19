"""A fresh answer from the AI: the request built (delimited text, per-request token), the provider
called within the invocation's deadline, its output validated (one retry on unusable output), tokens
and latency counted."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from public_api.schemas import SentimentResult, TextProcessingResponse
from public_api.services.output_validation import parse_output
from public_api.services.prompts import PROMPT_VERSION, build_ai_request
from textapi_shared.ai.provider import Operation
from textapi_shared.errors import AIInvalidOutputError, GatewayTimeoutError
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.timestamps import utc_timestamp

if TYPE_CHECKING:
    from public_api.config import PublicApiSettings
    from public_api.schemas import TextProcessingRequest
    from public_api.services.output_validation import ParsedOutput
    from textapi_shared.ai.provider import AIProvider, AIRequest, AIResponse
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.resilience.deadline import Deadline


class AnswerGenerator:
    def __init__(self, settings: PublicApiSettings, observability: Observability) -> None:
        self._settings = settings
        self._obs = observability

    async def answer(
        self,
        provider: AIProvider,
        request: TextProcessingRequest,
        options: dict[str, int],
        deadline: Deadline,
        started: float,
    ) -> TextProcessingResponse:
        """The response to `request` from a new call to `provider`; `metadata.model` names the model that
        answered (a fallback model's, when one did)."""
        operation = Operation(request.operation)
        answer, parsed = await self._generate_valid(provider, operation, request, options, deadline)
        elapsed = time.perf_counter() - started
        self._record(operation, answer, elapsed)
        return TextProcessingResponse(
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

    async def _generate_valid(
        self,
        provider: AIProvider,
        operation: Operation,
        request: TextProcessingRequest,
        options: dict[str, int],
        deadline: Deadline,
    ) -> tuple[AIResponse, ParsedOutput]:
        for attempt in (1, 2):
            try:
                ai_request = self._ai_request(operation, request, options, deadline)
                answer = await self._call(provider, ai_request, deadline)
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

    async def _call(self, provider: AIProvider, ai_request: AIRequest, deadline: Deadline) -> AIResponse:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise GatewayTimeoutError("The request ran out of time before the AI service could be called.")
        try:
            return await asyncio.wait_for(provider.generate(ai_request), timeout=remaining)
        except TimeoutError as exc:
            raise GatewayTimeoutError("The AI service did not answer before the deadline.") from exc

    def _record(self, operation: Operation, answer: AIResponse, elapsed: float) -> None:
        self._obs.milliseconds_for(operation, MetricName.OPERATION_LATENCY, elapsed * 1000)
        if answer.prompt_tokens:
            self._obs.count_for(operation, MetricName.AI_PROMPT_TOKENS, answer.prompt_tokens)
        if answer.output_tokens:
            self._obs.count_for(operation, MetricName.AI_OUTPUT_TOKENS, answer.output_tokens)
