"""As deployed with CacheBackend=dynamodb (the default): keys, the Gemini key and the resilience
configuration from SSM, cache entries, counters and breaker state in the cache table, all on the moto
server; the internal function's configuration change reaches the public function through SSM."""

from __future__ import annotations

import json

from standardwebhooks import Webhook

from artifact.scenarios import CUSTOM, REPLIES


def test_every_operation_and_a_batch_answer_200_from_gemini(dynamodb_scenario):
    for operation in REPLIES:
        response = dynamodb_scenario[operation]
        assert response.status_code == 200, response.text
        assert response.json()["metadata"]["provider"] == "gemini"
    assert dynamodb_scenario["batch"].status_code == 200
    assert dynamodb_scenario["batch"].json()["completed"] == 3
    assert dynamodb_scenario["upstream"] == 8


def test_cache_entries_are_in_the_table_and_the_backend_is_connected(dynamodb_scenario):
    status = dynamodb_scenario["cache_status"].json()
    assert (status["backend"], status["connected"]) == ("tiered(memory+dynamodb)", True)
    operations = [item["operation"]["S"] for item in dynamodb_scenario["items"] if "operation" in item]
    assert sorted(set(operations)) == sorted(REPLIES)
    assert len(operations) == 8


def test_the_configuration_written_through_the_internal_api_lands_in_ssm_and_the_public_function_applies_it(
    dynamodb_scenario,
):
    assert dynamodb_scenario["put_preset"].status_code == 200, dynamodb_scenario["put_preset"].text
    assert dynamodb_scenario["put_config"].status_code == 200, dynamodb_scenario["put_config"].text
    assert json.loads(dynamodb_scenario["ssm_custom_config"]) == CUSTOM
    # Threshold 1 (the dev preset's is 3): one 503 opens the breaker, the next call is refused at once.
    assert dynamodb_scenario["failing"].status_code == 503
    rejected = dynamodb_scenario["rejected"]
    assert rejected.status_code == 503
    assert rejected.json()["details"]["circuit_breaker"] == "open"
    assert dynamodb_scenario["upstream_after_outage"] == dynamodb_scenario["upstream"] + 1
    assert dynamodb_scenario["breaker_seen_by_internal"].json()["state"] == "open", "shared through the table"
    assert dynamodb_scenario["probe"].status_code == 200


def test_admin_operations_and_health_work_against_the_table_and_ssm(dynamodb_scenario):
    for step in ("reset_breaker", "invalidate_operation", "invalidate_pattern", "reset_metrics"):
        assert dynamodb_scenario[step].status_code == 200, (step, dynamodb_scenario[step].text)
    assert dynamodb_scenario["invalidate_pattern"].json()["removed"] >= 1
    assert dynamodb_scenario["monitoring_metrics"].json()["scope"] == "fleet"
    assert dynamodb_scenario["monitoring_metrics"].json()["totals"]["requests"] >= 11
    health = dynamodb_scenario["health"].json()
    assert health["status"] == "healthy", health
    assert {"authentication", "ai", "cache", "resilience", "ssm"} <= health["components"].keys()
    assert dynamodb_scenario["public_health"].json()["status"] == "healthy"


def test_no_module_was_missing_and_nothing_fell_back_silently(dynamodb_scenario):
    assert dynamodb_scenario["silent_failures"] == []


def test_a_job_runs_in_the_worker_through_an_outage_and_its_signed_callback_arrives(dynamodb_scenario):
    assert dynamodb_scenario["job"].status_code == 202, dynamodb_scenario["job"].text
    [message_id] = [f["itemIdentifier"] for f in dynamodb_scenario["first_delivery"]["batchItemFailures"]]
    assert message_id, "the item met the outage: its message comes back instead of failing the item"
    assert dynamodb_scenario["redelivered_receive_count"] == ["2"]
    assert dynamodb_scenario["second_delivery"]["batchItemFailures"] == []
    status = dynamodb_scenario["job_status"].json()
    assert (status["status"], status["completed"], status["failed"]) == ("completed", 1, 0)
    assert status["results"][0]["response"]["metadata"]["provider"] == "gemini"
    [callback] = dynamodb_scenario["callbacks"]
    secret = dynamodb_scenario["callback_secret"].json()["secret"]  # the key's own, derived from SSM's
    assert Webhook(secret).verify(callback.body, callback.headers)["status"] == "completed"
    assert dynamodb_scenario["cancel"].json()["status"] == "cancelled"
