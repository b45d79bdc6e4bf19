"""One contract for the job store: the in-memory twin and DynamoDB (moto, the template's JobsTable)."""

from __future__ import annotations

import boto3
import pytest

from fakes.clock import FakeClock
from fakes.loops import run
from public_api.config import PublicApiSettings
from public_api.services.jobs.dynamodb_store import DynamoDBJobStore
from public_api.services.jobs.records import (
    CANCELLED,
    COMPLETED,
    QUEUED,
    RUNNING,
    GroupSummary,
    ItemOutcome,
    ItemRecord,
    JobRecord,
)
from public_api.services.jobs.store import MemoryJobStore

DAY = 86_400.0


@pytest.fixture(params=["memory", "dynamodb"])
def store_and_clock(request):
    clock = FakeClock()
    if request.param == "memory":
        return MemoryJobStore(clock=clock), clock
    endpoint = request.getfixturevalue("moto_endpoint")
    table = request.getfixturevalue("jobs_table")
    settings = PublicApiSettings(cache_compression_threshold=100)
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    return DynamoDBJobStore(settings, client=client, table_name=table, clock=clock), clock


def new_job(clock: FakeClock, job_id: str = "job_" + "a" * 32, **changes: object) -> JobRecord:
    job = JobRecord(
        job_id=job_id,
        owner="owner-hash",
        batch_id="batch_1",
        status=QUEUED,
        total=25,
        group_count=3,
        created_at=clock.now,
        updated_at=clock.now,
        expires_at=clock.now + 7 * DAY,
        callback_url="https://hooks.example.test/done",
    )
    return job._replace(**changes)


def response(text: str) -> dict:
    return {"operation": "summarize", "success": True, "result": text, "metadata": {"provider": "local"}}


def test_a_job_reads_back_as_written_and_exists_once(store_and_clock):
    store, clock = store_and_clock
    job = new_job(clock)
    run(store.create(job))
    assert run(store.get(job.job_id)) == job
    assert run(store.get("job_" + "b" * 32)) is None
    with pytest.raises(ValueError, match="exists"):
        run(store.create(job))


def test_each_item_is_recorded_once_and_read_back_in_index_order(store_and_clock):
    store, clock = store_and_clock
    job = new_job(clock)
    run(store.create(job))
    long_result = "A long summary. " * 400  # compressed on DynamoDB (threshold 100 bytes here)
    for index in (7, 2, 5):
        assert run(
            store.record_item(job.job_id, ItemRecord(index, "completed", response(f"{long_result}{index}")))
        )
    failed = ItemRecord(3, "failed", None, "The text was rejected.", "PROMPT_REJECTED")
    assert run(store.record_item(job.job_id, failed))
    assert not run(store.record_item(job.job_id, ItemRecord(3, "completed", response("second"))))

    billed = ItemRecord(9, "completed", {"metadata": {"tokens_billed": 40, "tokens_saved": 0}})
    assert run(store.record_item(job.job_id, billed))
    assert run(store.item_outcomes(job.job_id, 2, 5)) == {
        2: ItemOutcome("completed"),
        3: ItemOutcome("failed"),
        5: ItemOutcome("completed"),
    }
    # What a group's summary adds up: read beside the result, without it.
    assert run(store.item_outcomes(job.job_id, 9, 9)) == {9: ItemOutcome("completed", 40, 0)}
    page, next_index = run(store.items(job.job_id, 0, 2))
    assert [item.index for item in page] == [2, 3]
    assert page[1] == failed
    assert next_index == 5
    page, next_index = run(store.items(job.job_id, 5, 2))
    assert [item.index for item in page] == [5, 7]
    assert page[1].response == response(f"{long_result}7")
    assert next_index == 9


def test_group_summaries_are_written_once_and_finished_groups_counted_once(store_and_clock):
    store, clock = store_and_clock
    job = new_job(clock)
    run(store.create(job))
    summary = GroupSummary(1, 10, 9, 1, 0, clock.now, tokens_billed=900, tokens_saved=35)
    assert run(store.record_group(job.job_id, summary))
    assert not run(store.record_group(job.job_id, summary._replace(completed=10, failed=0)))
    assert run(store.record_group(job.job_id, GroupSummary(0, 10, 10, 0, 0, clock.now)))
    assert [g.group for g in run(store.groups(job.job_id))] == [0, 1]
    assert run(store.groups(job.job_id))[1] == summary

    assert run(store.mark_group_done(job.job_id, 1)) == 1
    assert run(store.mark_group_done(job.job_id, 1)) == 1  # a redelivery adds nothing
    assert run(store.mark_group_done(job.job_id, 0)) == 2
    assert run(store.get(job.job_id)).groups_done == frozenset({0, 1})


def test_status_moves_queued_running_and_ends_once(store_and_clock):
    store, clock = store_and_clock
    job = new_job(clock)
    run(store.create(job))
    clock.advance(5)
    run(store.mark_running(job.job_id))
    running = run(store.get(job.job_id))
    assert (running.status, running.updated_at) == (RUNNING, clock.now)
    assert not run(store.finish(job.job_id, COMPLETED, seen_status=QUEUED))  # what the caller saw changed
    assert run(store.finish(job.job_id, COMPLETED, seen_status=RUNNING))
    assert not run(store.finish(job.job_id, COMPLETED, seen_status=COMPLETED))
    finished = run(store.get(job.job_id))
    assert (finished.status, finished.finished_at) == (COMPLETED, clock.now)
    run(store.mark_running(job.job_id))
    assert run(store.get(job.job_id)).status == COMPLETED


def test_cancel_stops_an_active_job_and_leaves_a_finished_one(store_and_clock):
    store, clock = store_and_clock
    active, finished = new_job(clock), new_job(clock, "job_" + "c" * 32)
    run(store.create(active))
    run(store.create(finished))
    run(store.finish(finished.job_id, COMPLETED, seen_status=QUEUED))
    assert run(store.cancel(active.job_id)).status == CANCELLED
    assert run(store.cancel(finished.job_id)).status == COMPLETED
    assert run(store.cancel("job_" + "d" * 32)) is None


def test_a_job_past_its_retention_is_gone_even_before_the_table_deletes_it(store_and_clock):
    store, clock = store_and_clock
    job = new_job(clock)
    run(store.create(job))
    clock.advance(7 * DAY + 1)
    assert run(store.get(job.job_id)) is None
