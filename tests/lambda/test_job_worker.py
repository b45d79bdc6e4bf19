"""Jobs end to end on moto (SQS, DynamoDB): submitted through the public lambda_handler, run by the
worker's real lambda_handler on SQS events built from messages really received from the queue."""

from __future__ import annotations

import boto3
import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import PUBLIC_KEY, SECOND_PUBLIC_KEY, assert_error_shape
from fakes.gemini_server import Fail, Reply
from fakes.sqs_events import JobsQueue, SqsPoller
from public_api.config import PublicApiSettings
from public_api.job_consumer import create_worker
from public_api.main import create_app

pytestmark = pytest.mark.slow  # SQS on a moto server, a thousand-item job

AUTH = {"X-API-Key": PUBLIC_KEY}
JOBS = "/v1/text_processing/jobs"
TEXT = (
    "The harbour authority approved a plan to replace the old ferry terminal with a larger building that has "
    "solar panels on its roof, covered bicycle parking and a waiting hall that stays open at night."
)
OPERATIONS = ["summarize", "sentiment", "key_points"]


class JobsHarness:
    """The public function and the worker function of one deployment, on the test's table and queue."""

    def __init__(self, moto_endpoint: str, table: str, queue: JobsQueue, **overrides: object) -> None:
        values = {
            "stage": "dev",
            "api_key": PUBLIC_KEY,
            "additional_api_keys": [SECOND_PUBLIC_KEY],
            "jobs_backend": "sqs",
            "jobs_queue_url": queue.url,
            "jobs_table_name": table,
            "aws_endpoint_url": moto_endpoint,
            "job_max_receive_count": JobsQueue.MAX_RECEIVE_COUNT,
            "job_retry_base_seconds": 0,
            **overrides,
        }
        self.api = LambdaClient(create_app(PublicApiSettings(**values)))
        self.worker = create_worker(PublicApiSettings(**{**values, "service_name": "textapi-public-worker"}))
        self.queue = queue
        self.table = table
        self.dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")

    def poller(self, batch_size: int = 10) -> SqsPoller:
        return SqsPoller(self.queue.client, self.queue.url, self.worker, batch_size=batch_size)

    def submit(self, requests: list[dict], headers: dict | None = None, **extra: object):
        body = {"requests": requests, **extra}
        return self.api.request("POST", JOBS, json_body=body, headers={**AUTH, **(headers or {})})

    def status(self, job_id: str, headers: dict | None = None, **query: object):
        params = {name: str(value) for name, value in query.items()}
        return self.api.request("GET", f"{JOBS}/{job_id}", headers=headers or AUTH, query=params)

    def rows(self, job_id: str) -> list[dict]:
        """Every row of the job (its row, its item results, its group summaries) as DynamoDB holds them."""
        rows = []
        for partition in (f"job#{job_id}", f"job#{job_id}#items", f"job#{job_id}#groups"):
            pages = self.dynamodb.get_paginator("query").paginate(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": partition}},
                ConsistentRead=True,
            )
            rows += [row for page in pages for row in page["Items"]]
        return rows


@pytest.fixture
def harness(moto_endpoint, jobs_table, jobs_queue, atomic_moto_updates):
    """`atomic_moto_updates`: a job's finished groups are an ADD to a set, atomic in DynamoDB."""

    def build(**overrides: object) -> JobsHarness:
        return JobsHarness(moto_endpoint, jobs_table, jobs_queue, **overrides)

    return build


@pytest.fixture
def gemini_harness(harness, fake_gemini):
    def build(**overrides: object) -> JobsHarness:
        return harness(
            ai_provider="gemini",
            gemini_api_key=fake_gemini.api_key,
            gemini_base_url=fake_gemini.base_url,
            resilience_custom_config='{"retry_attempts": 1}',
            **overrides,
        )

    return build


def items(count: int, operation: str | None = None) -> list[dict]:
    return [{"text": f"Item {i}. {TEXT}", "operation": operation or OPERATIONS[i % 3]} for i in range(count)]


def test_thousand_item_job_completes_with_every_item_recorded_exactly_once(harness):
    jobs = harness()
    requests = items(1000)
    submitted = jobs.submit(requests)
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert (job["status"], job["total_requests"]) == ("queued", 1000)
    assert submitted.headers["location"] == f"{JOBS}/{job['job_id']}"
    assert jobs.queue.count() == 100  # groups of 10 items per message

    drained = jobs.poller().drain()
    assert (drained.received, drained.failed) == (100, 0)

    status = jobs.status(job["job_id"], limit=1).json()
    assert status.get("status") == "completed", status
    counts = (status["completed"], status["failed"], status["cancelled"], status["pending"])
    assert counts == (1000, 0, 0, 0)
    indices, token = [], None
    while True:
        page = jobs.status(job["job_id"], limit=400, **({"next_token": token} if token else {})).json()
        for result in page["results"]:
            assert result["status"] == "completed"
            assert result["response"]["operation"] == requests[result["request_index"]]["operation"]
        indices += [result["request_index"] for result in page["results"]]
        token = page["next_token"]
        if token is None:
            break
    assert indices == list(range(1000))
    rows = jobs.rows(job["job_id"])
    assert sum(row["sk"]["S"].startswith("item#") for row in rows) == 1000
    assert sum(row["sk"]["S"].startswith("group#") for row in rows) == 100
    assert jobs.queue.count() == jobs.queue.count(jobs.queue.dead_letter_url) == 0


def test_a_duplicated_delivery_records_nothing_twice_and_calls_no_ai(gemini_harness, fake_gemini):
    jobs = gemini_harness()
    job_id = jobs.submit(items(12, "summarize")).json()["job_id"]
    poller = jobs.poller()
    first = poller.receive()
    duplicate = poller.receive()  # visibility 0: SQS hands out the same messages again
    assert sorted(m["Body"] for m in first) == sorted(m["Body"] for m in duplicate)
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in duplicate} == {"2"}

    assert poller.deliver(first).failed == 0
    assert fake_gemini.request_count == 12
    rows = jobs.rows(job_id)
    assert poller.deliver(duplicate).failed == 0
    assert fake_gemini.request_count == 12
    assert jobs.rows(job_id) == rows  # not one row written again
    status = jobs.status(job_id).json()
    assert (status["status"], status["completed"], status["pending"]) == ("completed", 12, 0)


def test_a_redelivered_message_runs_only_its_unrecorded_items(gemini_harness, fake_gemini):
    jobs = gemini_harness(job_retry_base_seconds=30)
    fake_gemini.enqueue(Reply(text="A short summary."), Fail(503), Fail(503))
    job_id = jobs.submit(items(3, "summarize")).json()["job_id"]
    poller = jobs.poller()
    [message] = poller.receive()
    assert poller.deliver([message]).failed == 1
    # Backed off by ChangeMessageVisibility: the queue's own visibility timeout here is 0.
    attributes = jobs.queue.client.get_queue_attributes(QueueUrl=jobs.queue.url, AttributeNames=["All"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
    status = jobs.status(job_id).json()
    assert (status["status"], status["completed"], status["pending"]) == ("running", 0, 3)
    assert len(status["results"]) == 1  # recorded as soon as it was final

    jobs.queue.client.change_message_visibility(
        QueueUrl=jobs.queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )  # time passes
    [again] = poller.receive()
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert poller.deliver([again]).failed == 0
    assert fake_gemini.request_count == 3 + 2
    status = jobs.status(job_id).json()
    assert (status["status"], status["completed"], status["failed"], status["pending"]) == (
        "completed",
        3,
        0,
        0,
    )


def test_items_still_failing_on_the_last_receive_fail_with_a_reason_instead_of_dead_lettering(
    gemini_harness, fake_gemini
):
    jobs = gemini_harness()
    fake_gemini.default = Fail(503)
    job_id = jobs.submit(items(3, "summarize")).json()["job_id"]
    poller = jobs.poller()
    for receive in range(1, JobsQueue.MAX_RECEIVE_COUNT):
        [message] = poller.receive()
        assert message["Attributes"]["ApproximateReceiveCount"] == str(receive)
        assert poller.deliver([message]).failed == 1
        assert jobs.status(job_id).json()["pending"] == 3
    [last] = poller.receive()
    assert poller.deliver([last]).failed == 0

    status = jobs.status(job_id).json()
    assert (status["status"], status["failed"], status["pending"]) == ("completed_with_errors", 3, 0)
    for result in status["results"]:
        assert result["error_code"] == "SERVICE_UNAVAILABLE"
        assert f"over {JobsQueue.MAX_RECEIVE_COUNT} attempts" in result["error"]
    assert jobs.queue.count() == jobs.queue.count(jobs.queue.dead_letter_url) == 0


def test_a_poison_message_fails_every_delivery_and_ends_in_the_dead_letter_queue(harness):
    jobs = harness()
    jobs.queue.client.send_message(QueueUrl=jobs.queue.url, MessageBody='{"not": "a job message"}')
    poller = jobs.poller()
    for _ in range(JobsQueue.MAX_RECEIVE_COUNT):
        result = poller.deliver(poller.receive())
        assert (result.received, result.failed) == (1, 1)
    assert poller.receive() == []
    assert jobs.queue.count(jobs.queue.dead_letter_url) == 1


def test_cancel_mid_way_never_runs_the_items_not_started(gemini_harness, fake_gemini):
    jobs = gemini_harness()
    job_id = jobs.submit(items(30, "summarize")).json()["job_id"]
    poller = jobs.poller(batch_size=1)
    poller.deliver(poller.receive())
    assert fake_gemini.request_count == 10

    cancelled = jobs.api.request("DELETE", f"{JOBS}/{job_id}", headers=AUTH)
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert (body["status"], body["completed"], body["pending"]) == ("cancelled", 10, 20)

    assert poller.drain().failed == 0
    assert fake_gemini.request_count == 10
    status = jobs.status(job_id).json()
    counts = (status["completed"], status["failed"], status["cancelled"], status["pending"])
    assert (status["status"], counts) == ("cancelled", (10, 0, 20, 0))
    assert [r["request_index"] for r in status["results"]] == list(range(10))
    again = jobs.api.request("DELETE", f"{JOBS}/{job_id}", headers=AUTH).json()
    assert (again["status"], again["cancelled"]) == ("cancelled", 20)


def test_a_job_is_visible_only_to_the_key_that_created_it(harness):
    jobs = harness()
    job_id = jobs.submit(items(2)).json()["job_id"]
    other = {"X-API-Key": SECOND_PUBLIC_KEY}
    for method in ("GET", "DELETE"):
        response = jobs.api.request(method, f"{JOBS}/{job_id}", headers=other)
        assert response.status_code == 404
        assert_error_shape(response.json(), "NOT_FOUND")
    assert jobs.status(job_id).json()["status"] == "queued"  # the owner's job is untouched
    assert jobs.status("job_" + "0" * 32).status_code == 404
    assert jobs.status("not-a-job-id").status_code == 404


def test_an_idempotent_submission_returns_the_same_job_and_queues_nothing_more(harness):
    jobs = harness()
    requests = items(15)
    first = jobs.submit(requests, headers={"Idempotency-Key": "nightly-2026-11-28"})
    assert first.status_code == 202
    assert jobs.queue.count() == 2
    again = jobs.submit(requests, headers={"Idempotency-Key": "nightly-2026-11-28"})
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert jobs.queue.count() == 2

    different = jobs.submit(items(3), headers={"Idempotency-Key": "nightly-2026-11-28"})
    assert different.status_code == 422
    assert_error_shape(different.json(), "IDEMPOTENCY_KEY_REUSED")
    other_key = jobs.submit(
        requests, headers={"Idempotency-Key": "nightly-2026-11-28", "X-API-Key": SECOND_PUBLIC_KEY}
    )
    assert other_key.status_code == 202  # records are per API key
    assert other_key.json()["job_id"] != first.json()["job_id"]
