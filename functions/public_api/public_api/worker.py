"""Entry point of PublicApiWorkerFunction: runs job messages from SQS with this package's domain code
(the same text processor, cache and resilience as `main`), and exposes `lambda_handler`."""

import gc

gc.disable()  # for the cold start: `finish_init` resumes it

from public_api.config import PublicApiSettings, get_settings
from public_api.job_consumer import JobConsumer
from public_api.services.jobs.factory import build_jobs
from public_api.services.jobs.store import JobStore
from public_api.services.processing import build_processing
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.sqs_handler import build_sqs_handler
from textapi_shared.web.lambda_handler import finish_init


def create_worker(settings: PublicApiSettings, *, store: JobStore | None = None):
    """The SQS handler; `store` replaces the configured job store (a bench's instances share one)."""
    if settings.jobs_backend != "sqs":
        from textapi_shared.errors import ConfigurationError

        raise ConfigurationError("The job worker consumes SQS: it needs JOBS_BACKEND=sqs.")
    observability = build_observability(settings)
    jobs = build_jobs(settings, build_processing(settings, observability), observability, store=store)
    consumer = JobConsumer(jobs.worker, jobs.queue, settings)
    return build_sqs_handler(observability, consumer.record_handler_for)


lambda_handler = finish_init(lambda: create_worker(get_settings()))
