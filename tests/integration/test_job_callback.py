"""The job callback: a Standard Webhooks message, delivered to a local HTTPS receiver (trusted through the
test CA, never with verification off) and verified exactly as a receiver would, with the `standardwebhooks`
package and the key's own secret; the deployment's secret is read from an SSM SecureString (moto); the URL
is vetted again at send time."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import boto3
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from fakes.api_clients import LambdaClient
from fakes.api_contract import PUBLIC_KEY, SECOND_PUBLIC_KEY
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
from textapi_shared.security.webhooks import CallbackSecrets, key_secret
from textapi_shared.tenancy.records import KeyRecord

DEPLOYMENT_SECRET = "deployment-callback-secret-5f2b9c"
OWNER = "3f2a9c1b5d7e8f90"  # a static key's hash, as a job records its owner


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
    ssm.put_parameter(Name=name, Value=DEPLOYMENT_SECRET, Type="SecureString")
    return name


def test_a_finished_job_calls_back_a_standard_webhook_only_its_keys_secret_verifies(
    certificate, receiver, secret_parameter, moto_endpoint, jobs_table, jobs_queue, atomic_moto_updates
):
    values = {
        "stage": "dev",
        "api_key": PUBLIC_KEY,
        "additional_api_keys": [SECOND_PUBLIC_KEY],
        "jobs_backend": "sqs",
        "jobs_queue_url": jobs_queue.url,
        "jobs_table_name": jobs_table,
        "aws_endpoint_url": moto_endpoint,
        "job_callback_secret_ssm_parameter": secret_parameter,
        "job_callback_allow_loopback": True,
        "job_callback_ca_file": str(certificate.ca_file),
    }
    api = LambdaClient(create_app(PublicApiSettings(**values)))
    text = "Tidal power plants are predictable but expensive to build."
    body = {
        "requests": [{"text": text, "operation": "summarize"}] * 3,
        "callback_url": receiver.url("/hooks/textapi?source=jobs"),
    }
    submitted = api.request(
        "POST", "/v1/text_processing/jobs", json_body=body, headers={"X-API-Key": PUBLIC_KEY}
    )
    assert submitted.status_code == 202, submitted.text
    worker = create_worker(PublicApiSettings(**values, service_name="textapi-public-worker"))
    SqsPoller(jobs_queue.client, jobs_queue.url, worker).drain()

    secrets = {
        key: api.request("GET", "/v1/text_processing/jobs/callback-secret", headers={"X-API-Key": key})
        for key in (PUBLIC_KEY, SECOND_PUBLIC_KEY)
    }
    assert {response.status_code for response in secrets.values()} == {200}
    mine, theirs = (secrets[key].json()["secret"] for key in (PUBLIC_KEY, SECOND_PUBLIC_KEY))
    assert mine.startswith("whsec_")
    assert mine != theirs
    assert DEPLOYMENT_SECRET not in mine

    [delivered] = receiver.requests
    assert (delivered.method, delivered.path) == ("POST", "/hooks/textapi?source=jobs")
    payload = Webhook(mine).verify(delivered.body, delivered.headers)  # as the receiver does
    with pytest.raises(WebhookVerificationError):
        Webhook(theirs).verify(
            delivered.body, delivered.headers
        )  # another tenant can neither verify nor forge
    job_id = submitted.json()["job_id"]
    assert delivered.headers["webhook-id"] == f"msg_{job_id}"
    assert delivered.headers["content-type"] == "application/json"
    assert (
        delivered.headers["host"] == f"localhost:{receiver.url('').rsplit(':', 1)[1]}"
    )  # the name, not the IP
    billed = payload.pop("tokens_billed")
    assert billed > 0  # the offline provider reports its own estimate
    assert payload == {
        "type": "job.finished",
        "job_id": job_id,
        "batch_id": submitted.json()["batch_id"],
        "status": "completed",
        "total_requests": 3,
        "completed": 3,
        "failed": 0,
        "cancelled": 0,
        "tokens_saved": 2 * billed,  # three equal items: one AI call, two answers from the cache
    }


def _no_record(owner: str):
    async def find(subject: str) -> KeyRecord | None:
        return None

    return find


def sender(
    certificate, *, records=None, retry_base_s: float = 0.05, clock=time.time, **overrides
) -> CallbackSender:
    settings = PublicApiSettings(
        job_callback_secret=DEPLOYMENT_SECRET,
        job_callback_allow_loopback=True,
        job_callback_ca_file=str(certificate.ca_file),
        job_callback_timeout_seconds=2,
        **overrides,
    )
    return CallbackSender(
        settings,
        observability=build_observability(settings),
        secrets=CallbackSecrets(lambda: DEPLOYMENT_SECRET),
        records=records or _no_record(OWNER),
        retry_base_s=retry_base_s,
        clock=clock,
    )


def finished_job(url: str, owner: str = OWNER) -> tuple[JobRecord, JobCounts]:
    job = JobRecord("job_" + "e" * 32, owner, "batch", "completed_with_errors", 3, 1, 1.0, 2.0, 9e9, url, 2.0)
    return job, JobCounts(2, 1, 0, 0, 2.0, tokens_billed=120, tokens_saved=40)


def test_a_refused_answer_is_retried_under_the_same_id_signed_anew_each_time(certificate, receiver):
    receiver.statuses.extend([503, 500])
    job, counts = finished_job(receiver.url("/hook", host="127.0.0.1"))
    assert run(sender(certificate, retry_base_s=0.6).send(job, counts, deadline=Deadline.after(10)))
    attempts = receiver.requests
    assert len(attempts) == 3
    assert {attempt.headers["webhook-id"] for attempt in attempts} == {f"msg_{job.job_id}"}
    assert len({attempt.headers["webhook-timestamp"] for attempt in attempts}) >= 2  # 1.8 s of back-off
    receiving = Webhook(key_secret(DEPLOYMENT_SECRET, OWNER))
    for attempt in attempts:  # each attempt verifies under its own timestamp
        assert receiving.verify(attempt.body, attempt.headers)["tokens_billed"] == 120


def test_a_callback_older_than_the_receivers_tolerance_is_rejected(certificate, receiver):
    """A captured callback replayed later fails: the timestamp is signed, and the library allows five
    minutes."""
    job, counts = finished_job(receiver.url("/hook", host="127.0.0.1"))
    late = sender(certificate, clock=lambda: time.time() - 6 * 60)
    assert run(late.send(job, counts, deadline=Deadline.after(10)))
    [replayed] = receiver.requests
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(key_secret(DEPLOYMENT_SECRET, OWNER)).verify(replayed.body, replayed.headers)


def test_during_a_rotations_overlap_both_secrets_verify_and_after_it_only_the_new(certificate, receiver):
    now = time.time()
    rotated = KeyRecord(
        key_id="key_" + "1" * 16,
        name="tenant",
        created_at=now - 100,
        updated_at=now,
        secret_hash="0" * 64,
        previous_secret_hash="1" * 64,
        previous_valid_until=now + 600,
        secret_generation=1,
    )
    current = {"record": rotated}

    async def find(subject: str) -> KeyRecord | None:
        return current["record"] if subject == rotated.key_id else None

    old, new = (key_secret(DEPLOYMENT_SECRET, rotated.key_id, generation) for generation in (0, 1))
    job, counts = finished_job(receiver.url("/hook", host="127.0.0.1"), owner=rotated.key_id)
    assert run(sender(certificate, records=find).send(job, counts, deadline=Deadline.after(10)))
    current["record"] = replace(rotated, previous_valid_until=now - 1)
    assert run(sender(certificate, records=find).send(job, counts, deadline=Deadline.after(10)))
    during, after = receiver.requests
    for secret in (old, new):
        Webhook(secret).verify(during.body, during.headers)
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)


def test_an_undeliverable_callback_gives_up_without_raising(certificate, receiver):
    receiver.statuses.extend([500] * 5)
    job, counts = finished_job(receiver.url("/hook"))
    assert not run(
        sender(certificate, job_callback_attempts=2).send(job, counts, deadline=Deadline.after(10))
    )
    assert len(receiver.requests) == 2


def test_without_the_test_ca_the_receiver_is_not_trusted(certificate, receiver):
    settings = PublicApiSettings(
        job_callback_secret=DEPLOYMENT_SECRET, job_callback_allow_loopback=True, job_callback_attempts=1
    )
    untrusting = CallbackSender(
        settings,
        observability=build_observability(settings),
        secrets=CallbackSecrets(lambda: DEPLOYMENT_SECRET),
        records=_no_record(OWNER),
    )
    job, counts = finished_job(receiver.url("/hook"))
    assert not run(untrusting.send(job, counts, deadline=Deadline.after(10)))
    assert receiver.requests == []  # the TLS handshake failed: nothing was sent


def test_the_url_is_vetted_again_at_send_time(certificate, receiver):
    """A name that resolved to a public address at submission may resolve inward later (DNS rebinding)."""

    async def rebound(host: str, port: int) -> list[str]:
        return ["169.254.169.254"]

    settings = PublicApiSettings(
        job_callback_secret=DEPLOYMENT_SECRET, job_callback_ca_file=str(certificate.ca_file)
    )
    rebinding = CallbackSender(
        settings,
        observability=build_observability(settings),
        secrets=CallbackSecrets(lambda: DEPLOYMENT_SECRET),
        records=_no_record(OWNER),
        resolve=rebound,
    )
    job, counts = finished_job("https://hooks.example.test/done")
    assert not run(rebinding.send(job, counts, deadline=Deadline.after(10)))
    assert receiver.requests == []
