"""Builds the job services from settings: the memory twins, or DynamoDB and SQS. Nothing connects here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from public_api.services.jobs.callback import CallbackSender
from public_api.services.jobs.quota import JobQuota
from public_api.services.jobs.service import JobService
from public_api.services.jobs.worker import JobWorker

if TYPE_CHECKING:
    from collections.abc import Callable

    from public_api.config import PublicApiSettings
    from public_api.services.jobs.queue import JobQueue, MemoryJobQueue
    from public_api.services.jobs.sqs_queue import SqsJobQueue
    from public_api.services.jobs.store import JobStore
    from public_api.services.processing import ProcessingServices
    from textapi_shared.aws import SecureParameters
    from textapi_shared.monitoring.observability import Observability


class JobServices:
    __slots__ = ("queue", "service", "store", "worker")

    def __init__(self, store: JobStore, queue: JobQueue, worker: JobWorker, service: JobService) -> None:
        self.store = store
        self.queue = queue
        self.worker = worker
        self.service = service


def _callback_secret(settings: PublicApiSettings, secrets: SecureParameters) -> Callable[[], str]:
    def read() -> str:
        if settings.job_callback_secret:
            return settings.job_callback_secret
        return secrets.get(settings.job_callback_secret_ssm_parameter)

    return read


def build_jobs(
    settings: PublicApiSettings,
    processing: ProcessingServices,
    observability: Observability,
    *,
    store: JobStore | None = None,
) -> JobServices:
    """`store` replaces the configured one (a bench sharing one store between worker instances)."""
    callbacks = None
    if settings.job_callbacks_enabled:
        secret = _callback_secret(settings, processing.secrets)
        callbacks = CallbackSender(settings, observability=observability, secret=secret)
    if store is None:
        store = _build_store(settings)
    worker = JobWorker(
        store=store,
        processor=processing.text_processor,
        observability=observability,
        callbacks=callbacks,
        concurrency=settings.batch_ai_concurrency_limit,
        max_receive_count=settings.job_max_receive_count,
        retry_base_s=settings.job_retry_base_seconds,
    )
    queue = _build_queue(settings, worker, observability)
    service = JobService(
        store=store,
        queue=queue,
        quota=JobQuota(processing.cache, per_hour=settings.job_items_per_hour),
        callbacks=callbacks,
        settings=settings,
        observability=observability,
    )
    return JobServices(store, queue, worker, service)


def _build_store(settings: PublicApiSettings) -> JobStore:
    if settings.jobs_backend == "sqs":
        from public_api.services.jobs.dynamodb_store import DynamoDBJobStore

        return DynamoDBJobStore(settings)
    from public_api.services.jobs.store import MemoryJobStore

    return MemoryJobStore()


def _build_queue(
    settings: PublicApiSettings, worker: JobWorker, observability: Observability
) -> MemoryJobQueue | SqsJobQueue:
    if settings.jobs_backend == "sqs":
        from public_api.services.jobs.sqs_queue import SqsJobQueue

        return SqsJobQueue(settings)
    from public_api.services.jobs.queue import MemoryJobQueue

    return MemoryJobQueue(
        worker,
        logger=observability.logger,
        concurrency=settings.batch_ai_concurrency_limit,
        max_receive_count=settings.job_max_receive_count,
        message_timeout_s=settings.local_request_timeout_seconds,
    )
