"""Retries and circuit breakers end to end: the real lambda_handler, the real google-genai SDK, the fake
Gemini server, whose request log proves which calls reached the upstream.

`resilient_app` does the wiring `public_api.main` is to do (wrap the provider with `ResilientProvider`)
and passes the invocation deadline to the provider request, as `TextProcessor._ai_request` is to do.
"""

from __future__ import annotations

import itertools
import json
import time

import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import PUBLIC_KEY, assert_error_shape
from fakes.clock import FakeClock
from fakes.gemini_server import Fail, Reply
from public_api.composition import build_services
from public_api.config import PublicApiSettings
from public_api.main import create_app
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.resilience.breaker_store import MemoryBreakerStore
from textapi_shared.resilience.circuit_breaker import BreakerState
from textapi_shared.resilience.factory import build_resilience

AUTH = {"X-API-Key": PUBLIC_KEY}
TEXT = "The new library opened downtown with a rooftop garden, a maker space and late opening hours."
_SERIAL = itertools.count()


def unique_text() -> str:
    """A different text per call, so no answer comes from the response cache."""
    return f"{TEXT} Visit {next(_SERIAL)}."


# Short, deterministic backoff: 0.5 s between attempts (the schema's floor), no jitter.
FAST = {
    "default_strategy": "aggressive",
    "jitter_enabled": False,
    "exponential_min": 0.5,
    "exponential_multiplier": 0.1,
}


@pytest.fixture
def resilient_app(fake_gemini):
    def build(custom: dict, *, clock=time.time, timeout_ms: int = 29_000, **overrides):
        settings = PublicApiSettings(
            stage="dev",
            api_key=PUBLIC_KEY,
            ai_provider="gemini",
            gemini_api_key=fake_gemini.api_key,
            gemini_base_url=fake_gemini.base_url,
            ai_model="gemini-test-model",
            rate_limit_per_minute=1000,
            resilience_custom_config=json.dumps({**FAST, **custom}),
            **overrides,
        )
        observability = build_observability(settings)
        resilience = build_resilience(
            settings, observability=observability, store=MemoryBreakerStore(), clock=clock
        )
        app = create_app(settings, build_services(settings, observability, resilience=resilience))
        return LambdaClient(app, timeout_ms=timeout_ms), resilience

    return build


def process(client, operation="summarize", **request_options):
    body = {"text": unique_text(), "operation": operation}
    return client.request(
        "POST", "/v1/text_processing/process", json_body=body, headers=AUTH, **request_options
    )


def test_n_transient_failures_open_the_breaker_then_one_probe_closes_it(resilient_app, fake_gemini, capsys):
    clock = FakeClock()
    client, resilience = resilient_app(
        {"retry_attempts": 1, "circuit_breaker_threshold": 3, "recovery_timeout": 10}, clock=clock
    )
    fake_gemini.default = Fail(503)
    for _ in range(3):
        assert process(client).status_code == 503
    assert fake_gemini.request_count == 3
    breaker = resilience.breakers.get("summarize")
    assert breaker.state is BreakerState.OPEN

    started = time.monotonic()
    rejected = process(client)
    assert time.monotonic() - started < 0.5
    assert fake_gemini.request_count == 3  # answered without reaching the upstream
    assert rejected.status_code == 503
    assert rejected.headers["retry-after"] == "10"
    assert_error_shape(rejected.json(), "SERVICE_UNAVAILABLE", rejected.headers["x-request-id"])
    assert rejected.json()["details"] == {"circuit_breaker": "open", "operation": "summarize"}
    assert process(client, "sentiment").status_code == 503  # other operations have their own breaker
    assert fake_gemini.request_count == 4

    clock.advance(4)
    assert process(client).headers["retry-after"] == "6"
    clock.advance(6)
    fake_gemini.default = Reply(text="A new downtown library.")
    probe = process(client)
    assert probe.status_code == 200, probe.text
    assert fake_gemini.request_count == 5
    assert breaker.state is BreakerState.CLOSED
    assert process(client).status_code == 200
    assert fake_gemini.request_count == 6
    out = capsys.readouterr().out
    assert '"BreakerOpened"' in out
    assert '"BreakerClosed"' in out
    assert '"BreakerRejected"' in out


def test_a_failed_probe_opens_the_breaker_again(resilient_app, fake_gemini):
    clock = FakeClock()
    client, _ = resilient_app(
        {"retry_attempts": 1, "circuit_breaker_threshold": 2, "recovery_timeout": 10}, clock=clock
    )
    fake_gemini.default = Fail(500)
    for _ in range(2):
        process(client)
    clock.advance(10)
    assert process(client).status_code == 503  # the probe, failing
    assert fake_gemini.request_count == 3
    again = process(client)
    assert again.json()["details"]["circuit_breaker"] == "open"
    assert again.headers["retry-after"] == "10"
    assert fake_gemini.request_count == 3


def test_a_400_is_one_request_no_retry_502_and_leaves_the_breaker_alone(resilient_app, fake_gemini):
    client, resilience = resilient_app({"retry_attempts": 3, "circuit_breaker_threshold": 1})
    fake_gemini.enqueue(Fail(400))
    response = process(client)
    assert response.status_code == 502
    assert_error_shape(response.json(), "AI_SERVICE_ERROR")
    assert fake_gemini.request_count == 1
    breaker = resilience.breakers.get("summarize")
    assert breaker.state is BreakerState.CLOSED
    assert breaker.status()["failure_count"] == 0
    assert process(client).status_code == 200


def test_transient_failures_are_retried_with_backoff(resilient_app, fake_gemini):
    client, resilience = resilient_app({"retry_attempts": 3, "circuit_breaker_threshold": 5})
    fake_gemini.enqueue(Fail(503), Fail(500), Reply(text="A summary."))
    response = process(client)
    assert response.status_code == 200, response.text
    sent = [r.received_at for r in fake_gemini.requests]
    assert len(sent) == 3
    assert all(0.45 <= later - earlier < 1.0 for earlier, later in itertools.pairwise(sent))
    assert resilience.breakers.get("summarize").totals["retries"] == 2


def test_a_429_with_retry_after_1_waits_about_a_second(resilient_app, fake_gemini):
    client, _ = resilient_app({"retry_attempts": 2})
    fake_gemini.enqueue(Fail(429, retry_after=1), Reply(text="A summary."))
    response = process(client)
    assert response.status_code == 200, response.text
    first, second = (r.received_at for r in fake_gemini.requests)
    assert 0.95 <= second - first < 1.4


def test_retries_stop_before_the_invocation_runs_out(resilient_app, fake_gemini):
    client, _ = resilient_app(
        {"retry_attempts": 5, "circuit_breaker_threshold": 10, "exponential_multiplier": 0.5},
        timeout_ms=2500,
        deadline_reserve_seconds=1.0,
    )
    # The SDK import and client build are not under test.
    assert process(client, timeout_ms=29_000).status_code == 200
    fake_gemini.reset()
    fake_gemini.default = Fail(503)
    started = time.monotonic()
    response = process(client)
    elapsed = time.monotonic() - started
    # 1.5 s to the deadline: attempt 1, wait 0.5, attempt 2, a 1 s wait would leave < 0.2 s: stop.
    assert fake_gemini.request_count == 2
    assert elapsed < 1.5
    assert response.status_code == 503
    assert_error_shape(response.json(), "SERVICE_UNAVAILABLE")
    assert int(response.headers["retry-after"]) >= 1
