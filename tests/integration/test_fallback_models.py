"""Fallback models end to end: the real lambda_handler and google-genai SDK against the fake Gemini
server, which answers per model and whose request log shows which model each call reached."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY
from fakes.gemini_server import Delay, Fail, Reply
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from public_api.composition import build_services
from public_api.config import PublicApiSettings
from public_api.main import create_app
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.resilience.breaker_store import MemoryBreakerStore
from textapi_shared.resilience.circuit_breaker import BreakerState
from textapi_shared.resilience.factory import build_resilience

AUTH = {"X-API-Key": PUBLIC_KEY}
PRIMARY, FALLBACK = "gemini-primary", "gemini-lite"
TEXT = "The harbour ferry now runs every twenty minutes, and the night service was extended to midnight."
_SERIAL = itertools.count()


@pytest.fixture
def app(fake_gemini):
    def build(**overrides):
        settings = PublicApiSettings(
            stage="dev",
            api_key=PUBLIC_KEY,
            ai_provider="gemini",
            gemini_api_key=fake_gemini.api_key,
            gemini_base_url=fake_gemini.base_url,
            ai_model=PRIMARY,
            ai_fallback_models=FALLBACK,
            rate_limit_per_minute=1000,
            resilience_custom_config=json.dumps(
                {"retry_attempts": 1, "circuit_breaker_threshold": 2, "recovery_timeout": 30}
            ),
            **overrides,
        )
        observability = build_observability(settings)
        resilience = build_resilience(settings, observability=observability, store=MemoryBreakerStore())
        public = create_app(settings, build_services(settings, observability, resilience=resilience))
        return LambdaClient(public), resilience

    return build


def process(client, text=None):
    body = {"text": text or f"{TEXT} Note {next(_SERIAL)}.", "operation": "summarize"}
    return client.request("POST", "/v1/text_processing/process", json_body=body, headers=AUTH)


def models_called(fake_gemini) -> list[str | None]:
    return [request.model for request in fake_gemini.requests]


def test_a_primary_answering_503_falls_back_and_the_answer_names_its_model(app, fake_gemini, capsys, caplog):
    client, _ = app()
    fake_gemini.by_model[PRIMARY] = Fail(503)
    fake_gemini.by_model[FALLBACK] = Reply(text="The ferry runs more often.")
    response = process(client)
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["model"] == FALLBACK
    assert response.json()["result"] == "The ferry runs more often."
    assert models_called(fake_gemini) == [PRIMARY, FALLBACK]
    assert '"AIModelFallbacks"' in capsys.readouterr().out
    (logged,) = [record for record in caplog.records if record.getMessage() == "AI model fallback"]
    assert (logged.from_model, logged.to_model, logged.upstream_status) == (PRIMARY, FALLBACK, 503)


def test_429_and_a_timeout_fall_back_too(app, fake_gemini):
    client, _ = app(ai_timeout_seconds=0.5)
    fake_gemini.by_model[PRIMARY] = Fail(429, retry_after=30)
    assert process(client).json()["metadata"]["model"] == FALLBACK
    fake_gemini.by_model[PRIMARY] = Delay(3.0)  # longer than AI_TIMEOUT_SECONDS
    response = process(client)
    assert response.status_code == 200
    assert response.json()["metadata"]["model"] == FALLBACK


def test_a_permanent_error_never_falls_back(app, fake_gemini):
    client, _ = app()
    fake_gemini.by_model[PRIMARY] = Fail(400)
    response = process(client)
    assert (response.status_code, response.json()["error_code"]) == (502, "AI_SERVICE_ERROR")
    assert models_called(fake_gemini) == [PRIMARY]


def test_every_model_failing_is_503(app, fake_gemini):
    client, _ = app()
    fake_gemini.default = Fail(503)
    response = process(client)
    assert (response.status_code, response.json()["error_code"]) == (503, "SERVICE_UNAVAILABLE")
    assert models_called(fake_gemini) == [PRIMARY, FALLBACK]


def test_each_model_has_its_own_breaker_and_an_open_one_is_skipped(app, fake_gemini):
    client, resilience = app()
    fake_gemini.by_model[PRIMARY] = Fail(503)
    assert [process(client).status_code for _ in range(2)] == [200, 200]  # threshold 2
    assert resilience.breakers.get(f"summarize@{PRIMARY}").state is BreakerState.OPEN
    assert resilience.breakers.get(f"summarize@{FALLBACK}").state is BreakerState.CLOSED
    before = len(fake_gemini.requests_for(PRIMARY))
    assert process(client).json()["metadata"]["model"] == FALLBACK
    assert len(fake_gemini.requests_for(PRIMARY)) == before  # the open breaker answered for it


def test_the_admin_api_names_breakers_operation_at_model(fake_gemini):
    settings = InternalApiSettings(
        stage="dev",
        internal_api_keys=[ADMIN_KEY],
        ai_provider="gemini",
        gemini_api_key=fake_gemini.api_key,
        ai_model=PRIMARY,
        ai_fallback_models=FALLBACK,
    )
    admin = LambdaClient(create_internal_app(settings))
    listed = admin.request("GET", "/internal/resilience/circuit-breakers", headers={"X-API-Key": ADMIN_KEY})
    assert listed.status_code == 200
    assert f"qa@{PRIMARY}" in listed.json()["breakers"]
    assert f"qa@{FALLBACK}" in listed.json()["breakers"]
    one = admin.request(
        "GET", f"/internal/resilience/circuit-breakers/summarize@{FALLBACK}", headers={"X-API-Key": ADMIN_KEY}
    )
    assert (one.status_code, one.json()["state"]) == (200, "closed")
    summed = admin.request("GET", "/internal/resilience/metrics/summarize", headers={"X-API-Key": ADMIN_KEY})
    assert summed.status_code == 200  # an operation sums its models' breakers


def test_a_fallback_answer_is_cached_under_its_own_model(app, fake_gemini):
    client, resilience = app()
    text = f"{TEXT} Cached under the model that answered."
    fake_gemini.by_model[PRIMARY] = Fail(503)
    fake_gemini.by_model[FALLBACK] = Reply(text="The lite model's summary.")
    assert [process(client, f"{TEXT} Warm {n}.").status_code for n in range(2)] == [200, 200]  # opens it
    first = process(client, text)
    assert (first.json()["metadata"]["model"], first.json()["cache_hit"]) == (FALLBACK, False)
    # While the primary's breaker is open a request would be answered by the fallback: its entry answers.
    sent = len(fake_gemini.requests)
    repeat = process(client, text)
    assert (repeat.json()["metadata"]["model"], repeat.json()["cache_hit"]) == (FALLBACK, True)
    assert len(fake_gemini.requests) == sent
    # Once the primary is back, a request gets the primary's answer, never the fallback's from the cache.
    del fake_gemini.by_model[PRIMARY]
    fake_gemini.default = Reply(text="The primary model's summary.")
    asyncio.get_event_loop().run_until_complete(resilience.breakers.get(f"summarize@{PRIMARY}").reset())
    fresh = process(client, text)
    assert (fresh.json()["metadata"]["model"], fresh.json()["cache_hit"]) == (PRIMARY, False)
    assert fresh.json()["result"] == "The primary model's summary."
