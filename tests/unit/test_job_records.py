"""Job messages (packing, encoding), counts and the worker's back-off: pure logic."""

from __future__ import annotations

import json

import pytest

from public_api.services.jobs.records import (
    CANCELLED,
    COMPLETED,
    COMPLETED_WITH_ERRORS,
    RUNNING,
    GroupSummary,
    InvalidJobMessageError,
    ItemTooLargeError,
    JobCounts,
    JobMessage,
    JobRecord,
    pack_messages,
)
from public_api.services.jobs.worker import MAX_RETRY_DELAY_S, retry_delay


def request(text: str = "A text of a reasonable length.", operation: str = "summarize") -> dict:
    return {"text": text, "operation": operation}


def test_items_travel_in_consecutive_groups_of_at_most_max_items():
    messages = pack_messages("job_1", [request(f"text {i} " * 5) for i in range(25)], max_items=10)
    assert [m.group for m in messages] == [0, 1, 2]
    assert [[item.index for item in m.items] for m in messages] == [
        list(range(10)),
        list(range(10, 20)),
        list(range(20, 25)),
    ]


def test_large_items_make_smaller_groups_so_every_message_fits_sqs():
    big = "word " * 20_000  # 100 kB of text
    messages = pack_messages("job_1", [request(big) for _ in range(5)], max_items=10)
    assert [len(m.items) for m in messages] == [2, 2, 1]
    assert all(len(m.to_json().encode()) <= 240_000 for m in messages)


def test_an_item_too_large_for_any_message_is_named():
    with pytest.raises(ItemTooLargeError) as too_large:
        pack_messages("job_1", [request(), request("x" * 300_000)], max_items=10)
    assert too_large.value.index == 1


def test_a_message_survives_its_json_unchanged_in_ascii():
    text = 'Ünïcode “quotes”, emoji 🚀, a tab\tand "JSON" characters: {}[]'
    [message] = pack_messages(
        "job_abc", [request(text), request(operation="qa") | {"question": "Why?"}], max_items=10
    )
    body = message.to_json()
    assert body.isascii()
    assert JobMessage.from_json(body) == message
    assert json.loads(body)["items"][0]["r"]["text"] == text


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        '{"not": "a job message"}',
        '{"v": 2, "job": "job_1", "group": 0, "items": [{"i": 0, "r": {}}]}',
        '{"v": 1, "job": "job_1", "group": 0, "items": []}',
        '{"v": 1, "job": "job_1", "group": 0, "items": [{"i": 0, "r": {}}, {"i": 2, "r": {}}]}',
        '{"v": 1, "job": "job_1", "group": 0, "items": [{"i": 0, "r": "text"}]}',
    ],
)
def test_anything_else_is_an_invalid_message(body):
    with pytest.raises(InvalidJobMessageError):
        JobMessage.from_json(body)


def job(status: str = RUNNING, total: int = 25) -> JobRecord:
    return JobRecord("job_1", "owner", "batch_1", status, total, 3, 1.0, 2.0, 99.0)


def test_counts_always_add_up_to_the_total():
    groups = [GroupSummary(0, 10, 9, 1, 0, 5.0), GroupSummary(2, 5, 0, 0, 5, 7.0)]
    counts = JobCounts.of(job(), groups)
    assert counts == JobCounts(completed=9, failed=1, cancelled=5, pending=10, updated_at=7.0)
    assert counts.completed + counts.failed + counts.cancelled + counts.pending == 25
    assert counts.final_status(job()) is None  # items remain


@pytest.mark.parametrize(
    ("status", "failed", "expected"),
    [(RUNNING, 0, COMPLETED), (RUNNING, 2, COMPLETED_WITH_ERRORS), (CANCELLED, 0, CANCELLED)],
)
def test_the_final_status_once_nothing_is_pending(status, failed, expected):
    groups = [GroupSummary(0, 25, 25 - failed, failed, 0, 5.0)]
    assert JobCounts.of(job(status), groups).final_status(job(status)) == expected


def test_retries_back_off_exponentially_up_to_fifteen_minutes():
    assert [retry_delay(n, 30) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(10, 30) == MAX_RETRY_DELAY_S
    assert retry_delay(3, 0) == 0
