import time
import uuid

from fastapi import APIRouter, Response

from public_api.dependencies import (
    Idempotency,
    InvocationDeadline,
    Limiter,
    OptionalApiKey,
    Processor,
    RateLimitSubject,
    ReadCache,
    Settings,
)
from public_api.schemas import (
    BatchTextProcessingRequest,
    BatchTextProcessingResponse,
    OperationsResponse,
    TextProcessingRequest,
    TextProcessingResponse,
)
from public_api.services.batch_runner import run_batch
from public_api.services.operations import OPERATIONS
from public_api.services.text_processor import check_text_lengths
from textapi_shared.errors import InputValidationError
from textapi_shared.timestamps import utc_timestamp
from textapi_shared.web.idempotency import model_response

router = APIRouter(prefix="/v1/text_processing", tags=["text processing"])


@router.get("/operations", response_model=OperationsResponse)
async def operations(_caller: OptionalApiKey) -> OperationsResponse:
    """The five operations and their options (a key is optional; a wrong key is 401)."""
    return OperationsResponse(operations=OPERATIONS)


@router.post("/process", response_model=TextProcessingResponse)
async def process(
    body: TextProcessingRequest,
    subject: RateLimitSubject,
    limiter: Limiter,
    processor: Processor,
    settings: Settings,
    deadline: InvocationDeadline,
    use_cache: ReadCache,
    idempotency: Idempotency,
) -> Response:
    """Run one operation on a text."""
    check_text_lengths([(("body",), body)], settings.max_text_length)

    async def run() -> Response:
        state = await limiter.consume(subject)
        result = await processor.process(body, deadline=deadline, read_cache=use_cache)
        return model_response(result, headers=state.headers())

    return await idempotency.run(run)


@router.post("/batch_process", response_model=BatchTextProcessingResponse)
async def batch_process(
    body: BatchTextProcessingRequest,
    subject: RateLimitSubject,
    limiter: Limiter,
    processor: Processor,
    settings: Settings,
    deadline: InvocationDeadline,
    use_cache: ReadCache,
    idempotency: Idempotency,
) -> Response:
    """Run many operations concurrently; every item comes back, in order, exactly once."""
    started = time.perf_counter()
    limit = settings.max_batch_requests_per_call
    if len(body.requests) > limit:
        raise InputValidationError(
            f"A batch may hold at most {limit} requests (MAX_BATCH_REQUESTS_PER_CALL); this one has "
            f"{len(body.requests)}.",
            details={
                "errors": [
                    {
                        "field": "requests",
                        "location": ["body", "requests"],
                        "message": f"at most {limit} requests per batch",
                        "type": "too_long",
                    }
                ]
            },
        )
    check_text_lengths(
        [(("body", "requests", i), item) for i, item in enumerate(body.requests)], settings.max_text_length
    )

    async def run() -> Response:
        state = await limiter.consume(subject, cost=len(body.requests))
        results = await run_batch(
            body.requests,
            lambda item: processor.process(item, deadline=deadline, read_cache=use_cache),
            concurrency=settings.batch_ai_concurrency_limit,
            deadline=deadline,
            logger=processor.logger,
        )
        completed = sum(1 for r in results if r.status == "completed")
        batch = BatchTextProcessingResponse(
            batch_id=body.batch_id or f"batch_{uuid.uuid4()}",
            total_requests=len(results),
            completed=completed,
            failed=len(results) - completed,
            results=results,
            total_processing_time=round(time.perf_counter() - started, 4),
            timestamp=utc_timestamp(),
        )
        return model_response(batch, headers=state.headers())

    return await idempotency.run(run)
