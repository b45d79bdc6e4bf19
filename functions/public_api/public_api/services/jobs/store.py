"""The job store port and its in-memory twin (one execution environment: `make run` and tests).

Each write that must happen once is conditional: an item result, a group summary, the job's end.
Counts are never counters: they are summed from the group summaries, so they cannot drift.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Protocol

from public_api.services.jobs.records import ACTIVE, CANCELLED, QUEUED, RUNNING

if TYPE_CHECKING:
    from collections.abc import Callable

    from public_api.services.jobs.records import GroupSummary, ItemOutcome, ItemRecord, JobRecord


class JobStore(Protocol):
    async def create(self, job: JobRecord) -> None: ...

    async def get(self, job_id: str) -> JobRecord | None:
        """The job, or None when unknown or past its retention."""
        ...

    async def mark_running(self, job_id: str) -> None:
        """`queued` → `running` (no change in any other status)."""
        ...

    async def cancel(self, job_id: str) -> JobRecord | None:
        """`queued`/`running` → `cancelled`; the job as it is afterwards (unchanged when already over)."""
        ...

    async def finish(self, job_id: str, status: str, *, seen_status: str) -> bool:
        """Record the job's end once, if its status is still `seen_status`: True for the caller that did."""
        ...

    async def record_item(self, job_id: str, item: ItemRecord) -> bool:
        """Write an item's outcome unless it already has one; True when this call wrote it."""
        ...

    async def item_outcomes(self, job_id: str, first: int, last: int) -> dict[int, ItemOutcome]:
        """`{index: outcome}` of the recorded items between `first` and `last` (inclusive)."""
        ...

    async def items(self, job_id: str, start: int, limit: int) -> tuple[list[ItemRecord], int | None]:
        """Recorded items from index `start` on, in index order; the next start index if there are more."""
        ...

    async def record_group(self, job_id: str, summary: GroupSummary) -> bool: ...

    async def mark_group_done(self, job_id: str, group: int) -> int:
        """Add `group` to the job's finished groups (idempotent, atomic); how many are finished now."""
        ...

    async def groups(self, job_id: str) -> list[GroupSummary]:
        """Every recorded group summary, in group order."""
        ...

    async def owned(self, owner: str, *, limit: int, after: str | None) -> tuple[list[JobRecord], str | None]:
        """A page of `owner`'s live jobs, newest first, from after the position `after` (a previous page's
        answer); the position after this page when there are more."""
        ...


class _Job:
    __slots__ = ("groups", "items", "record")

    def __init__(self, record: JobRecord) -> None:
        self.record = record
        self.items: dict[int, ItemRecord] = {}
        self.groups: dict[int, GroupSummary] = {}


class MemoryJobStore:
    """Thread-safe (a bench runs several worker instances on one store), expiry checked on read."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def _live(self, job_id: str) -> _Job | None:
        job = self._jobs.get(job_id)
        if job is not None and job.record.expires_at <= self._clock():
            del self._jobs[job_id]
            return None
        return job

    async def create(self, job: JobRecord) -> None:
        with self._lock:
            if job.job_id in self._jobs:
                raise ValueError(f"job {job.job_id} exists")
            self._jobs[job.job_id] = _Job(job)

    async def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            job = self._live(job_id)
            return job.record if job is not None else None

    def _update(self, job_id: str, **changes: object) -> JobRecord | None:
        job = self._live(job_id)
        if job is None:
            return None
        job.record = job.record._replace(updated_at=self._clock(), **changes)
        return job.record

    async def mark_running(self, job_id: str) -> None:
        with self._lock:
            job = self._live(job_id)
            if job is not None and job.record.status == QUEUED:
                self._update(job_id, status=RUNNING)

    async def cancel(self, job_id: str) -> JobRecord | None:
        with self._lock:
            job = self._live(job_id)
            if job is None:
                return None
            if job.record.status in ACTIVE and job.record.finished_at is None:
                return self._update(job_id, status=CANCELLED)
            return job.record

    async def finish(self, job_id: str, status: str, *, seen_status: str) -> bool:
        with self._lock:
            job = self._live(job_id)
            if job is None or job.record.finished_at is not None or job.record.status != seen_status:
                return False
            self._update(job_id, status=status, finished_at=self._clock())
            return True

    async def record_item(self, job_id: str, item: ItemRecord) -> bool:
        with self._lock:
            job = self._live(job_id)
            if job is None or item.index in job.items:
                return False
            job.items[item.index] = item
            return True

    async def item_outcomes(self, job_id: str, first: int, last: int) -> dict[int, ItemOutcome]:
        with self._lock:
            job = self._live(job_id)
            if job is None:
                return {}
            return {i: job.items[i].outcome for i in range(first, last + 1) if i in job.items}

    async def items(self, job_id: str, start: int, limit: int) -> tuple[list[ItemRecord], int | None]:
        with self._lock:
            job = self._live(job_id)
            if job is None:
                return [], None
            found = sorted(i for i in job.items if i >= start)
            page = [job.items[i] for i in found[:limit]]
            return page, (found[limit] if len(found) > limit else None)

    async def record_group(self, job_id: str, summary: GroupSummary) -> bool:
        with self._lock:
            job = self._live(job_id)
            if job is None or summary.group in job.groups:
                return False
            job.groups[summary.group] = summary
            return True

    async def mark_group_done(self, job_id: str, group: int) -> int:
        with self._lock:
            job = self._live(job_id)
            if job is None:
                return 0
            job.record = job.record._replace(groups_done=job.record.groups_done | {group})
            return len(job.record.groups_done)

    async def groups(self, job_id: str) -> list[GroupSummary]:
        with self._lock:
            job = self._live(job_id)
            return sorted(job.groups.values()) if job is not None else []

    async def owned(self, owner: str, *, limit: int, after: str | None) -> tuple[list[JobRecord], str | None]:
        with self._lock:
            jobs = [
                job.record
                for job_id in list(self._jobs)
                if (job := self._live(job_id)) is not None and job.record.owner == owner
            ]
        ordered = sorted(jobs, key=position_of, reverse=True)
        if after is not None:
            ordered = [job for job in ordered if position_of(job) < after]
        page = ordered[:limit]
        return page, (position_of(page[-1]) if len(ordered) > limit else None)


def position_of(job: JobRecord) -> str:
    """A job's place in its owner's list, newest first when sorted in reverse: its creation time (fixed
    width, so it sorts as text) and its id."""
    return f"{job.created_at:017.6f}#{job.job_id}"
