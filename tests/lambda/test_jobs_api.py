"""The jobs API with the in-process backend (`JOBS_BACKEND=memory`, what `make run` serves): checks at
submission, quota, paging, cancel, and the Location header behind a named stage."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid

import boto3
import pytest
from fastapi.testclient import TestClient

from fakes.api_contract import PUBLIC_KEY, SECOND_PUBLIC_KEY, assert_error_shape
from fakes.apigw_events import build_http_event, response_json
from fakes.gemini_server import Delay, Reply
from fakes.lambda_context import FakeLambdaContext
from public_api.config import PublicApiSettings
from public_api.main import create_app
from textapi_shared.config import load_settings
from textapi_shared.errors import ConfigurationError
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.security.outbound import url_hash
from textapi_shared.web.lambda_handler import build_lambda_handler

AUTH = {"X-API-Key": PUBLIC_KEY}
JOBS = "/v1/text_processing/jobs"
TEXT = "Night trains are back in fashion: new routes connect capitals overnight and save a hotel night."


def settings(**overrides: object) -> PublicApiSettings:
    values = {"stage": "dev", "api_key": PUBLIC_KEY, "additional_api_keys": [SECOND_PUBLIC_KEY], **overrides}
    return PublicApiSettings(**values)


def items(count: int) -> list[dict]:
    return [{"text": f"{TEXT} Route {i}.", "operation": "summarize"} for i in range(count)]


@pytest.fixture
def client():
    """One TestClient session: one event loop, so the in-process worker runs between requests."""

    def build(**overrides: object) -> TestClient:
        return TestClient(create_app(settings(**overrides)), raise_server_exceptions=False)

    return build


def wait_for_end(client: TestClient, location: str, timeout_s: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = client.get(location, headers=AUTH).json()
        if body["pending"] == 0:
            return body
        time.sleep(0.02)
    raise AssertionError(f"job still pending: {body}")


def test_a_job_runs_in_process_and_pages_its_results(client):
    with client() as api:
        submitted = api.post(JOBS, json={"requests": items(25), "batch_id": "routes"}, headers=AUTH)
        assert submitted.status_code == 202, submitted.text
        body = submitted.json()
        assert body["batch_id"] == "routes"
        assert submitted.headers["x-ratelimit-limit"] == "60"
        done = wait_for_end(api, submitted.headers["location"])
        assert (done["status"], done["completed"], done["failed"], done["cancelled"]) == (
            "completed",
            25,
            0,
            0,
        )
        assert done["created_at"] <= done["updated_at"] < done["expires_at"]

        seen, token = [], None
        while True:
            page = api.get(
                submitted.headers["location"],
                params={"limit": 10, **({"next_token": token} if token else {})},
                headers=AUTH,
            ).json()
            seen += [result["request_index"] for result in page["results"]]
            token = page["next_token"]
            if token is None:
                break
        assert seen == list(range(25))
        assert page["results"][-1]["response"]["operation"] == "summarize"


@pytest.mark.slow
def test_cancel_mid_way_stops_the_items_not_started(client, fake_gemini):
    fake_gemini.default = Delay(0.3, Reply(text="A night train summary."))
    gemini = {
        "ai_provider": "gemini",
        "gemini_api_key": fake_gemini.api_key,
        "gemini_base_url": fake_gemini.base_url,
    }
    with client(**gemini) as api:
        location = api.post(JOBS, json={"requests": items(30)}, headers=AUTH).headers["location"]
        deadline = time.monotonic() + 5
        while fake_gemini.request_count == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        cancelled = api.delete(location, headers=AUTH).json()
        assert (cancelled["status"], cancelled["completed"]) == ("cancelled", 0)
        done = wait_for_end(api, location)
    counts = (done["completed"], done["failed"], done["cancelled"], done["pending"])
    assert done["status"] == "cancelled"
    assert sum(counts) == 30
    assert done["cancelled"] >= 10  # at least the message no consumer had started
    assert fake_gemini.request_count == done["completed"]  # what was cancelled never reached the AI


@pytest.mark.parametrize(
    ("body", "field", "overrides"),
    [
        ({"requests": items(4)}, "requests", {"max_job_requests": 3}),
        (
            {"requests": [{"text": "x" * 200, "operation": "summarize"}]},
            "requests.0.text",
            {"max_text_length": 100},
        ),
        ({"requests": items(1), "callback_url": "http://hooks.example.test/done"}, "callback_url", {}),
        (
            {"requests": items(1), "callback_url": "https://169.254.169.254/latest/meta-data/"},
            "callback_url",
            {},
        ),
        ({"requests": items(1), "callback_url": "https://[::ffff:10.0.0.1]/hook"}, "callback_url", {}),
        ({"requests": items(1), "callback_url": "https://localhost/hook"}, "callback_url", {}),
    ],
)
def test_a_job_that_cannot_run_is_refused_whole_with_the_field_named(client, body, field, overrides):
    api = client(job_callback_secret="s3cret", **overrides)
    response = api.post(JOBS, json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert_error_shape(response.json(), "VALIDATION_ERROR")
    assert [error["field"] for error in response.json()["details"]["errors"]] == [field]


CALLBACK_REFUSALS = {
    "http": "http://hooks.example.test/done",
    "credentials": "https://user:pw@hooks.example.test/done",
    "no-host": "https:///done",
    "loopback-name": "https://localhost/hook?token=s3cr3t",
    "metadata-service": "https://169.254.169.254/latest/meta-data/",
    "v4-mapped-private": "https://[::ffff:10.0.0.1]/hook",
    "does-not-resolve": "https://no-such-host.invalid/hook?token=s3cr3t",
}


def test_every_callback_url_refusal_is_one_answer_and_its_reason_goes_to_the_log(caplog, capsys):
    """Different answers for "resolves to a loopback address" and "does not resolve" would let a caller map
    the names and address classes of the network the function runs in."""
    app = create_app(settings(job_callback_secret="s3cret"))
    handler = build_lambda_handler(app, app.state.services.observability)
    answers = set()
    for url in CALLBACK_REFUSALS.values():
        body = {"requests": items(1), "callback_url": url}
        response = handler(build_http_event("POST", JOBS, headers=AUTH, body=body), FakeLambdaContext())
        assert response["statusCode"] == 422, url
        data = response_json(response)
        assert_error_shape(data, "VALIDATION_ERROR")
        answers.add((data["error"], json.dumps(data["details"])))
    assert len(answers) == 1, answers
    logged = [record for record in caplog.records if record.getMessage() == "callback_url refused"]
    assert [record.levelno for record in logged] == [logging.WARNING] * len(CALLBACK_REFUSALS)
    assert [record.callback_url_hash for record in logged] == [
        url_hash(u) for u in CALLBACK_REFUSALS.values()
    ]
    reasons = [record.reason for record in logged]
    assert len(set(reasons)) == len(reasons)  # the log tells every case apart; the answer none
    assert "loopback" in reasons[3]
    assert "does not resolve" in reasons[6]
    printed = capsys.readouterr().out
    assert "s3cr3t" not in printed
    assert not any(url in printed for url in CALLBACK_REFUSALS.values())


def test_a_job_refuses_unknown_top_level_fields(client):
    body = {"requests": items(1), "callbackUrl": "https://hooks.example.test/done"}
    response = client(job_callback_secret="s3cret").post(JOBS, json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["details"]["errors"]] == ["callbackUrl"]


def test_a_callback_needs_a_signing_secret(client):
    response = client().post(
        JOBS, json={"requests": items(1), "callback_url": "https://hooks.example.test/"}, headers=AUTH
    )
    assert response.status_code == 409
    assert_error_shape(response.json(), "NOT_CONFIGURED")
    assert "no signing secret" in response.json()["error"]


def test_each_key_reads_its_own_callback_secret_through_the_handler():
    handler = build_lambda_handler(
        create_app(settings(job_callback_secret="deployment-secret")), build_observability(settings())
    )

    def secret(key: str) -> dict:
        event = build_http_event("GET", f"{JOBS}/callback-secret", headers={"X-API-Key": key})
        return handler(event, FakeLambdaContext())

    mine, theirs = secret(PUBLIC_KEY), secret(SECOND_PUBLIC_KEY)
    assert mine["statusCode"] == theirs["statusCode"] == 200
    assert response_json(mine)["secret"].startswith("whsec_")
    assert response_json(mine)["secret"] != response_json(theirs)["secret"]
    assert "x-ratelimit-remaining" in {name.lower() for name in mine["headers"]}  # a metered read
    assert secret("pk-not-a-key")["statusCode"] == 401


def test_without_a_deployment_secret_there_is_no_callback_secret(client):
    response = client().get(f"{JOBS}/callback-secret", headers=AUTH)
    assert response.status_code == 409
    assert_error_shape(response.json(), "NOT_CONFIGURED")


@pytest.mark.slow
def test_a_callback_is_refused_while_its_signing_secret_cannot_be_read(client, moto_endpoint):
    """The worker could not sign it either: 409 at submission, not a job whose callback is dropped."""
    parameter = f"/textapi-{uuid.uuid4().hex[:8]}/job-callback-secret"
    api = client(
        job_callback_secret_ssm_parameter=parameter, aws_endpoint_url=moto_endpoint, secrets_retry_seconds=1
    )
    body = {"requests": items(1), "callback_url": "https://93.184.216.34/hooks/done"}
    refused = api.post(JOBS, json=body, headers=AUTH)
    assert refused.status_code == 409, refused.text
    assert_error_shape(refused.json(), "NOT_CONFIGURED")
    assert refused.json()["details"] == {"field": "callback_url"}
    assert parameter not in refused.text
    assert api.post(JOBS, json={"requests": items(1)}, headers=AUTH).status_code == 202, "callbacks only"
    boto3.client("ssm", endpoint_url=moto_endpoint, region_name="us-east-1").put_parameter(
        Name=parameter, Value="whsec-demo", Type="SecureString"
    )
    time.sleep(1.1)  # the failed read is not repeated before SECRETS_RETRY_SECONDS
    assert api.post(JOBS, json=body, headers=AUTH).status_code == 202


def test_the_hourly_item_quota_refuses_a_job_and_charges_nothing(client):
    with client(job_items_per_hour=30) as api:
        assert api.post(JOBS, json={"requests": items(20)}, headers=AUTH).status_code == 202
        refused = api.post(JOBS, json={"requests": items(11)}, headers=AUTH)
        assert refused.status_code == 429
        assert_error_shape(refused.json(), "RATE_LIMIT_EXCEEDED")
        assert 1 <= int(refused.headers["retry-after"]) <= 3600
        assert (
            api.post(JOBS, json={"requests": items(10)}, headers=AUTH).status_code == 202
        )  # nothing charged
        assert (
            api.post(JOBS, json={"requests": items(1)}, headers={"X-API-Key": SECOND_PUBLIC_KEY}).status_code
            == 202
        )
        too_big = api.post(JOBS, json={"requests": items(31)}, headers=AUTH)
        assert too_big.status_code == 422


def test_submitting_costs_one_request_of_the_per_minute_limit(client):
    with client(rate_limit_per_minute=2) as api:
        assert api.post(JOBS, json={"requests": items(20)}, headers=AUTH).status_code == 202
        assert api.post(JOBS, json={"requests": items(20)}, headers=AUTH).status_code == 202
        assert api.post(JOBS, json={"requests": items(1)}, headers=AUTH).status_code == 429


def test_a_bad_next_token_is_422_and_an_unknown_job_404(client):
    with client() as api:
        location = api.post(JOBS, json={"requests": items(1)}, headers=AUTH).headers["location"]
        bad = api.get(location, params={"next_token": "not-ours"}, headers=AUTH)
        assert bad.status_code == 422
        assert bad.json()["details"]["errors"][0]["field"] == "next_token"
        assert api.get(f"{JOBS}/job_{'0' * 32}", headers=AUTH).status_code == 404
        assert api.get(location).status_code == 401


def test_the_location_is_reachable_behind_a_named_stage():
    app = create_app(settings())
    handler = build_lambda_handler(app, app.state.services.observability)
    event = build_http_event("POST", JOBS, headers=AUTH, body={"requests": items(1)}, stage="dev")
    response = handler(event, FakeLambdaContext())
    assert response["statusCode"] == 202
    location = response["headers"]["location"]
    assert location == f"/dev{JOBS}/{response_json(response)['job_id']}"
    follow = build_http_event("GET", location.removeprefix("/dev"), headers=AUTH, stage="dev")
    status = handler(follow, FakeLambdaContext())
    assert status["statusCode"] == 200
    assert json.loads(status["body"])["job_id"] == response_json(response)["job_id"]
    # Mangum runs no lifespan: stop the in-process worker on the loop it runs every invocation on.
    asyncio.get_event_loop().run_until_complete(app.state.services.job_queue.close())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"jobs_backend": "sqs"}, "JOBS_BACKEND=sqs needs JOBS_QUEUE_URL and JOBS_TABLE_NAME"),
        ({"stage": "prod", "job_callback_allow_loopback": True}, "JOB_CALLBACK_ALLOW_LOOPBACK"),
    ],
)
def test_job_settings_are_checked_at_cold_start(overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        load_settings(PublicApiSettings, **overrides)
