"""Runs one queue message (a group of a job's items) with the text operations of `process`.

The same code serves the worker function (SQS) and the in-process queue (`make run`). Items run
through `run_batch`, so they share the invocation's concurrency limit and deadline with every other
message of the invocation. Each outcome is recorded once, as soon as it is final:

- completed, or failed for good (prompt rejected, content blocked, unusable output): recorded;
- failed for now (AI unavailable, breaker open, out of time): not recorded, and the message comes
  back after a back-off, running only what is still unrecorded; on its last receive those items are
  recorded as failed with the reason, so the job always ends;
- not started because the job was cancelled: counted as cancelled in the group's summary.

Once every item of the message is final, its group summary is written; whoever completes the last
group records the job's end and sends the callback.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, NamedTuple

from public_api.schemas import TextProcessingRequest
from public_api.services.batch_runner import DEADLINE_EXCEEDED, run_batch
from public_api.services.context import RequestContext
from public_api.services.jobs.records import CANCELLED, QUEUED, RUNNING, GroupSummary, ItemRecord, JobCounts
from textapi_shared.errors import ApiError
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.resilience.deadline import Deadline
from textapi_shared.security.prompt_guard import GuardMode

if TYPE_CHECKING:
    import asyncio

    from public_api.schemas import BatchItemResult, TextProcessingResponse
    from public_api.services.jobs.callback import CallbackSender
    from public_api.services.jobs.records import ItemOutcome, JobItem, JobMessage, JobRecord
    from public_api.services.jobs.store import JobStore
    from public_api.services.text_processor import TextProcessor
    from textapi_shared.cache.generation import CacheGeneration
    from textapi_shared.fleet.protocol import FleetState
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.tenancy.meter import Meters

# Outcomes worth another attempt later; anything else is final for the item.
TRANSIENT_CODES = frozenset({"SERVICE_UNAVAILABLE", "GATEWAY_TIMEOUT", DEADLINE_EXCEEDED})
MAX_RETRY_DELAY_S = 900.0
# Kept back from the invocation's time for the bookkeeping after the items (summary, end, callback).
BOOKKEEPING_S = 5.0


def retry_delay(receive_count: int, base_s: float) -> float:
    """Exponential back-off by delivery: base, 2 × base, 4 × base, ... at most 15 minutes."""
    return min(MAX_RETRY_DELAY_S, base_s * 2 ** max(0, receive_count - 1))


class MessageOutcome(NamedTuple):
    retry_after_s: float | None = None  # None: done with this message (delete it)


DONE = MessageOutcome()


class JobCancelledError(ApiError):
    """An item not started because its job was cancelled (never leaves the worker)."""

    error_code = "JOB_CANCELLED"
    default_message = "The job was cancelled before this item ran."


class CancellationWatch:
    """Whether the job was cancelled, re-read at most every `interval_s` while items start."""

    def __init__(self, store: JobStore, job: JobRecord, interval_s: float) -> None:
        self._store = store
        self._job_id = job.job_id
        self._interval_s = interval_s
        self._cancelled = job.status == CANCELLED
        self._checked_at = time.monotonic()

    async def cancelled(self) -> bool:
        if not self._cancelled and time.monotonic() - self._checked_at >= self._interval_s:
            self._checked_at = time.monotonic()
            job = await self._store.get(self._job_id)
            self._cancelled = job is None or job.status == CANCELLED
        return self._cancelled


class _Outcomes:
    """The recorded outcomes of one message's items, as this delivery knows them."""

    __slots__ = ("complete", "outcomes", "recorded")

    def __init__(self, outcomes: dict[int, ItemOutcome]) -> None:
        self.outcomes = outcomes
        self.complete = True  # False once another delivery is seen recording an item first
        self.recorded = {"completed": 0, "failed": 0}  # by this delivery

    def report(self, observability: Observability) -> None:
        """One data point per message and outcome (per item, a big message would flush mid-invocation)."""
        for status, metric in (
            ("completed", MetricName.JOB_ITEMS_COMPLETED),
            ("failed", MetricName.JOB_ITEMS_FAILED),
        ):
            if self.recorded[status]:
                observability.count(metric, self.recorded[status])


class JobWorker:
    def __init__(
        self,
        *,
        store: JobStore,
        processor: TextProcessor,
        fleet: FleetState,
        generation: CacheGeneration,
        meters: Meters,
        observability: Observability,
        callbacks: CallbackSender | None,
        concurrency: int,
        max_receive_count: int,
        retry_base_s: float,
        cancel_check_interval_s: float = 1.0,
    ) -> None:
        self._store = store
        self._processor = processor
        self._fleet = fleet
        self._generation = generation
        self._meters = meters
        self._obs = observability
        self._callbacks = callbacks
        self._concurrency = concurrency
        self._max_receive_count = max_receive_count
        self.retry_base_s = retry_base_s
        self._cancel_check_interval_s = cancel_check_interval_s

    async def process(
        self, message: JobMessage, *, receive_count: int, deadline: Deadline, semaphore: asyncio.Semaphore
    ) -> MessageOutcome:
        """Run what is unrecorded of `message`; retry later only for transient failures."""
        job = await self._store.get(message.job_id)
        if job is None:
            self._obs.logger.warning("message of an unknown or expired job", extra=_where(message))
            return DONE
        if job.finished_at is not None:
            return DONE
        if message.group in job.groups_done:
            await self._finish_if_done(job, len(job.groups_done), deadline)  # redelivered after a crash
            return DONE
        if job.status == QUEUED:
            await self._store.mark_running(job.job_id)
            job = job._replace(status=RUNNING)

        outcomes = _Outcomes(
            await self._store.item_outcomes(job.job_id, message.first_index, message.last_index)
        )
        todo = [item for item in message.items if item.index not in outcomes.outcomes]
        watch = CancellationWatch(self._store, job, self._cancel_check_interval_s)
        items_deadline = Deadline(deadline.at - min(BOOKKEEPING_S, deadline.remaining() / 4))
        transient = await self._run(job, todo, outcomes, watch, items_deadline, semaphore)
        cancelled = await watch.cancelled()
        if transient and not cancelled:
            if receive_count < self._max_receive_count:
                outcomes.report(self._obs)
                self._obs.count(MetricName.JOB_ITEMS_RETRIED, len(transient))
                self._obs.logger.info(
                    "job items will be retried", extra={**_where(message), "items": len(transient)}
                )
                return MessageOutcome(retry_delay(receive_count, self.retry_base_s))
            for item, result in transient:
                await self._record(job, _given_up(item, result, receive_count), outcomes)
        outcomes.report(self._obs)
        return await self._summarise(
            job, message, outcomes, cancelled=cancelled, deadline=deadline, receive_count=receive_count
        )

    async def _summarise(
        self,
        job: JobRecord,
        message: JobMessage,
        outcomes: _Outcomes,
        *,
        cancelled: bool,
        deadline: Deadline,
        receive_count: int,
    ) -> MessageOutcome:
        """Write the group's summary once all its items are final, then see whether the job is over."""
        recorded = outcomes.outcomes
        if not outcomes.complete:
            recorded = await self._store.item_outcomes(job.job_id, message.first_index, message.last_index)
        missing = len(message.items) - len(recorded)
        if missing and not cancelled:  # an unrecorded item with no reason: let the message come back
            self._obs.logger.error("job items unrecorded", extra={**_where(message), "items": missing})
            return MessageOutcome(retry_delay(receive_count, self.retry_base_s))
        summary = GroupSummary.of(message.group, len(message.items), recorded.values(), time.time())
        # Written already when an earlier delivery stopped between these two steps: both are idempotent.
        await self._store.record_group(job.job_id, summary)
        finished_groups = await self._store.mark_group_done(job.job_id, message.group)
        await self._finish_if_done(job, finished_groups, deadline)
        return DONE

    async def _run(
        self,
        job: JobRecord,
        todo: list[JobItem],
        outcomes: _Outcomes,
        watch: CancellationWatch,
        deadline: Deadline,
        semaphore: asyncio.Semaphore,
    ) -> list[tuple[JobItem, BatchItemResult]]:
        """Run `todo`, recording each final outcome; the transient failures are returned."""
        transient: list[tuple[JobItem, BatchItemResult]] = []
        requests = [TextProcessingRequest.model_validate(item.request) for item in todo]
        # No charge per item (the job was charged when submitted): the generation is read here instead.
        # Each item's AI calls are billed to the job's key, within its budget as it is now.
        await self._generation.refresh(self._fleet)
        record = await self._meters.record_of(job.owner)
        ctx = RequestContext(
            deadline=deadline,
            scope=job.cache_scope,
            generation=self._generation,
            fleet=self._fleet,
            meter=self._meters.meter(job.owner, record),
            guard_mode=GuardMode(record.prompt_guard) if record is not None and record.prompt_guard else None,
            pii_mode=record.pii if record is not None else None,
        )

        async def run_one(request: TextProcessingRequest) -> TextProcessingResponse:
            if await watch.cancelled():
                raise JobCancelledError()
            # As kept: a job row holds placeholders where the item's PII was, never the values.
            return (await self._processor.answer(request, ctx)).response

        async def on_result(result: BatchItemResult) -> None:
            item = todo[result.request_index]
            if result.error_code == JobCancelledError.error_code:
                return
            if result.error_code in TRANSIENT_CODES:
                transient.append((item, result))
                return
            await self._record(job, _item_record(item.index, result), outcomes)

        try:
            await run_batch(
                requests,
                run_one,
                concurrency=self._concurrency,
                semaphore=semaphore,
                deadline=deadline,
                logger=self._obs.logger,
                on_result=on_result,
            )
        finally:
            await ctx.finish()
        return transient

    async def _record(self, job: JobRecord, item: ItemRecord, outcomes: _Outcomes) -> None:
        if not await self._store.record_item(job.job_id, item):
            outcomes.complete = False  # a concurrent delivery recorded it first: its outcome is theirs
            return
        outcomes.outcomes[item.index] = item.outcome
        outcomes.recorded[item.status] += 1

    async def _finish_if_done(self, job: JobRecord, finished_groups: int, deadline: Deadline) -> None:
        """Record the job's end when its last group is in; only the one who records it calls back."""
        if finished_groups < job.group_count:
            return
        groups = await self._store.groups(job.job_id)
        for _ in range(3):  # a cancel landing in between changes the status: read it again
            current = await self._store.get(job.job_id)
            if current is None or current.finished_at is not None:
                return
            counts = JobCounts.of(current, groups)
            status = counts.final_status(current)
            if status is None:
                return
            if await self._store.finish(job.job_id, status, seen_status=current.status):
                break
        else:
            return
        self._obs.count(MetricName.JOBS_FINISHED)
        self._obs.logger.info(
            "job finished",
            extra={
                "job_id": job.job_id,
                "status": status,
                "completed": counts.completed,
                "failed": counts.failed,
                "cancelled": counts.cancelled,
            },
        )
        if current.callback_url and self._callbacks is not None:
            await self._callbacks.send(current._replace(status=status), counts, deadline=deadline)


def _where(message: JobMessage) -> dict[str, object]:
    return {"job_id": message.job_id, "group": message.group}


def _item_record(index: int, result: BatchItemResult) -> ItemRecord:
    response = result.response.model_dump(mode="json") if result.response is not None else None
    return ItemRecord(index, result.status, response, result.error, result.error_code)


def _given_up(item: JobItem, result: BatchItemResult, receive_count: int) -> ItemRecord:
    reason = (
        "The AI service stayed unavailable"
        if result.error_code != DEADLINE_EXCEEDED
        else "The item could not finish in the time available"
    )
    return ItemRecord(
        item.index,
        "failed",
        error=f"{reason} over {receive_count} attempts; it was not processed.",
        error_code=result.error_code,
    )
