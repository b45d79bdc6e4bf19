"""The fake Gemini server speaks the real protocol: the real google-genai SDK drives every case.

The `fake_gemini` fixture comes from tests/conftest.py. SDK retries are off (one attempt), so each
fault reaches the caller exactly as the SDK reports it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import httpx2  # google-genai's default HTTP backend, so its timeouts are httpx2's, not httpx's
import pytest
from google import genai
from google.genai import errors, types

from fakes.gemini_server import (
    Blocked,
    Delay,
    Fail,
    FakeGeminiServer,
    Malformed,
    Reply,
    SafetyStop,
)

MODEL = "gemini-2.5-flash"
PATH = f"/v1beta/models/{MODEL}:generateContent"


def sdk_client(
    server: FakeGeminiServer, *, api_key: str | None = None, timeout_ms: int | None = None
) -> genai.Client:
    options = types.HttpOptions(
        base_url=server.base_url,
        api_version="v1beta",
        timeout=timeout_ms,
        retry_options=types.HttpRetryOptions(attempts=1),  # 1 attempt = no SDK retries
    )
    return genai.Client(api_key=api_key or server.api_key, http_options=options)


def key_header(server: FakeGeminiServer) -> dict[str, str]:
    return {"x-goog-api-key": server.api_key}


@pytest.fixture
def client(fake_gemini):
    with sdk_client(fake_gemini) as client:
        yield client


def test_reply_text_parsed_by_sdk(fake_gemini, client):
    fake_gemini.enqueue(Reply(text="hello there", prompt_tokens=7, output_tokens=3))

    response = client.models.generate_content(model=MODEL, contents="hi")

    assert response.text == "hello there"
    assert response.usage_metadata.prompt_token_count == 7
    assert response.usage_metadata.candidates_token_count == 3
    assert response.usage_metadata.total_token_count == 10
    assert response.model_version == MODEL
    assert response.response_id
    [request] = fake_gemini.requests
    assert (request.method, request.path) == ("POST", PATH)
    assert (request.api_version, request.model) == ("v1beta", MODEL)
    assert request.headers["x-goog-api-key"] == fake_gemini.api_key
    assert request.body["contents"] == [{"parts": [{"text": "hi"}], "role": "user"}]


def test_reply_json_with_config_records_generation_config(fake_gemini, client):
    fake_gemini.enqueue(Reply(json={"summary": "short"}))
    schema = {"type": "OBJECT", "properties": {"summary": {"type": "STRING"}}}
    config = types.GenerateContentConfig(
        response_mime_type="application/json",
        response_schema=schema,
        system_instruction="Be brief.",
        temperature=0.2,
    )

    response = client.models.generate_content(model=MODEL, contents="summarise", config=config)

    assert response.parsed == {"summary": "short"}
    body = fake_gemini.requests[0].body
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}], "role": "user"}
    assert body["generationConfig"] == {
        "temperature": 0.2,
        "responseMimeType": "application/json",
        "responseSchema": schema,  # the SDK sends response_schema as responseSchema, as given
    }
    assert fake_gemini.requests[0].model == MODEL


def test_reply_through_async_client(fake_gemini, client):
    fake_gemini.enqueue(Reply(text="async hello"))

    async def call():
        try:
            return await client.aio.models.generate_content(model=MODEL, contents="hi")
        finally:
            await client.aio.aclose()

    assert asyncio.run(call()).text == "async hello"
    assert fake_gemini.request_count == 1


def test_fail_429_raises_client_error_with_retry_after(fake_gemini, client):
    fake_gemini.enqueue(Fail(429, retry_after=3))

    with pytest.raises(errors.ClientError) as raised:
        client.models.generate_content(model=MODEL, contents="hi")

    assert (raised.value.code, raised.value.status) == (429, "RESOURCE_EXHAUSTED")
    assert raised.value.response.headers["retry-after"] == "3"
    retry_info = raised.value.details["error"]["details"][0]
    assert retry_info["retryDelay"] == "3s"


def test_fail_retry_after_fractional_keeps_decimals(fake_gemini):
    fake_gemini.enqueue(Fail(503, retry_after=1.5))

    response = httpx.post(fake_gemini.base_url + PATH, json={}, headers=key_header(fake_gemini))

    assert response.headers["retry-after"] == "1.5"


@pytest.mark.parametrize(
    ("status", "name"), [(500, "INTERNAL"), (503, "UNAVAILABLE"), (504, "DEADLINE_EXCEEDED")]
)
def test_fail_5xx_raises_server_error(fake_gemini, client, status, name):
    fake_gemini.enqueue(Fail(status, message="upstream trouble"))

    with pytest.raises(errors.ServerError) as raised:
        client.models.generate_content(model=MODEL, contents="hi")

    assert (raised.value.code, raised.value.status) == (status, name)
    assert raised.value.message == "upstream trouble"
    assert fake_gemini.request_count == 1  # one attempt, no SDK retries


def test_wrong_api_key_raises_client_error_400_and_keeps_queue(fake_gemini):
    fake_gemini.enqueue(Reply(text="still queued"))

    with sdk_client(fake_gemini, api_key="wrong") as bad_client, pytest.raises(errors.ClientError) as raised:
        bad_client.models.generate_content(model=MODEL, contents="hi")

    assert (raised.value.code, raised.value.status) == (400, "INVALID_ARGUMENT")
    assert raised.value.message == "API key not valid. Please pass a valid API key."
    assert raised.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    assert fake_gemini.request_count == 1
    with sdk_client(fake_gemini) as good_client:
        assert good_client.models.generate_content(model=MODEL, contents="hi").text == "still queued"


def test_api_key_accepted_as_query_param(fake_gemini):
    url = f"{fake_gemini.base_url}/v1/models/{MODEL}:generateContent?key={fake_gemini.api_key}"

    response = httpx.post(url, json={})

    assert response.status_code == 200
    assert fake_gemini.requests[0].api_version == "v1"


def test_malformed_body_raises_json_decode_error(fake_gemini, client):
    fake_gemini.enqueue(Malformed())

    with pytest.raises(json.JSONDecodeError):  # unwrapped, straight from the SDK's json.loads
        client.models.generate_content(model=MODEL, contents="hi")


def test_blocked_prompt_has_feedback_and_no_candidates(fake_gemini, client):
    fake_gemini.enqueue(Blocked())

    response = client.models.generate_content(model=MODEL, contents="something nasty")

    assert response.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    assert response.candidates is None
    assert response.text is None


def test_safety_stop_has_candidate_without_text(fake_gemini, client):
    fake_gemini.enqueue(SafetyStop())

    response = client.models.generate_content(model=MODEL, contents="hi")

    assert response.candidates[0].finish_reason == types.FinishReason.SAFETY
    assert response.text is None


def test_delay_longer_than_timeout_raises_httpx2_read_timeout(fake_gemini):
    fake_gemini.enqueue(Delay(5))
    started = time.monotonic()

    with sdk_client(fake_gemini, timeout_ms=300) as slow_client, pytest.raises(httpx2.ReadTimeout):
        slow_client.models.generate_content(model=MODEL, contents="hi")

    assert time.monotonic() - started < 2
    # The SDK also tells the server its deadline, in whole seconds.
    assert fake_gemini.requests[0].headers["x-server-timeout"] == "1"


def test_delay_then_answers_with_then(fake_gemini, client):
    fake_gemini.enqueue(Delay(0.05, then=Reply(text="late")))

    assert client.models.generate_content(model=MODEL, contents="hi").text == "late"


def test_queue_is_fifo_then_default(fake_gemini, client):
    fake_gemini.enqueue(Reply(text="first"), Reply(text="second"))
    fake_gemini.default = Reply(text="fallback")

    texts = [client.models.generate_content(model=MODEL, contents="hi").text for _ in range(3)]

    assert texts == ["first", "second", "fallback"]
    assert fake_gemini.request_count == 3
    received = [request.received_at for request in fake_gemini.requests]
    assert received == sorted(received)


def test_reset_clears_queue_log_and_default(fake_gemini, client):
    fake_gemini.default = Fail(500)
    fake_gemini.enqueue(Fail(503))
    with pytest.raises(errors.ServerError):
        client.models.generate_content(model=MODEL, contents="hi")

    fake_gemini.reset()

    assert fake_gemini.requests == []
    assert client.models.generate_content(model=MODEL, contents="hi").text == "fake reply"


def test_unknown_path_returns_google_404_and_is_logged(fake_gemini):
    response = httpx.get(f"{fake_gemini.base_url}/v1beta/models", headers=key_header(fake_gemini))

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["status"] == "NOT_FOUND"
    [request] = fake_gemini.requests
    assert (request.method, request.model, request.api_version) == ("GET", None, None)


def test_invalid_json_body_returns_400(fake_gemini):
    response = httpx.post(fake_gemini.base_url + PATH, content=b"{not json", headers=key_header(fake_gemini))

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": 400,
        "message": "Invalid JSON payload received.",
        "status": "INVALID_ARGUMENT",
    }
    assert fake_gemini.requests[0].body is None


def test_stop_during_delay_returns_promptly():
    server = FakeGeminiServer().start()
    server.enqueue(Delay(30))
    caller = threading.Thread(
        target=httpx.post,
        args=(server.base_url + PATH,),
        kwargs={"json": {}, "headers": key_header(server), "timeout": 5},
        daemon=True,
    )
    caller.start()
    while server.request_count == 0:
        time.sleep(0.01)
    started = time.monotonic()

    server.stop()

    assert time.monotonic() - started < 1
    caller.join(timeout=5)
