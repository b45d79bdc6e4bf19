"""Redacted jobs as AWS runs them: submitted through the public function's `lambda_handler`, run by the
worker function's handler on SQS events from moto, recorded in the DynamoDB jobs table. The job rows,
the cache and keys tables, the log records and stdout hold no original value; the results carry the
placeholders (the service keeps no copy of the values), and the queue keeps no message once the job is
done."""

from __future__ import annotations

import json
import uuid

import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY
from fakes.gemini_server import Computed, Fail
from fakes.pii_texts import echo_placeholders, leaks, pii_sample, placeholders_in, stored_text
from fakes.sqs_events import JobsQueue, SqsPoller
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from public_api.config import PublicApiSettings
from public_api.job_consumer import create_worker
from public_api.main import create_app
from textapi_shared.privacy.redaction import PLACEHOLDER

pytestmark = pytest.mark.slow  # SQS and DynamoDB on a moto server

JOBS = "/v1/text_processing/jobs"
OPERATIONS = ("summarize", "sentiment", "key_points", "questions", "qa")


def test_a_redacted_job_run_by_the_worker_keeps_placeholders_and_no_value(
    moto_endpoint,
    jobs_table,
    jobs_queue,
    cache_table,
    keys_table,
    fake_gemini,
    atomic_moto_updates,
    caplog,
    capsys,
):
    keys_table_name, dynamodb = keys_table
    values = {
        "stage": "dev",
        "api_key": PUBLIC_KEY,
        "internal_api_keys": [ADMIN_KEY],
        "aws_endpoint_url": moto_endpoint,
        "cache_backend": "dynamodb",
        "cache_table_name": cache_table,
        "keys_backend": "dynamodb",
        "keys_table_name": keys_table_name,
        "jobs_backend": "sqs",
        "jobs_queue_url": jobs_queue.url,
        "jobs_table_name": jobs_table,
        "job_max_receive_count": JobsQueue.MAX_RECEIVE_COUNT,
        "job_retry_base_seconds": 0,
        "ai_provider": "gemini",
        "gemini_api_key": fake_gemini.api_key,
        "gemini_base_url": fake_gemini.base_url,
        "resilience_custom_config": '{"retry_attempts": 1}',
    }
    for logger in (
        "textapi-public",
        "textapi-public-worker",
        None,
    ):  # LOG_LEVEL=DEBUG, as the template allows
        caplog.set_level("DEBUG", logger=logger)
    fake_gemini.default = Computed(echo_placeholders)
    api = LambdaClient(create_app(PublicApiSettings(**values)))
    worker = create_worker(PublicApiSettings(**{**values, "service_name": "textapi-public-worker"}))
    internal_values = {k: v for k, v in values.items() if k in InternalApiSettings.model_fields}
    internal = LambdaClient(create_internal_app(InternalApiSettings(**internal_values)))
    created = internal.request(
        "POST",
        "/internal/keys",
        json_body={"name": "Redacting tenant", "pii": "redact"},
        headers={"X-API-Key": ADMIN_KEY},
    )
    assert created.status_code == 201, created.text
    record_key = created.json()["api_key"]

    sample = pii_sample()
    run = uuid.uuid4().hex

    def job_items(who: str, options: dict) -> list[dict]:
        items = []
        for operation in OPERATIONS:
            item = {"text": sample.text(f"{run} {who} {operation}"), "operation": operation}
            if operation == "qa":
                item["question"] = f"Which refund goes to {sample.values['email']}?"
            if options:
                item["options"] = options
            items.append(item)
        return items

    submitted = {
        "per request": (PUBLIC_KEY, job_items("per request", {"pii": "redact"})),
        "per key": (record_key, job_items("per key", {})),  # the worker reads the key's record
    }
    job_ids = {}
    for who, (key, items) in submitted.items():
        answer = api.request("POST", JOBS, json_body={"requests": items}, headers={"X-API-Key": key})
        assert answer.status_code == 202, answer.text
        job_ids[who] = answer.json()["job_id"]
    fake_gemini.enqueue(Fail(503))  # one item fails transiently: its message comes back and runs again

    drained = SqsPoller(jobs_queue.client, jobs_queue.url, worker).drain()
    assert drained.failed == 1
    assert jobs_queue.count() == jobs_queue.count(jobs_queue.dead_letter_url) == 0  # no message kept

    originals = sample.originals()
    for who, job_id in job_ids.items():
        key = submitted[who][0]
        status = api.request("GET", f"{JOBS}/{job_id}", headers={"X-API-Key": key}).json()
        assert (status["status"], status["completed"]) == ("completed", len(OPERATIONS)), status
        for result in status["results"]:
            response = result["response"]
            assert PLACEHOLDER.search(json.dumps(response)) is not None, response
            assert leaks(json.dumps(response), originals) == [], who
            assert response["metadata"]["pii_redacted"]["EMAIL"] == (
                2 if response["operation"] == "qa" else 1
            )

    assert all(placeholders_in(request.body) for request in fake_gemini.requests)
    assert [
        leaks(json.dumps(r.body), originals)
        for r in fake_gemini.requests
        if leaks(json.dumps(r.body), originals)
    ] == []
    rows = stored_text(
        page["Items"]
        for table in (jobs_table, cache_table, keys_table_name)
        for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    )
    assert "[EMAIL_1]" in rows  # the item rows were read
    assert leaks(rows, originals) == []
    printed = capsys.readouterr().out
    assert '"PiiRedacted"' in printed
    assert leaks(printed, originals) == []
    logged = "\n".join(json.dumps(record.__dict__, default=str) for record in caplog.records)
    assert "job finished" in logged
    assert leaks(logged, originals) == []
