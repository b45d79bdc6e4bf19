import time
import uuid

from fastapi import APIRouter, Depends, Request, Response

from public_api.dependencies import IDEMPOTENCY_PARAMETER, check_batch_size, text_call
from public_api.schemas import (
    BatchItemResult,
    BatchTextProcessingRequest,
    BatchTextProcessingResponse,
    OperationsResponse,
    TextProcessingRequest,
    TextProcessingResponse,
)
from public_api.services.batch_runner import run_batch
from public_api.services.operations import OPERATIONS
from public_api.services.privacy import KeptAnswers
from public_api.services.text_processor import TextProcessor
from public_api.services.text_requests import Answer, check_lengths
from textapi_shared.privacy.redaction import Redaction
from textapi_shared.timestamps import utc_timestamp
from textapi_shared.web.access import OptionalKeyRoute, PublicKeyRoute
from textapi_shared.web.dependencies import METERED_READ
from textapi_shared.web.idempotency import model_response
from textapi_shared.web.openapi import KEYED, WITH_BODY, error_responses

PREFIX = "/v1/text_processing"
catalogue = APIRouter(prefix=PREFIX, tags=["text processing"], route_class=OptionalKeyRoute)
router = APIRouter(
    prefix=PREFIX, tags=["text processing"], route_class=PublicKeyRoute, responses=error_responses(*KEYED)
)


@catalogue.get(
    "/operations",
    response_model=OperationsResponse,
    dependencies=[METERED_READ],
    responses=error_responses(*KEYED, 429),
)
async def operations() -> OperationsResponse:
    """The five operations and their options (a key is optional; a wrong key is 401; with a key, a
    quarter request)."""
    return OperationsResponse(operations=OPERATIONS)


@router.post(
    "/process",
    response_model=TextProcessingResponse,
    # 400 also PROMPT_REJECTED / CONTENT_BLOCKED; 409/422 for a reused Idempotency-Key; 502-504 from the AI
    responses=error_responses(*WITH_BODY, 409, 429, 502, 503, 504),
    openapi_extra={"parameters": [IDEMPOTENCY_PARAMETER]},
)
async def process(body: TextProcessingRequest, request: Request) -> Response:
    """Run one operation on a text; `X-Tokens-Billed` and `X-Cache` (hit, miss, shared, stale) say what it
    cost the key."""
    call = await text_call(request)
    ctx, services = call.ctx, call.services
    check_lengths([(("body",), body)], services.settings)
    call.principal.require(body.operation)

    processor = services.processor
    kept = KeptAnswers(processor.privacy, [body])

    async def run() -> Response:
        try:
            answer = await processor.answer(body, ctx)
        finally:
            await ctx.finish()
        sent = processor.reveal(answer)
        if sent is not answer.response:  # PII put back: the idempotency record keeps the placeholders
            kept.kept = answer.response.model_dump_json().encode()
        metadata = sent.metadata
        return model_response(
            sent, headers={"X-Tokens-Billed": str(metadata["tokens_billed"]), "X-Cache": metadata["cache"]}
        )

    return await call.idempotency.run(run, sealing=kept)


@router.post(
    "/batch_process",
    response_model=BatchTextProcessingResponse,
    dependencies=[Depends(check_batch_size)],
    responses=error_responses(*WITH_BODY, 409, 429),
    openapi_extra={"parameters": [IDEMPOTENCY_PARAMETER]},
)
async def batch_process(body: BatchTextProcessingRequest, request: Request) -> Response:
    """Run many operations concurrently; every item comes back, in order, exactly once."""
    call = await text_call(request)
    started = time.perf_counter()
    ctx, services = call.ctx, call.services
    settings = services.settings
    check_lengths([(("body", "requests", i), item) for i, item in enumerate(body.requests)], settings)
    call.principal.require(*dict.fromkeys(item.operation for item in body.requests))  # refused whole

    processor = services.processor
    kept = KeptAnswers(processor.privacy, body.requests)
    redactions: dict[int, Redaction] = {}  # by id() of the item: what restores its answer

    async def answer(item: TextProcessingRequest) -> TextProcessingResponse:
        answered = await processor.answer(item, ctx)
        if answered.redaction is not None:
            redactions[id(item)] = answered.redaction
        return answered.response

    async def run() -> Response:
        await ctx.spend(cost=len(body.requests))
        try:
            results = await run_batch(
                body.requests,
                answer,
                concurrency=settings.batch_ai_concurrency_limit,
                deadline=ctx.deadline,
                logger=processor.logger,
            )
        finally:
            await ctx.finish()  # the items' fleet counters, written once
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
        billed = sum(r.response.metadata.get("tokens_billed", 0) for r in results if r.response is not None)
        if redactions:  # PII put back in what is sent; the idempotency record keeps the placeholders
            kept.kept = batch.model_dump_json().encode()
            batch.results = [_revealed(processor, result, body.requests, redactions) for result in results]
        return model_response(batch, headers={"X-Tokens-Billed": str(billed)})

    return await call.idempotency.run(run, sealing=kept)


def _revealed(
    processor: TextProcessor,
    result: BatchItemResult,
    requests: list[TextProcessingRequest],
    redactions: dict[int, Redaction],
) -> BatchItemResult:
    redaction = redactions.get(id(requests[result.request_index]))
    if result.response is None or redaction is None:
        return result
    return result.model_copy(update={"response": processor.reveal(Answer(result.response, redaction))})
