"""The job callback: delivered to a local HTTPS receiver (trusted through the test CA, never with
verification off), signed with the secret read from an SSM SecureString (moto), vetted again at send."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import boto3
import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import PUBLIC_KEY
from fakes.https_receiver import HttpsReceiver
from fakes.loops import run
from fakes.sqs_events import SqsPoller
from fakes.tls import issue_certificates
from public_api.config import PublicApiSettings
from public_api.job_consumer import create_worker
from public_api.main import create_app
from public_api.services.jobs.callback import CallbackSender
from public_api.services.jobs.records import JobCounts, JobRecord
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.resilience.deadline import Deadline

SECRET = "whsec-test-5f2b9c"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return issue_certificates(tmp_path_factory.mktemp("callback-tls"))


@pytest.fixture
def receiver(certificate):
    with HttpsReceiver(certificate) as server:
        yield server


@pytest.fixture
def secret_parameter(moto_endpoint):
    name = f"/textapi/test/job-callback-secret-{uuid.uuid4().hex[:8]}"
    ssm = boto3.client("ssm", endpoint_url=moto_endpoint, region_name="us-east-1")
    ssm.put_parameter(Name=name, Value=SECRET, Type="SecureString")
    return name


def expected_signature(body: bytes) -> str:
    """What a receiver computes: the README's verification snippet does exactly this."""
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_a_finished_job_calls_back_signed_over_tls_to_the_vetted_address(
    certificate, receiver, secret_parameter, moto_endpoint, jobs_table, jobs_queue, atomic_moto_updates
):
    values = {
        "stage": "dev",
        "api_key": PUBLIC_KEY,
        "jobs_backend": "sqs",
        "jobs_queue_url": jobs_queue.url,
        "jobs_table_name": jobs_table,
        "aws_endpoint_url": moto_endpoint,
        "job_callback_secret_ssm_parameter": secret_parameter,
        "job_callback_allow_loopback": True,
        "job_callback_ca_file": str(certificate.ca_file),
    }
    api = LambdaClient(create_app(PublicApiSettings(**values)))
    body = {
        "requests": [
            {"text": "Tidal power plants are predictable but expensive to build.", "operation": "summarize"}
        ]
        * 3,
        "callback_url": receiver.url("/hooks/textapi?source=jobs"),
    }
    submitted = api.request(
        "POST", "/v1/text_processing/jobs", json_body=body, headers={"X-API-Key": PUBLIC_KEY}
    )
    assert submitted.status_code == 202, submitted.text
    worker = create_worker(PublicApiSettings(**values, service_name="textapi-public-worker"))
    SqsPoller(jobs_queue.client, jobs_queue.url, worker).drain()

    [delivered] = receiver.requests
    assert (delivered.method, delivered.path) == ("POST", "/hooks/textapi?source=jobs")
    assert delivered.headers["x-textapi-signature"] == expected_signature(delivered.body)
    assert delivered.headers["content-type"] == "application/json"
    assert (
        delivered.headers["host"] == f"localhost:{receiver.url('').rsplit(':', 1)[1]}"
    )  # the name, not the IP
    assert json.loads(delivered.body) == {
        "job_id": submitted.json()["job_id"],
        "status": "completed",
        "completed": 3,
        "failed": 0,
    }


def sender(certificate, **overrides: object) -> CallbackSender:
    settings = PublicApiSettings(
        job_callback_secret=SECRET,
        job_callback_allow_loopback=True,
        job_callback_ca_file=str(certificate.ca_file),
        job_callback_timeout_seconds=2,
        **overrides,
    )
    return CallbackSender(
        settings, observability=build_observability(settings), secret=lambda: SECRET, retry_base_s=0.05
    )


def finished_job(url: str) -> tuple[JobRecord, JobCounts]:
    job = JobRecord(
        "job_" + "e" * 32, "owner", "batch", "completed_with_errors", 3, 1, 1.0, 2.0, 9e9, url, 2.0
    )
    return job, JobCounts(completed=2, failed=1, cancelled=0, pending=0, updated_at=2.0)


def test_a_refused_answer_is_retried_with_back_off(certificate, receiver):
    receiver.statuses.extend([503, 500])
    job, counts = finished_job(receiver.url("/hook", host="127.0.0.1"))
    assert run(sender(certificate).send(job, counts, deadline=Deadline.after(10)))
    assert len(receiver.requests) == 3
    assert len({request.headers["x-textapi-signature"] for request in receiver.requests}) == 1


def test_an_undeliverable_callback_gives_up_without_raising(certificate, receiver):
    receiver.statuses.extend([500] * 5)
    job, counts = finished_job(receiver.url("/hook"))
    assert not run(
        sender(certificate, job_callback_attempts=2).send(job, counts, deadline=Deadline.after(10))
    )
    assert len(receiver.requests) == 2


def test_without_the_test_ca_the_receiver_is_not_trusted(certificate, receiver):
    settings = PublicApiSettings(
        job_callback_secret=SECRET, job_callback_allow_loopback=True, job_callback_attempts=1
    )
    untrusting = CallbackSender(settings, observability=build_observability(settings), secret=lambda: SECRET)
    job, counts = finished_job(receiver.url("/hook"))
    assert not run(untrusting.send(job, counts, deadline=Deadline.after(10)))
    assert receiver.requests == []  # the TLS handshake failed: nothing was sent


def test_the_url_is_vetted_again_at_send_time(certificate, receiver):
    """A name that resolved to a public address at submission may resolve inward later (DNS rebinding)."""

    async def rebound(host: str, port: int) -> list[str]:
        return ["169.254.169.254"]

    settings = PublicApiSettings(job_callback_secret=SECRET, job_callback_ca_file=str(certificate.ca_file))
    rebinding = CallbackSender(
        settings, observability=build_observability(settings), secret=lambda: SECRET, resolve=rebound
    )
    job, counts = finished_job("https://hooks.example.test/done")
    assert not run(rebinding.send(job, counts, deadline=Deadline.after(10)))
    assert receiver.requests == []
