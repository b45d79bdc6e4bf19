"""Names and addresses through Amazon Comprehend `DetectPiiEntities`: the real boto3 client, built by
`textapi_shared.aws` from the settings, against a local fake speaking Comprehend's JSON 1.1 protocol
(tests/fakes/comprehend_server.py)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest

from fakes.comprehend_server import CONTENT_TYPE, TARGET, Delay, Fail, FakeComprehendServer
from fakes.services import free_port
from textapi_shared.config import SharedSettings
from textapi_shared.privacy.comprehend import (
    ComprehendPiiDetector,
    PiiDetectionError,
    PiiDetectionUnavailableError,
)
from textapi_shared.privacy.entities import PiiSpan, PiiType
from textapi_shared.privacy.redaction import redact_all, restore

TEXT = "Jane Doe moved to 221B Baker Street, London; write to jane@example.com."


@pytest.fixture
def fake():
    with FakeComprehendServer() as server:
        yield server


def detector_for(server: FakeComprehendServer, **settings) -> ComprehendPiiDetector:
    return ComprehendPiiDetector(SharedSettings(aws_endpoint_url=server.endpoint_url, **settings))


def spans_text(text: str, spans: list[PiiSpan]) -> list[tuple[str, str]]:
    return [(span.type.value, text[span.start : span.end]) for span in spans]


def test_names_and_addresses_are_found_through_the_real_client(fake):
    spans = asyncio.run(detector_for(fake).detect(TEXT, "en"))
    assert spans_text(TEXT, spans) == [("NAME", "Jane Doe"), ("ADDRESS", "221B Baker Street, London")]
    (request,) = fake.requests
    assert request.target == TARGET
    assert request.headers["content-type"] == CONTENT_TYPE
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert request.body == {"Text": TEXT, "LanguageCode": "en"}


def test_other_entity_types_and_low_scores_are_left_to_the_pattern_detectors(fake):
    fake.entities = {
        "Jane Doe": "NAME",
        "jane@example.com": "EMAIL",
        "London": ("ADDRESS", 0.31),
        "Baker Street": "ADDRESS",
    }
    spans = asyncio.run(detector_for(fake).detect(TEXT))
    assert spans_text(TEXT, spans) == [("NAME", "Jane Doe"), ("ADDRESS", "Baker Street")]


@pytest.mark.parametrize(
    ("language", "sent"),
    [("es", "es"), ("es-MX", "es"), ("EN_us", "en"), ("fr", "en"), ("ja-JP", "en"), (None, "en"), ("", "en")],
)
def test_the_language_tag_picks_english_or_spanish_and_anything_else_is_sent_as_english(fake, language, sent):
    asyncio.run(detector_for(fake).detect("Carlos Ruiz vive en Calle Mayor 5, Madrid.", language))
    assert [request.language for request in fake.requests] == [sent]


def test_text_and_question_go_in_one_request_and_offsets_map_back_to_each(fake):
    texts = ["Jane Doe wrote the report.", "Did Carlos Ruiz or Jane Doe sign it?"]
    spans = asyncio.run(detector_for(fake).detect_all(texts, "en"))
    assert [spans_text(text, found) for text, found in zip(texts, spans, strict=True)] == [
        [("NAME", "Jane Doe")],
        [("NAME", "Carlos Ruiz"), ("NAME", "Jane Doe")],
    ]
    assert len(fake.requests) == 1


def test_a_long_text_is_cut_within_the_byte_limit_and_offsets_map_back(fake):
    fake.max_bytes = 300
    paragraph = "Señora Jane Doe — 日本の住所 — met Carlos Ruiz at 221B Baker Street, London. 🙂\n"
    text = paragraph * 12  # 888 characters, 1,104 bytes of UTF-8
    detector = ComprehendPiiDetector(SharedSettings(aws_endpoint_url=fake.endpoint_url), max_bytes=300)
    spans = asyncio.run(detector.detect(text))
    assert all(len(request.text.encode()) <= 300 for request in fake.requests)
    assert len(fake.requests) >= len(text.encode()) / 300
    expected = sorted(
        PiiSpan(start, start + len(phrase), PiiType(kind))
        for phrase, kind in fake.entities.items()
        for start in _occurrences(text, phrase)
    )
    assert spans == expected


def test_a_text_over_the_size_limit_is_refused_like_the_service_does(fake):
    fake.max_bytes = 300
    text = "Jane Doe " + "日本" * 100  # 209 characters, 609 bytes: the limit counts bytes
    with pytest.raises(PiiDetectionError) as refused:
        asyncio.run(detector_for(fake).detect(text))  # the detector's own limit is the real 100 KB
    assert refused.value.reason == "TextSizeLimitExceededException"
    assert refused.value.status_code == 500
    assert len(fake.requests) == 1  # not retried
    within = ComprehendPiiDetector(SharedSettings(aws_endpoint_url=fake.endpoint_url), max_bytes=300)
    assert spans_text(text, asyncio.run(within.detect(text))) == [("NAME", "Jane Doe")]


def _client_attempts(fake: FakeComprehendServer) -> int:
    from textapi_shared.aws import aws_client

    client = aws_client(SharedSettings(aws_endpoint_url=fake.endpoint_url), "comprehend")
    return client.meta.config.retries["total_max_attempts"]


@pytest.mark.parametrize(
    "failure",
    [
        Fail("ThrottlingException", 400),
        Fail("TooManyRequestsException", 400),
        Fail("InternalServerException", 500),
    ],
    ids=lambda failure: failure.code,
)
def test_throttling_and_server_errors_are_retried_by_the_client_then_reported_unavailable(fake, failure):
    attempts = _client_attempts(fake)
    fake.enqueue(*[failure] * attempts)
    with pytest.raises(PiiDetectionUnavailableError) as unavailable:
        asyncio.run(detector_for(fake).detect(TEXT))
    assert unavailable.value.reason == failure.code
    assert unavailable.value.status_code == 503
    assert "Retry-After" in unavailable.value.headers
    assert len(fake.requests) == attempts > 1


def test_a_throttled_call_that_succeeds_on_its_retry_returns_the_entities(fake):
    fake.enqueue(Fail("ThrottlingException"))
    spans = asyncio.run(detector_for(fake).detect(TEXT))
    assert spans_text(TEXT, spans)[0] == ("NAME", "Jane Doe")
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    "code", ["AccessDeniedException", "InvalidRequestException", "UnrecognizedClientException"]
)
def test_permanent_errors_are_not_retried(fake, code):
    fake.enqueue(Fail(code, 400))
    with pytest.raises(PiiDetectionError) as failed:
        asyncio.run(detector_for(fake).detect(TEXT))
    assert failed.value.reason == code
    assert len(fake.requests) == 1


def test_an_unreachable_endpoint_is_reported_unavailable():
    detector = ComprehendPiiDetector(
        SharedSettings(aws_endpoint_url=f"http://127.0.0.1:{free_port()}", aws_connect_timeout=0.5)
    )
    with pytest.raises(PiiDetectionUnavailableError) as unavailable:
        asyncio.run(detector.detect(TEXT))
    assert unavailable.value.reason == "EndpointConnectionError"


def test_a_slow_answer_times_out_on_the_clients_read_timeout(fake):
    fake.enqueue(*[Delay(3.0)] * 3)
    with pytest.raises(PiiDetectionUnavailableError) as unavailable:
        asyncio.run(detector_for(fake, aws_read_timeout=0.3).detect(TEXT))
    assert unavailable.value.reason == "ReadTimeoutError"


def test_blank_texts_make_no_request(fake):
    assert asyncio.run(detector_for(fake).detect_all(["", "  \n\t "])) == [[], []]
    assert fake.requests == []


def test_an_injected_client_is_used_instead_of_the_settings(fake):
    import boto3

    client = boto3.client("comprehend", endpoint_url=fake.endpoint_url, region_name="eu-west-1")
    assert asyncio.run(ComprehendPiiDetector(client=client).detect("Hi Jane Doe")) == [
        PiiSpan(3, 11, PiiType.NAME)
    ]
    assert "eu-west-1" in fake.requests[0].headers["authorization"]
    with pytest.raises(ValueError, match="settings or a client"):
        ComprehendPiiDetector()


def test_names_and_structured_pii_are_redacted_together_and_restored(fake):
    texts = [TEXT, "Where does Jane Doe live?"]
    redaction = redact_all(texts, extra_spans=asyncio.run(detector_for(fake).detect_all(texts, "en")))
    assert redaction.texts == (
        "[NAME_1] moved to [ADDRESS_1]; write to [EMAIL_1].",
        "Where does [NAME_1] live?",
    )
    answer = restore("[NAME_1] lives at [ADDRESS_1].", redaction)
    assert answer.text == "Jane Doe lives at 221B Baker Street, London."
    assert (answer.lost, answer.invented) == (1, 0)  # the e-mail is not in the answer


def test_the_fake_refuses_what_the_service_refuses(fake):
    def post(headers: dict[str, str], body: object) -> tuple[int, dict]:
        request = urllib.request.Request(fake.endpoint_url, json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    signed = {"Authorization": "AWS4-HMAC-SHA256 Credential=x", "Content-Type": CONTENT_TYPE}
    body = {"Text": "Jane Doe", "LanguageCode": "en"}
    assert post({"X-Amz-Target": TARGET, "Content-Type": CONTENT_TYPE}, body)[1]["__type"] == (
        "MissingAuthenticationTokenException"
    )
    assert post({**signed, "X-Amz-Target": "Comprehend_20171127.DetectEntities"}, body)[1]["__type"] == (
        "UnknownOperationException"
    )
    assert post({**signed, "X-Amz-Target": TARGET}, {**body, "LanguageCode": "fr"}) == (
        400,
        {"__type": "UnsupportedLanguageException", "Message": "Unsupported language: fr"},
    )
    assert post({**signed, "X-Amz-Target": TARGET}, body) == (
        200,
        {"Entities": [{"Score": 0.9999, "Type": "NAME", "BeginOffset": 0, "EndOffset": 8}]},
    )


def _occurrences(text: str, phrase: str) -> list[int]:
    found, start = [], text.find(phrase)
    while start != -1:
        found.append(start)
        start = text.find(phrase, start + len(phrase))
    return found
