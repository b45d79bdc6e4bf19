"""The deployments the artifact tests drive, each run once per session: what they saw is asserted by the
scenario tests, and the AWS calls they made are checked against the template's roles."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from artifact.stack import deploy_stack
from artifact.tenant_scenario import KEY_CACHE_SECONDS, run_tenant
from fakes.gemini_server import Computed, Fail, Reply
from fakes.https_receiver import HttpsReceiver
from fakes.pii_texts import echo_placeholders, pii_sample, stored_text
from fakes.sqs_events import sqs_event
from fakes.tls import issue_certificates

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from artifact.stack import Stack
    from fakes.gemini_server import FakeGeminiServer
    from fakes.redis_cluster import RedisClusterProcess

TEXT = "A regional airline added four routes to coastal towns and retired its oldest turboprop aircraft."
REPLIES = {
    "summarize": Reply(text="The airline added four coastal routes and retired old aircraft."),
    "sentiment": Reply(json={"sentiment": "neutral", "confidence": 0.7, "explanation": "Plain news."}),
    "key_points": Reply(json={"key_points": ["Four new routes", "Old turboprops retired"]}),
    "questions": Reply(json={"questions": ["Which towns get the new routes?"]}),
    "qa": Reply(text="Four routes."),
}
# The breaker opens at the first failure and lets a probe through after 10 s (the least allowed).
CUSTOM = {"retry_attempts": 1, "circuit_breaker_threshold": 1, "recovery_timeout": 10}


def _process(instance: Any, auth: dict[str, str], text: str, operation: str = "summarize") -> Any:
    body: dict[str, Any] = {"text": text, "operation": operation}
    if operation == "qa":
        body["question"] = "How many routes?"
    return instance.request("POST", "/v1/text_processing/process", json_body=body, headers=auth)


def _every_operation_and_a_batch(public: Any, auth: dict[str, str], gemini: FakeGeminiServer) -> dict:
    seen: dict[str, Any] = {}
    for operation, reply in REPLIES.items():
        gemini.enqueue(reply)
        seen[operation] = _process(public, auth, TEXT, operation)
    seen["batch"] = public.request(
        "POST",
        "/v1/text_processing/batch_process",
        json_body={"requests": [{"text": f"{TEXT} Note {i}.", "operation": "summarize"} for i in range(3)]},
        headers=auth,
    )
    seen["repeat"] = _process(public, auth, TEXT)
    seen["upstream"] = gemini.request_count
    return seen


def run_redis_scenario(
    launch: Callable, moto_endpoint: str, gemini: FakeGeminiServer, cluster: RedisClusterProcess
) -> dict:
    """CacheBackend=redis on the kind of server ElastiCache Serverless is: cluster mode, TLS only. The
    template's own REDIS_URL (rediss://<endpoint>:<port>) and REDIS_CLUSTER_MODE (on) point at a local
    three-primary TLS cluster; the cache, counters and statistics must be in it."""
    gemini.reset()
    stack = deploy_stack(
        "redis", moto_endpoint, {"Stage": "dev", "CacheBackend": "redis"}, gemini_api_key=gemini.api_key
    )
    endpoint = {"RedisCache.Endpoint.Address": "127.0.0.1", "RedisCache.Endpoint.Port": str(cluster.ports[0])}
    # ElastiCache's certificate is publicly trusted; the local cluster's CA has to be named.
    trust = {"REDIS_TLS_CA_FILE": cluster.ca_file, "REDIS_CONNECT_TIMEOUT": "2", "REDIS_SOCKET_TIMEOUT": "2"}
    public = launch(stack, "PublicApiFunction", trust, attributes=endpoint)
    internal = launch(stack, "InternalApiFunction", trust, attributes=endpoint)
    seen: dict[str, Any] = {"environment": public.environment}
    auth, admin = {"X-API-Key": stack.public_key}, {"X-API-Key": stack.admin_key}

    seen.update(_every_operation_and_a_batch(public, auth, gemini))
    # A transient failure retried (tenacity loads on the first retry, so only a retry proves it is there).
    gemini.enqueue(Fail(503), REPLIES["summarize"])
    seen["retried"] = _process(public, auth, f"{TEXT} Retried.")
    seen["upstream_after_retry"] = gemini.request_count
    seen["cache_status"] = internal.request("GET", "/internal/cache/status", headers=admin)
    inspector = cluster.client()
    try:
        seen["entries"] = list(inspector.scan_iter(match="textapi:v1:*", count=1000))
    finally:
        inspector.close()
    seen["monitoring_metrics"] = internal.request("GET", "/internal/monitoring/metrics", headers=admin)
    seen["health"] = internal.request("GET", "/internal/monitoring/health", headers=admin)
    seen["silent_failures"] = public.silent_failures() + internal.silent_failures()
    return seen


class _EventSourceMapping:
    """What Lambda's SQS event source mapping does for the worker: receive, invoke, delete what the
    function did not report failed. Its calls are made with the worker's role, so they are recorded as
    the worker's (the IAM check must allow them)."""

    def __init__(self, stack: Stack, worker: Any) -> None:
        self._sqs = stack.clients["sqs"]
        self._url = stack.resources["JobsQueue"]
        self._arn = stack.attributes["JobsQueue.Arn"]
        self._worker = worker

    def _record(self, action: str) -> None:
        with open(self._worker.calls_path, "a", encoding="utf-8") as calls:
            calls.write(json.dumps({"action": action, "resources": [self._url], "by": "event source"}) + "\n")

    def receive(self) -> list[dict[str, Any]]:
        self._record("sqs:GetQueueAttributes")
        self._record("sqs:ReceiveMessage")
        return self._sqs.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=5, AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])

    def deliver(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        response = self._worker.invoke(sqs_event(messages, self._arn), timeout_ms=120_000)
        failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                self._record("sqs:DeleteMessage")
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        return response

    def make_visible(self, message: dict[str, Any]) -> None:
        """Skip the back-off the worker set (the test cannot wait its 30 s); not a call of the worker's."""
        self._sqs.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )


def run_dynamodb_scenario(
    launch: Callable, moto_endpoint: str, gemini: FakeGeminiServer, workspace: Path
) -> dict:
    """CacheBackend=dynamodb (the default), driven through every path whose AWS calls the roles allow:
    the three functions, a job whose item meets an outage in the worker and is retried after the
    breaker's recovery (the worker's probe closes it), its signed callback, cancellation, a tenant's key
    record and budget."""
    gemini.reset()
    stack = deploy_stack(
        "dynamodb", moto_endpoint, {"Stage": "dev", "CacheBackend": "dynamodb"}, gemini_api_key=gemini.api_key
    )
    certificate = issue_certificates(workspace / "callback-tls")
    # Configuration changes reach every instance within RESILIENCE_CONFIG_MAX_AGE: one second here. The
    # callback receiver is on loopback, trusted through the test CA (dev stage only).
    fast = {
        "RESILIENCE_CONFIG_MAX_AGE": "1",
        "KEY_CACHE_SECONDS": str(KEY_CACHE_SECONDS),
        "JOB_CALLBACK_ALLOW_LOOPBACK": "true",
    }
    public, internal = launch(stack, "PublicApiFunction", fast), launch(stack, "InternalApiFunction", fast)
    worker = launch(
        stack, "PublicApiWorkerFunction", {**fast, "JOB_CALLBACK_CA_FILE": str(certificate.ca_file)}
    )
    mapping = _EventSourceMapping(stack, worker)
    auth, admin = {"X-API-Key": stack.public_key}, {"X-API-Key": stack.admin_key}

    seen = _every_operation_and_a_batch(public, auth, gemini)
    seen["cache_status"] = internal.request("GET", "/internal/cache/status", headers=admin)
    seen["items"] = stack.clients["dynamodb"].scan(TableName=stack.table)["Items"]

    seen["put_preset"] = internal.request(
        "PUT", "/internal/resilience/config/active", json_body={"preset": "development"}, headers=admin
    )
    seen["put_config"] = internal.request(
        "PUT", "/internal/resilience/config/active", json_body={"custom_config": CUSTOM}, headers=admin
    )
    parameter = stack.resolver().resolve({"Ref": "ResilienceCustomConfigParameter"})
    seen["ssm_custom_config"] = stack.clients["ssm"].get_parameter(Name=parameter)["Parameter"]["Value"]
    time.sleep(1.2)  # past the functions' cache age for the configuration

    gemini.enqueue(Fail(503))
    # With an Idempotency-Key: a 5xx releases the key (kept only for final 2xx/4xx answers).
    seen["failing"] = _process(public, {**auth, "Idempotency-Key": "outage-one"}, f"{TEXT} Outage one.")
    seen["rejected"] = _process(public, auth, f"{TEXT} Outage two.")
    seen["upstream_after_outage"] = gemini.request_count
    seen["breaker_seen_by_internal"] = internal.request(
        "GET", "/internal/resilience/circuit-breakers/summarize", headers=admin
    )

    with HttpsReceiver(certificate) as receiver:
        item = {"text": f"{TEXT} Queued.", "operation": "summarize"}
        seen["job"] = public.request(
            "POST",
            "/v1/text_processing/jobs",
            json_body={"requests": [item], "callback_url": receiver.url("/hooks/textapi")},
            headers=auth,
        )
        gemini.enqueue(Fail(503))  # the worker meets the outage too: the message comes back later
        [message] = mapping.receive()
        seen["first_delivery"] = mapping.deliver([message])
        time.sleep(CUSTOM["recovery_timeout"] + 0.2)  # the breaker's recovery: the retry is the probe
        mapping.make_visible(message)
        redelivered = mapping.receive()
        seen["redelivered_receive_count"] = [m["Attributes"]["ApproximateReceiveCount"] for m in redelivered]
        seen["second_delivery"] = mapping.deliver(redelivered)
        job_id = seen["job"].json()["job_id"]
        seen["job_status"] = public.request("GET", f"/v1/text_processing/jobs/{job_id}", headers=auth)
        seen["callbacks"] = list(receiver.requests)
    seen["callback_secret"] = public.request("GET", "/v1/text_processing/jobs/callback-secret", headers=auth)
    seen["probe"] = _process(public, auth, f"{TEXT} Recovered.")
    cancelled = public.request(
        "POST", "/v1/text_processing/jobs", json_body={"requests": [item, item]}, headers=auth
    )
    seen["cancel"] = public.request(
        "DELETE", f"/v1/text_processing/jobs/{cancelled.json()['job_id']}", headers=auth
    )

    seen["reset_breaker"] = internal.request(
        "POST", "/internal/resilience/circuit-breakers/summarize/reset", headers=admin
    )
    seen["invalidate_operation"] = internal.request(
        "POST", "/internal/cache/invalidate", json_body={"operation": "qa"}, headers=admin
    )
    seen["invalidate_pattern"] = internal.request(
        "POST", "/internal/cache/invalidate", json_body={"pattern": "textapi:v1:sentiment:*"}, headers=admin
    )
    seen["resilience_metrics"] = internal.request("GET", "/internal/resilience/metrics", headers=admin)
    seen["reset_metrics"] = internal.request("POST", "/internal/resilience/metrics/reset", headers=admin)
    seen["monitoring_metrics"] = internal.request("GET", "/internal/monitoring/metrics", headers=admin)
    seen["health"] = internal.request("GET", "/internal/monitoring/health", headers=admin)
    seen["public_health"] = public.request("GET", "/v1/health")
    seen["tenant"] = run_tenant(public, internal, mapping, admin, gemini)
    seen["silent_failures"] = public.silent_failures() + internal.silent_failures() + worker.silent_failures()
    return seen


# moto's Comprehend answers every DetectPiiEntities call with one canned list, whose only NAME covers
# characters 50 to 58: the ticket puts a name there, so the name really comes from Comprehend.
NAME = "Jane Doe"
NAMED_OPENING = "Ticket 4471 opened by the account holder on file, "


def run_pii_scenario(launch: Callable, moto_endpoint: str, gemini: FakeGeminiServer) -> dict:
    """PiiDetector=comprehend (on moto's Comprehend) with CacheBackend=dynamodb and LogLevel=DEBUG: a
    redacted process, its idempotent replay and a redacted job item run by the worker; then the cache,
    jobs and keys tables, the instances' logs and the fake Gemini's log are read back for the originals."""
    gemini.reset()
    gemini.default = Computed(echo_placeholders)
    parameters = {
        "Stage": "dev",
        "CacheBackend": "dynamodb",
        "PiiDetector": "comprehend",
        "LogLevel": "DEBUG",
    }
    stack = deploy_stack("pii", moto_endpoint, parameters, gemini_api_key=gemini.api_key)
    public, worker = launch(stack, "PublicApiFunction"), launch(stack, "PublicApiWorkerFunction")
    mapping = _EventSourceMapping(stack, worker)
    auth = {"X-API-Key": stack.public_key}
    sample = pii_sample()
    text = f"{NAMED_OPENING}{NAME}. {sample.text('deployed')}"
    body = {"text": text, "operation": "summarize", "options": {"pii": "redact"}}
    seen: dict[str, Any] = {"sample": sample, "name": NAME, "text": text}

    process = "/v1/text_processing/process"
    seen["process"] = public.request(
        "POST", process, json_body=body, headers={**auth, "Idempotency-Key": "pii"}
    )
    seen["replay"] = public.request(
        "POST", process, json_body=body, headers={**auth, "Idempotency-Key": "pii"}
    )
    job = {"requests": [{**body, "operation": "key_points"}]}
    seen["job"] = public.request("POST", "/v1/text_processing/jobs", json_body=job, headers=auth)
    seen["job_delivery"] = mapping.deliver(mapping.receive())
    seen["job_status"] = public.request(
        "GET", f"/v1/text_processing/jobs/{seen['job'].json()['job_id']}", headers=auth
    )
    seen["queued_after"] = [mapping.receive()]

    dynamodb = stack.clients["dynamodb"]
    tables = (stack.table, stack.resources["JobsTable"], stack.resources["KeysTable"])
    seen["stored"] = stored_text(
        dynamodb.scan(TableName=table, ConsistentRead=True)["Items"] for table in tables
    )
    seen["logs"] = public.logs + worker.logs
    seen["sent_to_gemini"] = [request.body for request in gemini.requests]
    seen["silent_failures"] = public.silent_failures() + worker.silent_failures()
    gemini.reset()
    return seen
