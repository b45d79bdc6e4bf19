"""Submitting, reading and cancelling jobs (the public function's side; the worker runs them)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, NamedTuple

from public_api.services.jobs.records import QUEUED, ItemTooLargeError, JobCounts, JobRecord, pack_messages
from textapi_shared.aws import SecretUnavailableError
from textapi_shared.errors import (
    InputValidationError,
    NotConfiguredError,
    NotFoundError,
    RateLimitExceededError,
    ServiceUnavailableError,
)
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.security.outbound import UnsafeUrlError, url_hash

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from public_api.config import PublicApiSettings
    from public_api.schemas import TextProcessingRequest
    from public_api.services.context import RequestContext
    from public_api.services.jobs.callback import CallbackSender
    from public_api.services.jobs.queue import JobQueue
    from public_api.services.jobs.quota import JobQuota
    from public_api.services.jobs.records import ItemRecord
    from public_api.services.jobs.store import JobStore
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.tenancy.records import KeyRecord

_DAY_S = 86_400
CALLBACK_URL_REFUSED = (
    "not a URL this service calls: it must be https, carry no credentials and name a host that resolves "
    "to public addresses only"
)


class JobView(NamedTuple):
    job: JobRecord
    counts: JobCounts
    items: list[ItemRecord]
    next_index: int | None

    @property
    def status(self) -> str:
        """The stored status, or the final one as soon as nothing is pending (the end is being recorded)."""
        return self.counts.final_status(self.job) or self.job.status


def _field_error(field: str, message: str, kind: str) -> InputValidationError:
    return InputValidationError(
        f"Invalid request: {field}: {message}",
        details={
            "errors": [
                {"field": field, "location": ["body", *field.split(".")], "message": message, "type": kind}
            ]
        },
    )


class JobService:
    def __init__(
        self,
        *,
        store: JobStore,
        queue: JobQueue,
        quota: JobQuota,
        callbacks: CallbackSender | None,
        settings: PublicApiSettings,
        observability: Observability,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._queue = queue
        self._quota = quota
        self._callbacks = callbacks
        self._settings = settings
        self._obs = observability
        self._clock = clock

    async def submit(
        self,
        ctx: RequestContext,
        owner: str,
        requests: Sequence[TextProcessingRequest],
        *,
        batch_id: str | None,
        callback_url: str | None,
    ) -> JobRecord:
        """Check, charge the item quota then the request's charge, record the job and queue its items;
        422 for a job that cannot run. A job refused by either quota is charged by neither."""
        limit = self._settings.max_job_requests
        if len(requests) > limit:
            raise _field_error("requests", f"at most {limit} requests per job (MAX_JOB_REQUESTS)", "too_long")
        if callback_url is not None:
            await self._check_callback(callback_url)
        job_id = f"job_{uuid.uuid4().hex}"
        try:
            messages = pack_messages(
                job_id,
                [request.model_dump(mode="json", exclude_none=True) for request in requests],
                max_items=self._settings.job_items_per_message,
            )
        except ItemTooLargeError as exc:
            raise _field_error(
                f"requests.{exc.index}", "too large to queue (at most about 240 KB)", "too_long"
            ) from exc
        await self._quota.consume(owner, len(requests))
        try:
            await ctx.spend()
        except RateLimitExceededError:
            await self._quota.refund(owner, len(requests))
            raise
        now = self._clock()
        job = JobRecord(
            job_id=job_id,
            owner=owner,
            batch_id=batch_id or f"batch_{uuid.uuid4()}",
            status=QUEUED,
            total=len(requests),
            group_count=len(messages),
            created_at=now,
            updated_at=now,
            expires_at=now + self._settings.job_retention_days * _DAY_S,
            callback_url=callback_url,
            cache_scope=ctx.scope,
        )
        try:
            await self._store.create(job)
            await self._queue.send(messages)
        except Exception as exc:
            self._obs.logger.exception("job submission failed", extra={"job_id": job_id})
            await self._abandon(job)
            raise ServiceUnavailableError(
                "The job could not be queued; retry shortly.", retry_after=5
            ) from exc
        self._obs.count(MetricName.JOBS_SUBMITTED)
        self._obs.logger.info(
            "job submitted", extra={"job_id": job_id, "items": job.total, "messages": len(messages)}
        )
        return job

    async def _check_callback(self, url: str) -> None:
        """422 for a URL that may not be called; 409 `NOT_CONFIGURED` when this deployment cannot sign
        callbacks (no secret configured, or it cannot be read now)."""
        if self._callbacks is None:
            raise NotConfiguredError(
                "Job callbacks are not enabled on this deployment (no signing secret is configured).",
                details={"field": "callback_url"},
            )
        try:
            await self._callbacks.vet(url)
        except UnsafeUrlError as exc:
            # One answer whatever the reason: "resolves to a loopback address" against "does not resolve"
            # would let a caller map the names and address classes of the network the function runs in.
            self._obs.logger.warning(
                "callback_url refused", extra={"reason": str(exc), "callback_url_hash": url_hash(url)}
            )
            raise _field_error("callback_url", CALLBACK_URL_REFUSED, "value_error") from exc
        await self._callbacks.check_signable()

    async def callback_secret(self, owner: str, record: KeyRecord | None) -> str:
        """The Standard Webhooks secret `owner`'s callbacks are signed with now; 409 `NOT_CONFIGURED` when
        this deployment signs none, 503 while the deployment's secret cannot be read."""
        if self._callbacks is None:
            raise NotConfiguredError("Job callbacks are not enabled on this deployment.")
        try:
            return await self._callbacks.current_secret(owner, record)
        except SecretUnavailableError as exc:
            raise ServiceUnavailableError(
                "The callback secret cannot be read right now; retry shortly.", retry_after=5
            ) from exc

    async def _abandon(self, job: JobRecord) -> None:
        """A job whose messages may be partly queued: cancel it (workers drop them) and refund it."""
        try:
            await self._store.cancel(job.job_id)
        except Exception:
            self._obs.logger.exception("could not cancel an unqueued job", extra={"job_id": job.job_id})
        try:
            await self._quota.refund(job.owner, job.total)
        except Exception:
            self._obs.logger.exception("could not refund an unqueued job", extra={"job_id": job.job_id})

    async def _owned(self, owner: str, job_id: str) -> JobRecord:
        job = await self._store.get(job_id)
        if job is None or job.owner != owner:  # another key's job is as absent as an unknown one
            raise NotFoundError(f"No job {job_id!r}.")
        return job

    async def view(self, owner: str, job_id: str, *, start: int = 0, limit: int = 0) -> JobView:
        """Status, counts and (with `limit`) a page of results from index `start`."""
        job = await self._owned(owner, job_id)
        counts = JobCounts.of(job, await self._store.groups(job_id))
        items, next_index = await self._store.items(job_id, start, limit) if limit else ([], None)
        return JobView(job, counts, items, next_index)

    async def owned(self, owner: str, *, limit: int, after: str | None) -> tuple[list[JobView], str | None]:
        """A page of the owner's jobs, newest first, each with its counts (no results)."""
        jobs, next_after = await self._store.owned(owner, limit=limit, after=after)
        groups = await asyncio.gather(*(self._store.groups(job.job_id) for job in jobs))
        views = [
            JobView(job, JobCounts.of(job, found), [], None) for job, found in zip(jobs, groups, strict=True)
        ]
        return views, next_after

    async def cancel(self, owner: str, job_id: str) -> JobView:
        """Items not started yet never run; a finished job is returned unchanged."""
        await self._owned(owner, job_id)
        job = await self._store.cancel(job_id)
        if job is None:
            raise NotFoundError(f"No job {job_id!r}.")
        self._obs.logger.info("job cancel requested", extra={"job_id": job_id, "status": job.status})
        return JobView(job, JobCounts.of(job, await self._store.groups(job_id)), [], None)
