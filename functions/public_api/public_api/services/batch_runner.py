"""Runs a batch: items concurrently (bounded), each back in order exactly once, none past the deadline."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from public_api.schemas import BatchItemResult
from textapi_shared.errors import ApiError, GatewayTimeoutError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from aws_lambda_powertools.logging import Logger

    from public_api.schemas import TextProcessingRequest, TextProcessingResponse
    from textapi_shared.resilience.deadline import Deadline

DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
_DEADLINE_MESSAGE = "The batch ran out of time before this item could be completed."


def _failed(index: int, message: str, code: str) -> BatchItemResult:
    return BatchItemResult(request_index=index, status="failed", error=message, error_code=code)


async def run_batch(
    items: Sequence[TextProcessingRequest],
    process: Callable[[TextProcessingRequest], Awaitable[TextProcessingResponse]],
    *,
    concurrency: int,
    deadline: Deadline,
    logger: Logger,
    semaphore: asyncio.Semaphore | None = None,
    on_result: Callable[[BatchItemResult], Awaitable[None]] | None = None,
) -> list[BatchItemResult]:
    """`semaphore` shares the concurrency limit with other batches (a worker's messages of one
    invocation); `on_result` hears each item as soon as it is final (a job records it then)."""
    limit = semaphore if semaphore is not None else asyncio.Semaphore(concurrency)

    async def run(index: int, item: TextProcessingRequest) -> BatchItemResult:
        result = await attempt(index, item)
        if on_result is not None:
            await on_result(result)
        return result

    async def attempt(index: int, item: TextProcessingRequest) -> BatchItemResult:
        async with limit:
            remaining = deadline.remaining()
            if remaining <= 0:
                return _failed(index, _DEADLINE_MESSAGE, DEADLINE_EXCEEDED)
            try:
                response = await asyncio.wait_for(process(item), timeout=remaining)
            except (TimeoutError, GatewayTimeoutError):
                return _failed(index, _DEADLINE_MESSAGE, DEADLINE_EXCEEDED)
            except ApiError as exc:
                return _failed(index, exc.message, exc.error_code)
            except Exception:
                logger.exception("batch item failed", extra={"request_index": index})
                return _failed(
                    index, "An internal error occurred while processing this item.", "INTERNAL_ERROR"
                )
            return BatchItemResult(request_index=index, status="completed", response=response)

    return list(await asyncio.gather(*(run(index, item) for index, item in enumerate(items))))
