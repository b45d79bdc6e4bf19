"""The parts of one text request the processor passes around: the length check of its texts, its
lookup (what the cache and the AI see), its kept answer, its line in the request metrics, and its
budget reservation."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, NamedTuple

from textapi_shared.errors import InputValidationError

if TYPE_CHECKING:
    from public_api.config import PublicApiSettings
    from public_api.schemas import TextProcessingRequest, TextProcessingResponse
    from public_api.services.context import RequestContext
    from textapi_shared.ai.provider import Operation
    from textapi_shared.privacy.redaction import Redaction
    from textapi_shared.tenancy.usage import Reservation
    from textapi_shared.web.request_metrics import RequestMetrics


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


class Lookup(NamedTuple):
    """A request as the cache and the AI see it: the answer's key names the model that would answer."""

    request: TextProcessingRequest  # redacted, when its PII is
    operation: Operation
    texts: tuple[str, ...]  # what the prompt guard inspects
    options: dict[str, int]
    model: str
    key: str
    redaction: str | None  # `redact` when the text holds PII placeholders (a key of its own)


class Answer(NamedTuple):
    """A request's answer as it is kept (the cache, job rows, idempotency records: placeholders where its
    PII was) and what puts the originals back for the caller (`TextProcessor.reveal`)."""

    response: TextProcessingResponse
    redaction: Redaction | None = None


class RequestOutcome:
    """A request's line in the fleet's request metrics, recorded once: at its end, or for a cache hit
    just before the hit's one store round trip, which carries it."""

    __slots__ = ("_ctx", "_metrics", "_operation", "recorded", "started")

    def __init__(self, metrics: RequestMetrics, operation: str, ctx: RequestContext) -> None:
        self._metrics = metrics
        self._operation = operation
        self._ctx = ctx
        self.started = time.perf_counter()
        self.recorded = False

    async def record(self, status: int) -> None:
        if not self.recorded:
            self.recorded = True
            elapsed_ms = (time.perf_counter() - self.started) * 1000
            await self._metrics.record(
                self._operation, status=status, latency_ms=elapsed_ms, batch=self._ctx.counts
            )
            self._ctx.count_usage(requests=1)


class BudgetHold:
    """A request's budget reservation, taken by whichever uses it: its own AI call, or the release."""

    __slots__ = ("_reservation",)

    def __init__(self, reservation: Reservation | None) -> None:
        self._reservation = reservation

    def take(self) -> Reservation | None:
        reservation, self._reservation = self._reservation, None
        return reservation
