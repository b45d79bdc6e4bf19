"""What a job is made of: the job record, one record per item result, one summary per message
(group of items), the counts derived from those summaries, and the queue message itself."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable

QUEUED = "queued"
RUNNING = "running"
COMPLETED = "completed"
COMPLETED_WITH_ERRORS = "completed_with_errors"
CANCELLED = "cancelled"
# Statuses in which items still run; `cancelled` is set at once, its pending items drain as cancelled.
ACTIVE = frozenset({QUEUED, RUNNING})

MESSAGE_VERSION = 1
# SQS takes 256 KiB per message and per SendMessageBatch call; keep a margin for the envelope.
MAX_MESSAGE_BYTES = 240_000


class JobRecord(NamedTuple):
    job_id: str
    owner: str  # the submitting key's hash: only that key sees the job
    batch_id: str
    status: str
    total: int
    group_count: int
    created_at: float
    updated_at: float
    expires_at: float
    callback_url: str | None = None
    finished_at: float | None = None  # set once, by whoever records the job's end
    # Groups whose summary is written: added to idempotently (a set), so a redelivery cannot count twice.
    groups_done: frozenset[int] = frozenset()
    # The cache the items read and fill: the submitting key's (CACHE_SCOPE=key), or `shared`, as `process`.
    cache_scope: str = "open"


class ItemOutcome(NamedTuple):
    """What a job's counts need of a recorded item: its status and the tokens it billed and saved."""

    status: str  # completed | failed
    tokens_billed: int = 0
    tokens_saved: int = 0


class ItemRecord(NamedTuple):
    """One item's final outcome, written exactly once (a conditional put)."""

    index: int
    status: str  # completed | failed
    response: dict[str, Any] | None = None
    error: str | None = None
    error_code: str | None = None

    @property
    def outcome(self) -> ItemOutcome:
        metadata = (self.response or {}).get("metadata") or {}
        return ItemOutcome(
            self.status, int(metadata.get("tokens_billed") or 0), int(metadata.get("tokens_saved") or 0)
        )


class GroupSummary(NamedTuple):
    """The outcome of one message's items, written once every item of the message is final."""

    group: int
    size: int
    completed: int
    failed: int
    cancelled: int
    recorded_at: float
    tokens_billed: int = 0
    tokens_saved: int = 0

    @classmethod
    def of(cls, group: int, size: int, outcomes: Iterable[ItemOutcome], recorded_at: float) -> GroupSummary:
        """The summary of a group of `size` items from the outcomes recorded (the rest were cancelled)."""
        outcomes = list(outcomes)
        completed = sum(1 for o in outcomes if o.status == "completed")
        failed = sum(1 for o in outcomes if o.status == "failed")
        return cls(
            group,
            size,
            completed,
            failed,
            size - len(outcomes),
            recorded_at,
            sum(o.tokens_billed for o in outcomes),
            sum(o.tokens_saved for o in outcomes),
        )


class JobCounts(NamedTuple):
    completed: int
    failed: int
    cancelled: int
    pending: int
    updated_at: float
    tokens_billed: int = 0  # of the finished groups
    tokens_saved: int = 0

    @classmethod
    def of(cls, job: JobRecord, groups: list[GroupSummary]) -> JobCounts:
        """`completed + failed + cancelled + pending == total`, by construction."""
        completed = sum(g.completed for g in groups)
        failed = sum(g.failed for g in groups)
        cancelled = sum(g.cancelled for g in groups)
        updated_at = max([job.updated_at, *(g.recorded_at for g in groups)])
        pending = job.total - completed - failed - cancelled
        billed, saved = sum(g.tokens_billed for g in groups), sum(g.tokens_saved for g in groups)
        return cls(completed, failed, cancelled, pending, updated_at, billed, saved)

    def final_status(self, job: JobRecord) -> str | None:
        """The status the job ends with once nothing is pending; None while items remain."""
        if self.pending:
            return None
        if job.status == CANCELLED:
            return CANCELLED
        return COMPLETED_WITH_ERRORS if self.failed else COMPLETED


class InvalidJobMessageError(ValueError):
    """A queue message this code did not write: it can never be processed (it ends in the DLQ)."""


class JobItem(NamedTuple):
    index: int
    request: dict[str, Any]  # a validated TextProcessingRequest as JSON


class JobMessage(NamedTuple):
    """One group of a job's items: the unit SQS delivers, retries and dead-letters."""

    job_id: str
    group: int
    items: tuple[JobItem, ...]

    @property
    def first_index(self) -> int:
        return self.items[0].index

    @property
    def last_index(self) -> int:
        return self.items[-1].index

    def to_json(self) -> str:
        # ASCII only: any text the API accepted survives SQS's character rules unchanged.
        return _message_json(self.job_id, self.group, [_item_json(item) for item in self.items])

    @classmethod
    def from_json(cls, body: str) -> JobMessage:
        try:
            data = json.loads(body)
            if data["v"] != MESSAGE_VERSION:
                raise InvalidJobMessageError(f"unknown message version {data['v']!r}")
            items = tuple(JobItem(int(item["i"]), dict(item["r"])) for item in data["items"])
            message = cls(str(data["job"]), int(data["group"]), items)
        except InvalidJobMessageError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidJobMessageError(f"not a job message: {type(exc).__name__}") from exc
        indices = [item.index for item in items]
        if not items or indices != list(range(indices[0], indices[0] + len(indices))):
            raise InvalidJobMessageError("a job message holds consecutive item indices")
        return message


def _item_json(item: JobItem) -> str:
    return json.dumps({"i": item.index, "r": item.request}, separators=(",", ":"))


def _message_json(job_id: str, group: int, item_texts: list[str]) -> str:
    head = json.dumps({"v": MESSAGE_VERSION, "job": job_id, "group": group}, separators=(",", ":"))
    return f'{head[:-1]},"items":[{",".join(item_texts)}]}}'


class ItemTooLargeError(ValueError):
    def __init__(self, index: int, size: int) -> None:
        super().__init__(f"item {index} takes {size} bytes in a queue message (limit {MAX_MESSAGE_BYTES})")
        self.index = index


def pack_messages(
    job_id: str, requests: list[dict[str, Any]], *, max_items: int, max_bytes: int = MAX_MESSAGE_BYTES
) -> list[JobMessage]:
    """Consecutive items in groups of at most `max_items` and `max_bytes` of message body each."""
    envelope = len(_message_json(job_id, 0, [])) + 12  # room for a longer group number
    messages: list[JobMessage] = []
    current: list[JobItem] = []
    size = envelope
    for index, request in enumerate(requests):
        item = JobItem(index, request)
        item_size = len(_item_json(item)) + 1
        if envelope + item_size > max_bytes:
            raise ItemTooLargeError(index, envelope + item_size)
        if current and (len(current) >= max_items or size + item_size > max_bytes):
            messages.append(JobMessage(job_id, len(messages), tuple(current)))
            current, size = [], envelope
        current.append(item)
        size += item_size
    if current:
        messages.append(JobMessage(job_id, len(messages), tuple(current)))
    return messages
