"""The Lambda entry point for SQS batches (a queue worker), the counterpart of `web.lambda_handler`.

Powertools' async batch processor runs the batch's records concurrently and answers with a partial
batch response (`batchItemFailures`), so the event source mapping — configured with
`FunctionResponseTypes: [ReportBatchItemFailures]` — retries only the messages that failed, never
the others. A record fails by raising. Each invocation is kept like an API one (`invocation`): the
context's keys on its log lines, its metrics flushed before it returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)

from textapi_shared.web.lambda_handler import invocation

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from textapi_shared.monitoring.observability import Observability


def build_sqs_handler(
    observability: Observability,
    record_handler_for: Callable[[Any], Callable[[SQSRecord], Awaitable[None]]],
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """`record_handler_for(lambda_context)` gives the invocation's record handler (its deadline, its
    concurrency limit shared by every record of the batch)."""
    # Every record failing is reported like any partial failure, not raised as the invocation's error.
    processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with invocation(observability, context):
            return dict(
                async_process_partial_response(
                    event=event,
                    record_handler=record_handler_for(context),
                    processor=processor,
                    context=context,
                )
            )

    if observability.tracer is not None:  # TRACING_ENABLED: the invocation is an X-Ray segment
        return observability.tracer.capture_lambda_handler(handle)
    return handle
