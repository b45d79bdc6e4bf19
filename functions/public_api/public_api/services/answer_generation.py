"""A fresh answer from the AI: the request built (delimited text, per-request token), the provider called
within the invocation's deadline, each call's tokens reserved against the key's budget first and billed to
the key after, its output validated (one retry on unusable output), tokens and latency counted."""

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
    from public_api.services.context import RequestContext
    from public_api.services.output_validation import ParsedOutput
    from textapi_shared.ai.provider import AIProvider, AIRequest, AIResponse
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.tenancy.usage import Reservation


class AnswerGenerator:
    def __init__(self, settings: PublicApiSettings, observability: Observability) -> None:
        self._settings = settings
        self._obs = observability

    def estimate(self, request: TextProcessingRequest, options: dict[str, int], ctx: RequestContext) -> int:
        """An upper bound on the tokens one call for `request` bills (what a budget reserves for it)."""
        return self._ai_request(Operation(request.operation), request, options, ctx).token_estimate()

    async def answer(
        self,
        provider: AIProvider,
        request: TextProcessingRequest,
        options: dict[str, int],
        ctx: RequestContext,
        started: float,
        reservation: Reservation | None,
    ) -> TextProcessingResponse:
        """The response to `request` from a new call to `provider`, within `reservation` (taken for it by
        `estimate`); `metadata.model` names the model that answered (a fallback model's, when one did)
        and `tokens_billed` what the calls cost the key."""
        operation = Operation(request.operation)
        answer, parsed, billed = await self._generate_valid(
            provider, operation, request, options, ctx, reservation
        )
        elapsed = time.perf_counter() - started
        self._record(operation, answer, billed, elapsed)
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
                "tokens_billed": billed,
                "tokens_saved": 0,
                "cache": "miss",
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
        ctx: RequestContext,
        reservation: Reservation | None,
    ) -> tuple[AIResponse, ParsedOutput, int]:
        billed = 0
        for attempt in (1, 2):
            try:
                ai_request = self._ai_request(operation, request, options, ctx)
                if attempt == 2:  # the first call's reservation was settled: the retry needs its own
                    reservation = await ctx.meter.reserve(ai_request.token_estimate())
                answer = await self._call(provider, ai_request, ctx, reservation)
                billed += (answer.prompt_tokens or 0) + (answer.output_tokens or 0)
                return answer, parse_output(operation, answer.text, options, request.text), billed
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
        ctx: RequestContext,
    ) -> AIRequest:
        return build_ai_request(
            operation,
            request.text,
            question=request.question,
            options=options,
            temperature=self._settings.ai_temperature,
            timeout_s=min(self._settings.ai_timeout_seconds, ctx.deadline.remaining()),
            deadline_at=ctx.deadline.at,
        )

    async def _call(
        self,
        provider: AIProvider,
        ai_request: AIRequest,
        ctx: RequestContext,
        reservation: Reservation | None,
    ) -> AIResponse:
        """One billed call within its reservation (when the key has a budget): the actual tokens billed
        after, the reservation given back when it failed."""
        remaining = ctx.deadline.remaining()
        if remaining <= 0:
            await ctx.meter.release(reservation)
            raise GatewayTimeoutError("The request ran out of time before the AI service could be called.")
        try:
            answer = await asyncio.wait_for(provider.generate(ai_request), timeout=remaining)
        except BaseException as exc:
            await ctx.meter.release(reservation)
            if isinstance(exc, TimeoutError):
                raise GatewayTimeoutError("The AI service did not answer before the deadline.") from exc
            raise
        await ctx.meter.settle(
            reservation,
            provider=answer.provider,
            model=answer.model,
            prompt_tokens=answer.prompt_tokens or 0,
            output_tokens=answer.output_tokens or 0,
        )
        return answer

    def _record(self, operation: Operation, answer: AIResponse, billed: int, elapsed: float) -> None:
        self._obs.milliseconds_for(operation, MetricName.OPERATION_LATENCY, elapsed * 1000)
        if answer.prompt_tokens:
            self._obs.count_for(operation, MetricName.AI_PROMPT_TOKENS, answer.prompt_tokens)
        if answer.output_tokens:
            self._obs.count_for(operation, MetricName.AI_OUTPUT_TOKENS, answer.output_tokens)
        if billed:
            self._obs.count_for(operation, MetricName.TOKENS_BILLED, billed)
