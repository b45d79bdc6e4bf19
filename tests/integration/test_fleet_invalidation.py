"""An invalidation through the internal function reaches every public instance's memory tier at once:
two public app instances and the internal app on one Redis, and on one DynamoDB table (moto). Each public
instance answers a text from its own memory tier; after the admin invalidation the next request to
either instance is a miss, answered anew (counted on the fake Gemini's log), with no extra round trip."""

from __future__ import annotations

import uuid

import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY
from fakes.gemini_server import Reply
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from public_api.config import PublicApiSettings
from public_api.main import create_app as create_public_app
from textapi_shared.redis_client import close_redis_clients

AUTH = {"X-API-Key": PUBLIC_KEY}


@pytest.fixture(params=["redis", "dynamodb"])
def fleet(request, fake_gemini):
    """Two public instances and the internal function, sharing one store."""
    if request.param == "redis":
        store = {"cache_backend": "redis", "redis_url": request.getfixturevalue("redis_url")}
    else:
        request.getfixturevalue("atomic_moto_updates")
        store = {
            "cache_backend": "dynamodb",
            "cache_table_name": request.getfixturevalue("cache_table"),
            "aws_endpoint_url": request.getfixturevalue("moto_endpoint"),
        }
    common = {"stage": "dev", "api_key": PUBLIC_KEY, "internal_api_keys": [ADMIN_KEY], **store}
    public = PublicApiSettings(
        **common,
        ai_provider="gemini",
        gemini_api_key=fake_gemini.api_key,
        gemini_base_url=fake_gemini.base_url,
        rate_limit_per_minute=1000,
    )
    instances = [LambdaClient(create_public_app(public)) for _ in range(2)]
    internal = LambdaClient(create_internal_app(InternalApiSettings(**common)))
    yield instances, internal
    if request.param == "redis":
        import asyncio

        asyncio.get_event_loop().run_until_complete(close_redis_clients())


def ask(instance, text: str) -> dict:
    body = {"text": text, "operation": "summarize"}
    response = instance.request("POST", "/v1/text_processing/process", json_body=body, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("body", [{"operation": "summarize"}, {"all": True}])
def test_an_admin_invalidation_makes_every_instances_next_request_a_miss(fleet, fake_gemini, body):
    instances, internal = fleet
    fake_gemini.default = Reply(text="The depot closes early on Fridays.")
    text = f"Notice {uuid.uuid4().hex}: the bus depot closes at four on Fridays from next month on."
    assert ask(instances[0], text)["cache_hit"] is False
    assert [ask(instance, text)["cache_hit"] for instance in instances] == [True, True]
    assert [ask(instance, text)["cache_hit"] for instance in instances] == [True, True]  # memory tiers
    calls = fake_gemini.request_count

    removed = internal.request(
        "POST", "/internal/cache/invalidate", json_body=body, headers={"X-API-Key": ADMIN_KEY}
    )
    assert removed.status_code == 200, removed.text
    assert "cache generation" in removed.json()["detail"]

    first = ask(instances[1], text)
    assert first["cache_hit"] is False  # not the removed answer from its memory tier
    assert fake_gemini.request_count == calls + 1
    assert ask(instances[0], text)["cache_hit"] is True  # the new answer, stored by the other instance
    assert fake_gemini.request_count == calls + 1
