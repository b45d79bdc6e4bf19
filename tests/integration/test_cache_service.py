"""The cache in the service, end to end through lambda_handler, for every backend: repeat requests
hit, `Cache-Control: no-cache` skips the read, batches use it per item, and a stale entry answers
when the AI is down."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import PUBLIC_KEY, assert_error_shape
from fakes.gemini_server import Fail, Reply
from public_api.config import PublicApiSettings
from public_api.main import create_app
from public_api.services.prompts import PROMPT_VERSION
from textapi_shared.cache.keys import cache_key
from textapi_shared.security.api_keys import key_hash

AUTH = {"X-API-Key": PUBLIC_KEY}
PROCESS = "/v1/text_processing/process"


@pytest.fixture(params=["memory", "redis", "dynamodb"])
def backend_settings(request):
    """Settings selecting one cache backend, pointed at the real local service for it."""
    backend = request.param
    values = {"stage": "dev", "api_key": PUBLIC_KEY, "cache_backend": backend, "rate_limit_per_minute": 1000}
    if backend == "redis":
        values["redis_url"] = request.getfixturevalue("redis_url")
    if backend == "dynamodb":
        values["aws_endpoint_url"] = request.getfixturevalue("moto_endpoint")
        values["cache_table_name"] = request.getfixturevalue("cache_table")
    return values


def unique_text() -> str:
    # A fresh text per test: the shared Redis outlives tests, and keys derive from the text.
    return f"Report {uuid.uuid4().hex}: the river flooded the lower town twice this spring; repairs are slow."


def build_client(values: dict, **overrides) -> LambdaClient:
    return LambdaClient(create_app(PublicApiSettings(**{**values, **overrides})))


def post(client, body, headers=AUTH):
    return client.request("POST", PROCESS, json_body=body, headers=headers)


def test_second_identical_request_is_a_hit(backend_settings):
    client = build_client(backend_settings)
    body = {"text": unique_text(), "operation": "key_points", "options": {"max_points": 2}}
    first, second = post(client, body), post(client, body)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["cache_hit"] is False
    assert second.json()["cache_hit"] is True
    assert second.json()["key_points"] == first.json()["key_points"]
    assert second.json()["metadata"]["stale"] is False


def test_a_hit_reaches_other_instances_only_through_a_shared_backend(backend_settings):
    body = {"text": unique_text(), "operation": "sentiment"}
    assert post(build_client(backend_settings), body).json()["cache_hit"] is False
    from_another_instance = post(build_client(backend_settings), body).json()["cache_hit"]
    assert from_another_instance is (backend_settings["cache_backend"] != "memory")


def test_no_cache_header_skips_the_read(backend_settings):
    client = build_client(backend_settings)
    body = {"text": unique_text(), "operation": "summarize"}
    post(client, body)
    assert post(client, body, headers={**AUTH, "Cache-Control": "no-cache"}).json()["cache_hit"] is False
    assert post(client, body).json()["cache_hit"] is True


def test_options_are_part_of_the_key(backend_settings):
    client = build_client(backend_settings)
    text = unique_text()
    post(client, {"text": text, "operation": "summarize", "options": {"max_length": 20}})
    other = post(client, {"text": text, "operation": "summarize", "options": {"max_length": 30}})
    assert other.json()["cache_hit"] is False


def test_batch_uses_the_cache_per_item(backend_settings):
    client = build_client(backend_settings)
    cached, fresh = unique_text(), unique_text()
    post(client, {"text": cached, "operation": "sentiment"})
    requests = [{"text": cached, "operation": "sentiment"}, {"text": fresh, "operation": "sentiment"}]
    response = client.request(
        "POST", "/v1/text_processing/batch_process", json_body={"requests": requests}, headers=AUTH
    )
    hits = [r["response"]["cache_hit"] for r in response.json()["results"]]
    assert hits == [True, False]


def test_stale_entry_answers_when_gemini_is_down(backend_settings, fake_gemini):
    gemini = {
        "ai_provider": "gemini",
        "gemini_api_key": fake_gemini.api_key,
        "gemini_base_url": fake_gemini.base_url,
        "resilience_custom_config": '{"retry_attempts": 1}',  # fail fast; retries have their own tests
    }
    settings = PublicApiSettings(**{**backend_settings, **gemini})
    app = create_app(settings)
    client = LambdaClient(app)
    text = unique_text()
    fake_gemini.enqueue(Reply(text="The lower town flooded twice."))
    assert post(client, {"text": text, "operation": "summarize"}).json()["cache_hit"] is False

    # Age the entry: rewrite it with a 1 s TTL and let that pass (it stays readable in the grace period).
    key = cache_key(
        operation="summarize",
        text=text,
        options={"max_length": 100},
        question=None,
        provider="gemini",
        model=settings.ai_model,
        prompt_version=PROMPT_VERSION,
        scope=f"key:{key_hash(PUBLIC_KEY)}",
    )

    async def age() -> None:
        entry = await app.state.services.cache.get(key)
        await app.state.services.cache.set(key, entry.value, ttl_s=1)

    asyncio.get_event_loop().run_until_complete(age())  # the loop Mangum runs the app on
    time.sleep(1.2)

    fake_gemini.enqueue(Fail(503))
    response = post(client, {"text": text, "operation": "summarize"})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["result"] == "The lower town flooded twice."
    assert (data["cache_hit"], data["metadata"]["stale"]) == (True, True)
    assert fake_gemini.request_count == 2  # the stale entry is served only after the AI failed

    fake_gemini.enqueue(Fail(503))
    without_entry = post(client, {"text": unique_text(), "operation": "summarize"})
    assert without_entry.status_code == 503
    assert_error_shape(without_entry.json(), "SERVICE_UNAVAILABLE")
