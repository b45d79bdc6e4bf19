"""One AI call per distinct text: batch duplicates in one instance, and two instances (two apps on one
shared store, one event loop) asking at once, on Redis and DynamoDB; counted on the fake Gemini's log."""

from __future__ import annotations

import asyncio

import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import PUBLIC_KEY
from fakes.gemini_server import Delay, Fail, Reply
from public_api.composition import build_services
from public_api.config import PublicApiSettings
from public_api.main import create_app
from public_api.schemas import TextProcessingRequest
from public_api.services.context import RequestContext
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.redis_client import close_redis_clients
from textapi_shared.resilience.deadline import Deadline

TEXT = "The orchard grew eleven varieties of apple, two of them found nowhere else in the valley."
SCOPE = "key:single-flight-test"


def settings_for(fake_gemini, **overrides) -> PublicApiSettings:
    return PublicApiSettings(
        stage="dev",
        api_key=PUBLIC_KEY,
        ai_provider="gemini",
        gemini_api_key=fake_gemini.api_key,
        gemini_base_url=fake_gemini.base_url,
        rate_limit_per_minute=1000,
        resilience_custom_config='{"retry_attempts": 1}',
        **overrides,
    )


def test_ten_identical_items_in_a_batch_make_one_upstream_call(fake_gemini):
    fake_gemini.default = Delay(0.2, then=Reply(text="Eleven apple varieties."))
    client = LambdaClient(create_app(settings_for(fake_gemini, batch_ai_concurrency_limit=5)))
    items = [{"text": TEXT, "operation": "summarize"}] * 10
    response = client.request(
        "POST",
        "/v1/text_processing/batch_process",
        json_body={"requests": items},
        headers={"X-API-Key": PUBLIC_KEY},
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["completed"] * 10
    assert fake_gemini.request_count == 1
    assert sorted(r["response"]["cache_hit"] for r in results) == [False] + [True] * 9
    assert {r["response"]["result"] for r in results} == {"Eleven apple varieties."}


@pytest.fixture(params=["redis", "dynamodb"])
def two_instances(request, fake_gemini):
    """Two apps on one shared store: two execution environments' worth of caches and flights."""
    if request.param == "redis":
        overrides = {"cache_backend": "redis", "redis_url": request.getfixturevalue("redis_url")}
    else:
        request.getfixturevalue("atomic_moto_updates")
        overrides = {
            "cache_backend": "dynamodb",
            "cache_table_name": request.getfixturevalue("cache_table"),
            "aws_endpoint_url": request.getfixturevalue("moto_endpoint"),
        }
    settings = settings_for(fake_gemini, **overrides)
    return [build_services(settings, build_observability(settings)) for _ in range(2)]


def ask_both(instances, text: str):
    request = TextProcessingRequest(text=text, operation="summarize")

    async def ask(services):
        deadline = Deadline.for_invocation(None, reserve_s=1, fallback_s=20)
        ctx = RequestContext(
            deadline=deadline,
            scope=SCOPE,
            generation=services.generation,
            fleet=services.fleet,
            meter=services.meters.meter("single-flight-test", None),
        )
        try:
            return await services.processor.process(request, ctx)
        finally:
            await ctx.finish()

    async def both():
        try:
            return await asyncio.gather(*(ask(services) for services in instances), return_exceptions=True)
        finally:
            await close_redis_clients()

    return asyncio.run(both())


def test_two_instances_asking_for_one_text_at_once_make_one_upstream_call(two_instances, fake_gemini):
    fake_gemini.default = Delay(0.3, then=Reply(text="Two varieties are unique."))
    text = f"{TEXT} Asked by two instances at once ({id(two_instances)})."
    first, second = ask_both(two_instances, text)
    assert fake_gemini.request_count == 1
    assert sorted([first.cache_hit, second.cache_hit]) == [False, True]  # the waiter read the holder's
    assert first.result == second.result == "Two varieties are unique."


def test_when_the_holder_fails_the_waiting_instance_calls_itself(two_instances, fake_gemini):
    fake_gemini.enqueue(Delay(0.3, then=Fail(400)), Reply(text="Answered by the second instance."))
    text = f"{TEXT} The holder fails ({id(two_instances)})."
    outcomes = ask_both(two_instances, text)
    assert fake_gemini.request_count == 2  # the lease never fails a request: the waiter went on
    answered = [o for o in outcomes if not isinstance(o, BaseException)]
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert [a.result for a in answered] == ["Answered by the second instance."]
    assert [type(f).__name__ for f in failed] == ["AIServiceError"]
