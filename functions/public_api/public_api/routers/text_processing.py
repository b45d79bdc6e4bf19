import time
import uuid

from fastapi import APIRouter, Depends, Request, Response

from public_api.dependencies import OptionalApiKey, check_batch_size, text_call
from public_api.schemas import (
    BatchTextProcessingRequest,
    BatchTextProcessingResponse,
    OperationsResponse,
    TextProcessingRequest,
    TextProcessingResponse,
)
from public_api.services.batch_runner import run_batch
from public_api.services.operations import OPERATIONS
from public_api.services.text_processor import check_lengths
from textapi_shared.timestamps import utc_timestamp
from textapi_shared.web.dependencies import authenticates_with_api_key
from textapi_shared.web.idempotency import OPENAPI_PARAMETER, model_response
from textapi_shared.web.openapi import KEYED, WITH_BODY, error_responses

PREFIX = "/v1/text_processing"
router = APIRouter(prefix=PREFIX, tags=["text processing"], responses=error_responses(*KEYED))
# The routes that spend the per-minute budget, also when a request to them is refused as invalid.
METERED_ROUTES = (("POST", f"{PREFIX}/process"), ("POST", f"{PREFIX}/batch_process"))


@router.get("/operations", response_model=OperationsResponse)
async def operations(_caller: OptionalApiKey) -> OperationsResponse:
    """The five operations and their options (a key is optional; a wrong key is 401)."""
    return OperationsResponse(operations=OPERATIONS)


@router.post(
    "/process",
    response_model=TextProcessingResponse,
    # 400 also PROMPT_REJECTED / CONTENT_BLOCKED; 409/422 for a reused Idempotency-Key; 502-504 from the AI
    responses=error_responses(*WITH_BODY, 409, 429, 502, 503, 504),
    openapi_extra={"parameters": [OPENAPI_PARAMETER]},
)
@authenticates_with_api_key  # the key is checked by `text_call` (a dependency would cost ~15 µs more)
async def process(body: TextProcessingRequest, request: Request) -> Response:
    """Run one operation on a text."""
    call = await text_call(request)
    check_lengths([(("body",), body)], call.settings)

    async def run() -> Response:
        # Spent before the AI is asked, or (a cache hit) with the request's counters in one round trip.
        charge = call.limiter.charge(call.subject)
        answer = await call.processor.process(
            body, deadline=call.deadline, read_cache=call.read_cache, scope=call.scope, charge=charge
        )
        return model_response(answer, headers=charge.headers())

    return await call.idempotency.run(run)


@router.post(
    "/batch_process",
    response_model=BatchTextProcessingResponse,
    dependencies=[Depends(check_batch_size)],
    responses=error_responses(*WITH_BODY, 409, 429),
    openapi_extra={"parameters": [OPENAPI_PARAMETER]},
)
@authenticates_with_api_key
async def batch_process(body: BatchTextProcessingRequest, request: Request) -> Response:
    """Run many operations concurrently; every item comes back, in order, exactly once."""
    started = time.perf_counter()
    call = await text_call(request)
    check_lengths([(("body", "requests", i), item) for i, item in enumerate(body.requests)], call.settings)

    async def run() -> Response:
        state = await call.limiter.consume(call.subject, cost=len(body.requests))
        processor = call.processor
        async with processor.counting() as counts:  # the items' fleet counters, written once
            results = await run_batch(
                body.requests,
                lambda item: processor.process(
                    item, deadline=call.deadline, read_cache=call.read_cache, scope=call.scope, counts=counts
                ),
                concurrency=call.settings.batch_ai_concurrency_limit,
                deadline=call.deadline,
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

    return await call.idempotency.run(run)
