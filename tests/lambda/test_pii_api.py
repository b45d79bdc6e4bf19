"""PII redaction as a caller and an operator see it, through the functions' real `lambda_handler`s: who
turns it on (request, key record, PATCH, PII_MODE), what the model is sent (placeholders, one per value
across text and question), what comes back (every output field restored, `metadata.pii_redacted`),
placeholders the model loses or invents (counted, the answer still served), the request options'
validation, and names and addresses through Comprehend (`PII_DETECTOR=comprehend`, a fake speaking its
protocol), failing closed when it cannot be reached."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from fakes.api_contract import PUBLIC_KEY
from fakes.comprehend_server import Fail as ComprehendFail
from fakes.comprehend_server import FakeComprehendServer
from fakes.gemini_server import Computed, Reply
from fakes.pii_texts import SAMPLE_COUNTS, echo_placeholders, leaks, pii_sample, placeholders_in, prompt_of
from fakes.services import free_port
from fakes.tenants import BATCH, PROCESS, Deployment, assert_refused, auth, gemini_settings
from textapi_shared.privacy.redaction import PLACEHOLDER

EMAIL = "maria.lopez@example.org"
CARD = "4539 1488 0343 6467"
TICKET = (
    f"Hello support, my e-mail is {EMAIL}. Yesterday my card {CARD} was charged twice for the same order, "
    "once in the morning and once at night. Please refund the duplicate charge and confirm by e-mail. The "
    "app kept showing an error during checkout, which is probably why the payment went through twice."
)
REDACT = {"pii": "redact"}


def emf_totals(printed: str) -> dict[str, float]:
    """The sum of each metric over the EMF documents among `printed` lines."""
    totals: dict[str, float] = {}
    for line in printed.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + (
                    sum(value) if isinstance(value, list) else value
                )
    return totals


def redacted_sent(fake_gemini) -> bool:
    """Whether the last request the fake received held placeholders (and so was redacted)."""
    return bool(placeholders_in(fake_gemini.requests[-1].body))


@pytest.fixture
def gemini_api(fake_gemini):
    """`gemini_api(**settings)` → a deployment on the fake Gemini, which echoes the placeholders it gets."""

    def build(**settings: Any) -> Deployment:
        fake_gemini.default = Computed(echo_placeholders)
        return Deployment(public=gemini_settings(fake_gemini), **settings)

    return build


# -- Acceptance: a support ticket's summary --------------------------------------------------------------


def test_a_tickets_summary_from_gemini_holds_the_email_and_no_placeholder_and_gemini_saw_placeholders(
    gemini_api, fake_gemini
):
    api = gemini_api()
    answer = api.process(PUBLIC_KEY, text=TICKET, options=REDACT)
    assert answer.status_code == 200, answer.text
    summary = answer.json()["result"]
    assert EMAIL in summary
    assert PLACEHOLDER.search(summary) is None
    assert answer.json()["metadata"]["pii_redacted"] == {"EMAIL": 1, "CARD": 1}
    (sent,) = fake_gemini.requests
    assert placeholders_in(sent.body) == ["[EMAIL_1]", "[CARD_1]"]
    assert EMAIL not in json.dumps(sent.body)
    assert "4539" not in json.dumps(sent.body)
    # What the model was told about them.
    assert "Copy a placeholder exactly as written" in json.dumps(sent.body["systemInstruction"])


def test_a_tickets_summary_from_the_offline_provider_holds_the_email_and_no_placeholder():
    api = Deployment()  # no Gemini key: the offline provider
    answer = api.process(PUBLIC_KEY, text=TICKET, options=REDACT)
    assert answer.status_code == 200, answer.text
    assert answer.json()["metadata"]["provider"] == "local"
    summary = answer.json()["result"]
    assert EMAIL in summary
    assert PLACEHOLDER.search(summary) is None
    assert answer.json()["metadata"]["pii_redacted"] == {"EMAIL": 1, "CARD": 1}


# -- what comes back -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "field"),
    [
        ("summarize", "result"),
        ("sentiment", "sentiment.explanation"),
        ("key_points", "key_points"),
        ("questions", "questions"),
        ("qa", "result"),
    ],
)
def test_every_output_field_gets_the_values_back(gemini_api, fake_gemini, operation, field):
    api = gemini_api()
    sample = pii_sample()
    body: dict[str, Any] = {"text": sample.text(operation), "operation": operation, "options": REDACT}
    if operation == "qa":
        body["question"] = "Where should the refund go?"
    answer = api.call("POST", PROCESS, PUBLIC_KEY, body)
    assert answer.status_code == 200, answer.text
    value: Any = answer.json()
    for name in field.split("."):
        value = value[name]
    written = " ".join(value) if isinstance(value, list) else value
    assert PLACEHOLDER.search(written) is None, written
    assert [name for name, original in sample.values.items() if original not in written] == []
    counts = answer.json()["metadata"]["pii_redacted"]
    assert counts == SAMPLE_COUNTS
    assert leaks(json.dumps(fake_gemini.requests[-1].body), sample.originals()) == []


def test_one_value_gets_one_placeholder_across_the_text_and_the_question(gemini_api, fake_gemini):
    api = gemini_api()
    question = (
        f"Was the refund for {CARD.replace(' ', '-')} confirmed to {EMAIL.upper()} or to ops@example.com?"
    )
    answer = api.process(PUBLIC_KEY, text=TICKET, operation="qa", question=question, options=REDACT)
    assert answer.status_code == 200, answer.text
    prompt = prompt_of(fake_gemini.requests[-1].body)
    text_part, question_part = prompt.split("<question_", 1)
    assert {"[EMAIL_1]", "[CARD_1]"} <= {match.group() for match in PLACEHOLDER.finditer(text_part)}
    # The same address in capitals and the same card with dashes: the text's placeholders again.
    assert (question_part.count("[EMAIL_1]"), question_part.count("[CARD_1]")) == (1, 1)
    assert "[EMAIL_2]" in question_part  # another address, another placeholder
    assert answer.json()["metadata"]["pii_redacted"] == {"EMAIL": 3, "CARD": 2}
    restored = answer.json()["result"]
    for value in (EMAIL, "ops@example.com", CARD):  # the first form seen
        assert value in restored


def test_a_lost_and_an_invented_placeholder_are_counted_and_the_answer_is_still_served(
    gemini_api, fake_gemini, capsys
):
    api = gemini_api()
    fake_gemini.enqueue(Reply(text="The customer [Email_1] paid twice with [CARD_1]; see [EMAIL_7]."))
    capsys.readouterr()
    answer = api.process(PUBLIC_KEY, text=TICKET, options=REDACT)
    assert answer.status_code == 200, answer.text
    # The card is back; the mangled e-mail and the made-up one stay as the model wrote them.
    assert answer.json()["result"] == f"The customer [Email_1] paid twice with {CARD}; see [EMAIL_7]."
    totals = emf_totals(capsys.readouterr().out)
    assert (totals["PiiPlaceholdersLost"], totals["PiiPlaceholdersInvented"]) == (1, 1)
    assert totals["PiiRedacted"] == 2


def test_a_cache_hit_is_restored_and_counts_what_it_loses_again(gemini_api, fake_gemini, capsys):
    api = gemini_api()
    fake_gemini.enqueue(Reply(text="A duplicate charge on [CARD_1]."))  # the e-mail is lost
    first = api.process(PUBLIC_KEY, text=TICKET, options=REDACT)
    capsys.readouterr()
    again = api.process(PUBLIC_KEY, text=TICKET, options=REDACT)
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    assert again.json()["result"] == f"A duplicate charge on {CARD}."
    assert again.json()["metadata"]["pii_redacted"] == {"EMAIL": 1, "CARD": 1}
    assert emf_totals(capsys.readouterr().out)["PiiPlaceholdersLost"] == 1


def test_a_batch_redacts_the_items_that_ask_and_only_those(gemini_api, fake_gemini):
    api = gemini_api()
    fake_gemini.default = Computed(lambda body: Reply(text=f"Noted: {prompt_of(body)[-60:]}"))
    requests = [
        {"text": TICKET, "operation": "summarize", "options": REDACT},
        {"text": f"Plain copy. {TICKET}", "operation": "summarize"},
    ]
    answer = api.batch(PUBLIC_KEY, requests)
    assert answer.status_code == 200, answer.text
    redacted, clear = answer.json()["results"]
    assert "pii_redacted" in redacted["response"]["metadata"]
    assert "pii_redacted" not in clear["response"]["metadata"]
    sent = sorted((json.dumps(r.body) for r in fake_gemini.requests), key=lambda body: "Plain copy" in body)
    assert EMAIL not in sent[0]
    assert "[EMAIL_1]" in sent[0]
    assert EMAIL in sent[1]  # not asked: sent as written


# -- who turns it on -------------------------------------------------------------------------------------


def test_pii_mode_redacts_for_static_keys_and_a_key_record_decides_for_itself(gemini_api, fake_gemini):
    api = gemini_api(pii_mode="redact")
    opted_out_id, opted_out = api.create_key(pii="off")
    _, default = api.create_key()
    assert api.process(PUBLIC_KEY, text=TICKET).status_code == 200
    assert redacted_sent(fake_gemini)
    assert api.process(default, text=TICKET).status_code == 200
    assert redacted_sent(fake_gemini)  # no pii of its own: PII_MODE
    answer = api.process(opted_out, text=TICKET)
    assert answer.status_code == 200
    assert not redacted_sent(fake_gemini)
    assert "pii_redacted" not in answer.json()["metadata"]
    # A request can add redaction to a key that has it off, never take it away from one that has it on.
    assert api.process(opted_out, text=TICKET, options=REDACT).status_code == 200
    assert redacted_sent(fake_gemini)
    assert api.update_key(opted_out_id, pii=None).json()["pii"] is None  # back to PII_MODE
    assert api.process(opted_out, text=f"Later. {TICKET}").status_code == 200
    assert redacted_sent(fake_gemini)


def test_a_keys_pii_set_by_patch_applies_to_its_next_request(gemini_api, fake_gemini):
    api = gemini_api()
    key_id, secret = api.create_key()
    assert api.admin("GET", f"/internal/keys/{key_id}").json()["pii"] is None
    api.process(secret, text=TICKET)
    assert not redacted_sent(fake_gemini)
    assert api.update_key(key_id, pii="redact").json()["pii"] == "redact"
    answer = api.process(secret, text=f"Again. {TICKET}")
    assert answer.json()["metadata"]["pii_redacted"] == {"EMAIL": 1, "CARD": 1}
    assert redacted_sent(fake_gemini)
    assert api.update_key(key_id, pii="off").json()["pii"] == "off"
    api.process(secret, text=f"Once more. {TICKET}")
    assert not redacted_sent(fake_gemini)
    refused = api.admin("PATCH", f"/internal/keys/{key_id}", {"pii": "mask"})
    assert_refused(refused, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize(("before", "after"), [("redact", "off"), ("off", "redact")])
def test_a_replay_after_the_keys_pii_changed_is_the_first_answer_as_sent(
    gemini_api, fake_gemini, before, after
):
    """The record keeps placeholders where the first answer had values; which answers to restore is the
    record's to say, not the key's mode at the time of the replay."""
    api = gemini_api()
    key_id, secret = api.create_key(pii=before)
    calls = [
        (PROCESS, {"text": TICKET, "operation": "summarize"}),
        (BATCH, {"requests": [{"text": TICKET, "operation": op} for op in ("sentiment", "key_points")]}),
    ]
    first = [
        api.public.request("POST", path, json_body=body, headers={**auth(secret), "Idempotency-Key": path})
        for path, body in calls
    ]
    api.update_key(key_id, pii=after)
    for (path, body), answer in zip(calls, first, strict=True):
        again = api.public.request(
            "POST", path, json_body=body, headers={**auth(secret), "Idempotency-Key": path}
        )
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == answer.json()
        assert PLACEHOLDER.search(again.text) is None
    assert fake_gemini.request_count == 3


@pytest.mark.parametrize("value", ["off", "REDACT", "mask", "", True, 1, ["redact"]])
def test_options_pii_takes_redact_only(value):
    answer = Deployment().process(PUBLIC_KEY, text=TICKET, options={"pii": value})
    body = assert_refused(answer, 422, "VALIDATION_ERROR")
    assert [error["field"] for error in body["details"]["errors"]] == ["options.pii"]


@pytest.mark.parametrize("language", ["en", "es", "de", "es-MX", "pt-BR"])
def test_options_language_takes_a_language_tag_on_every_operation(language):
    api = Deployment()
    for operation, extra in (("summarize", {}), ("qa", {"question": "Who was charged?"})):
        answer = api.process(
            PUBLIC_KEY, text=TICKET, operation=operation, options={"language": language}, **extra
        )
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("language", ["english", "EN", "e", "en-us", "en_US", "en-USA", "", 5])
def test_options_language_refuses_anything_but_a_language_tag(language):
    answer = Deployment().process(PUBLIC_KEY, text=TICKET, options={"language": language})
    body = assert_refused(answer, 422, "VALIDATION_ERROR")
    assert [error["field"] for error in body["details"]["errors"]] == ["options.language"]


def test_a_batch_item_with_a_wrong_pii_option_is_named_in_the_refusal():
    requests = [
        {"text": TICKET, "operation": "summarize"},
        {"text": TICKET, "operation": "summarize", "options": {"pii": "off"}},
    ]
    body = assert_refused(Deployment().batch(PUBLIC_KEY, requests), 422, "VALIDATION_ERROR")
    assert [error["field"] for error in body["details"]["errors"]] == ["requests.1.options.pii"]


# -- names and addresses: Comprehend --------------------------------------------------------------------

NAMED = (
    f"Jane Doe wrote from 221B Baker Street, London: her card {CARD} was charged twice. "
    "Carlos Ruiz, who lives at Calle Mayor 5, Madrid, saw the same."
)


@pytest.fixture
def comprehend():
    with FakeComprehendServer() as server:
        yield server


def comprehend_api(fake_gemini, endpoint: str) -> Deployment:
    fake_gemini.default = Computed(echo_placeholders)
    return Deployment(
        public=gemini_settings(fake_gemini, pii_detector="comprehend", aws_endpoint_url=endpoint)
    )


def test_names_and_addresses_are_redacted_through_comprehend_and_restored(fake_gemini, comprehend, caplog):
    caplog.set_level(logging.DEBUG)  # botocore's own DEBUG lines: no request body among them
    api = comprehend_api(fake_gemini, comprehend.endpoint_url)
    answer = api.process(PUBLIC_KEY, text=NAMED, options=REDACT)
    assert answer.status_code == 200, answer.text
    assert answer.json()["metadata"]["pii_redacted"] == {"NAME": 2, "ADDRESS": 2, "CARD": 1}
    summary = answer.json()["result"]
    for value in ("Jane Doe", "221B Baker Street, London", "Carlos Ruiz", "Calle Mayor 5, Madrid", CARD):
        assert value in summary
    sent = json.dumps(fake_gemini.requests[-1].body)
    assert placeholders_in(fake_gemini.requests[-1].body) == [
        "[NAME_1]",
        "[ADDRESS_1]",
        "[CARD_1]",
        "[NAME_2]",
        "[ADDRESS_2]",
    ]
    assert not any(value in sent for value in ("Jane", "Baker", "Carlos", "Mayor"))
    (detection,) = comprehend.requests
    assert (detection.text, detection.language) == (NAMED, "en")
    logged = "\n".join(json.dumps(record.__dict__, default=str) for record in caplog.records)
    assert "Baker Street" not in logged


@pytest.mark.parametrize(("language", "sent"), [("es", "es"), ("es-MX", "es"), ("de", "en"), (None, "en")])
def test_comprehend_is_asked_in_the_requests_language(fake_gemini, comprehend, language, sent):
    api = comprehend_api(fake_gemini, comprehend.endpoint_url)
    options = {**REDACT, **({"language": language} if language else {})}
    answer = api.process(
        PUBLIC_KEY, text=NAMED, operation="qa", question="Who is Carlos Ruiz?", options=options
    )
    assert answer.status_code == 200, answer.text
    (detection,) = comprehend.requests  # the text and the question in one call
    assert detection.language == sent
    assert "Who is Carlos Ruiz?" in detection.text
    assert "[NAME_2]" in prompt_of(fake_gemini.requests[-1].body).rsplit("<question_", 1)[1]


def test_comprehend_is_not_called_for_a_request_that_is_not_redacted(fake_gemini, comprehend):
    api = comprehend_api(fake_gemini, comprehend.endpoint_url)
    assert api.process(PUBLIC_KEY, text=NAMED).status_code == 200
    assert comprehend.requests == []
    assert "Jane Doe" in json.dumps(fake_gemini.requests[-1].body)


def detection_failures(caplog) -> list[tuple[int, str]]:
    """(level, reason) of each "personal data detection failed" record; none may hold the text."""
    found = [r for r in caplog.records if r.getMessage() == "personal data detection failed"]
    assert not any("Baker" in json.dumps(r.__dict__, default=str) for r in found)
    return [(r.levelno, r.reason) for r in found]


def test_with_comprehend_unreachable_a_request_is_503_and_nothing_reaches_gemini(fake_gemini, caplog):
    api = comprehend_api(fake_gemini, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    answer = api.process(PUBLIC_KEY, text=NAMED, options=REDACT)
    body = assert_refused(answer, 503, "SERVICE_UNAVAILABLE")
    assert answer.headers["retry-after"]
    assert not any(value in answer.text for value in ("Jane", "Baker", CARD))
    batch = api.batch(PUBLIC_KEY, [{"text": NAMED, "operation": "sentiment", "options": REDACT}])
    assert batch.json()["results"][0]["error_code"] == "SERVICE_UNAVAILABLE", batch.text
    assert fake_gemini.requests == []
    assert "detection" in body["error"]
    assert detection_failures(caplog) == [(logging.WARNING, "EndpointConnectionError")] * 2  # why: in the log


def test_comprehend_refusing_for_good_is_a_500_and_nothing_reaches_gemini(fake_gemini, comprehend, caplog):
    api = comprehend_api(fake_gemini, comprehend.endpoint_url)
    comprehend.enqueue(ComprehendFail("AccessDeniedException", 400, "not authorized to DetectPiiEntities"))
    answer = api.process(PUBLIC_KEY, text=NAMED, options=REDACT)
    assert_refused(answer, 500, "INTERNAL_ERROR")
    assert "not authorized" not in answer.text
    assert fake_gemini.requests == []
    assert detection_failures(caplog) == [(logging.ERROR, "AccessDeniedException")]
