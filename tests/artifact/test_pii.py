"""As deployed with PiiDetector=comprehend (moto's Comprehend) on DynamoDB: a redacted request and a redacted
job item leave no original value in the cache, jobs or keys tables, in the instances' logs (LogLevel=DEBUG)
or in what the fake Gemini received; the caller gets the values back, the job result keeps placeholders."""

from __future__ import annotations

import json

from fakes.pii_texts import leaks, placeholders_in
from textapi_shared.privacy.redaction import PLACEHOLDER


def test_the_answer_comes_back_restored_and_its_replay_too(pii_scenario):
    sample, name = pii_scenario["sample"], pii_scenario["name"]
    assert pii_scenario["text"][50:58] == name  # where moto's canned NAME entity is
    answer = pii_scenario["process"]
    assert answer.status_code == 200, answer.text
    summary = answer.json()["result"]
    assert PLACEHOLDER.search(summary) is None, summary
    assert [key for key, value in sample.values.items() if value not in summary] == []
    assert name in summary  # found by Comprehend
    counts = answer.json()["metadata"]["pii_redacted"]
    assert (counts["NAME"], counts["EMAIL"]) == (1, 1), counts
    replay = pii_scenario["replay"]
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == answer.json()


def test_the_job_result_keeps_the_placeholders(pii_scenario):
    assert pii_scenario["job"].status_code == 202, pii_scenario["job"].text
    assert pii_scenario["job_delivery"]["batchItemFailures"] == []
    status = pii_scenario["job_status"].json()
    assert (status["status"], status["completed"]) == ("completed", 1), status
    response = status["results"][0]["response"]
    assert {"[NAME_1]", "[EMAIL_1]"} <= {
        match.group() for match in PLACEHOLDER.finditer(json.dumps(response))
    }
    assert leaks(json.dumps(response), pii_scenario["sample"].originals()) == []
    assert pii_scenario["queued_after"] == [[]]


def test_no_original_value_is_in_the_tables_the_logs_or_what_gemini_received(pii_scenario):
    originals = {**pii_scenario["sample"].originals(), "name": pii_scenario["name"]}
    sent = pii_scenario["sent_to_gemini"]
    assert len(sent) == 2
    assert all(placeholders_in(body) for body in sent)
    assert leaks(json.dumps(sent), originals) == []
    stored = pii_scenario["stored"]
    assert "[EMAIL_1]" in stored  # the cache entry and the job's item row were read
    assert leaks(stored, originals) == []
    logs = pii_scenario["logs"]
    assert '"PiiRedacted"' in logs  # the metrics and the access lines were read
    assert '"message":"request"' in logs
    assert leaks(logs, originals) == []
    assert pii_scenario["silent_failures"] == []
