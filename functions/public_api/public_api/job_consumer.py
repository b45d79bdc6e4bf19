"""The worker function's handler: SQS records into job messages for the `JobWorker`, as routers
translate HTTP requests for services.

Per invocation: one deadline (Lambda's remaining time) and one concurrency limit shared by every
record of the batch. A record that must come back later gets its visibility timeout set to the
back-off (ChangeMessageVisibility) and is reported failed; a record this code cannot read is
reported failed until SQS moves it to the dead-letter queue.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from public_api.services.jobs.factory import build_jobs
from public_api.services.jobs.records import InvalidJobMessageError, JobMessage
from public_api.services.jobs.sqs_queue import SqsJobQueue
from public_api.services.processing import build_processing
from textapi_shared.aws import SecureParameters
from textapi_shared.errors import ConfigurationError
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.resilience.deadline import Deadline
from textapi_shared.sqs_handler import build_sqs_handler

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from public_api.config import PublicApiSettings
    from public_api.services.jobs.store import JobStore
    from public_api.services.jobs.worker import JobWorker
    from textapi_shared.monitoring.observability import Observability


class RetryLaterError(Exception):
    """Marks a record as failed for this delivery; its back-off is already set."""


class JobConsumer:
    def __init__(
        self, worker: JobWorker, queue: SqsJobQueue, settings: PublicApiSettings, observability: Observability
    ) -> None:
        self._worker = worker
        self._queue = queue
        self._settings = settings
        self._observability = observability

    def record_handler_for(self, lambda_context: Any) -> Callable[[SQSRecord], Awaitable[None]]:
        deadline = Deadline.for_invocation(
            lambda_context,
            reserve_s=self._settings.deadline_reserve_seconds,
            fallback_s=self._settings.local_request_timeout_seconds,
        )
        semaphore = asyncio.Semaphore(self._settings.batch_ai_concurrency_limit)

        async def handle(record: SQSRecord) -> None:
            self._observability.count(MetricName.JOB_MESSAGES)
            try:
                message = JobMessage.from_json(record.body)
            except InvalidJobMessageError:  # fails on every delivery, then SQS moves it to the DLQ
                self._observability.logger.error(
                    "unreadable job message",
                    extra={
                        "message_id": record.message_id,
                        "receive_count": record.attributes.approximate_receive_count,
                    },
                )
                raise
            outcome = await self._worker.process(
                message,
                receive_count=int(record.attributes.approximate_receive_count),
                deadline=deadline,
                semaphore=semaphore,
            )
            if outcome.retry_after_s is not None:
                await self._queue.delay(record.receipt_handle, outcome.retry_after_s)
                raise RetryLaterError(
                    f"job {message.job_id} group {message.group}: retry in {outcome.retry_after_s:g} s"
                )

        return handle


def create_worker(
    settings: PublicApiSettings, *, store: JobStore | None = None
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The worker's Lambda handler; `store` replaces the configured job store (a bench's instances
    share one). Nothing connects here."""
    if settings.jobs_backend != "sqs":
        raise ConfigurationError("The job worker consumes SQS: it needs JOBS_BACKEND=sqs.")
    observability = build_observability(settings)
    secrets = SecureParameters(settings, logger=observability.logger, metrics=observability)
    processing = build_processing(settings, observability, secrets)
    jobs = build_jobs(settings, processing, observability, store=store)
    assert isinstance(jobs.queue, SqsJobQueue)  # JOBS_BACKEND=sqs builds it
    consumer = JobConsumer(jobs.worker, jobs.queue, settings, observability)
    return build_sqs_handler(observability, consumer.record_handler_for)
