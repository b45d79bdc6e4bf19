"""As deployed: a key record and its daily budget in the keys table (DynamoDB on the moto server), used
by the public function and the worker, managed and reported through the internal function."""

from __future__ import annotations

from artifact.tenant_scenario import DAILY_BUDGET


def test_a_key_record_is_created_and_serves_its_tenant(dynamodb_scenario):
    tenant = dynamodb_scenario["tenant"]
    created = tenant["created"]
    assert created.status_code == 201, created.text
    assert created.json()["api_key"].startswith("ta_")
    miss, hit = tenant["miss"], tenant["hit"]
    assert miss.status_code == hit.status_code == 200, (miss.text, hit.text)
    assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("miss", "hit")
    billed = int(miss.headers["x-tokens-billed"])
    assert billed == miss.json()["metadata"]["tokens_billed"] > 0
    assert hit.headers["x-tokens-billed"] == "0"
    assert hit.json()["metadata"]["tokens_saved"] == billed
    # Its own callback secret, shown at creation and read again by its holder, derived from SSM's.
    assert created.json()["callback_secret"].startswith("whsec_")
    assert tenant["callback_secret"].json() == {"secret": created.json()["callback_secret"]}


def test_the_worker_bills_the_jobs_owner(dynamodb_scenario):
    tenant = dynamodb_scenario["tenant"]
    assert tenant["job"].status_code == 202, tenant["job"].text
    assert tenant["job_delivery"]["batchItemFailures"] == []
    status = tenant["job_status"].json()
    assert (status["status"], status["completed"]) == ("completed", 1), status
    [listed] = tenant["own_jobs"].json()["jobs"]
    assert listed["job_id"] == tenant["job"].json()["job_id"]


def test_usage_is_reported_to_the_tenant_and_the_operator(dynamodb_scenario):
    tenant = dynamodb_scenario["tenant"]
    usage = tenant["own_usage"].json()
    billed = tenant["miss"].json()["metadata"]["tokens_billed"]
    job_billed = tenant["job_status"].json()["results"][0]["response"]["metadata"]["tokens_billed"]
    assert usage["key_id"] == tenant["key_id"]
    assert usage["day"]["tokens_billed"] == billed + job_billed
    assert usage["day"]["remaining"] == DAILY_BUDGET - billed - job_billed
    assert (usage["ai_calls"], usage["cache_hits"]) == (2, 1)
    [listed] = tenant["listed"].json()["keys"]
    assert listed["key_id"] == tenant["key_id"]
    assert "api_key" not in listed
    [day] = tenant["key_usage"].json()["days"]
    assert day["tokens_billed"] == billed + job_billed
    exported = {row["key_id"]: row for row in tenant["export"].json()["keys"]}
    assert exported[tenant["key_id"]]["tokens_billed"] == billed + job_billed


def test_a_budget_cut_refuses_before_any_ai_call(dynamodb_scenario):
    tenant = dynamodb_scenario["tenant"]
    assert tenant["cut"].status_code == 200, tenant["cut"].text
    refused = tenant["over_budget"]
    assert refused.status_code == 429, refused.text
    assert refused.json()["error_code"] == "BUDGET_EXCEEDED"
    assert refused.json()["details"]["period"] == "day"
    assert int(refused.headers["retry-after"]) > 0
    assert tenant["upstream_when_refused"] == 0


def test_rotation_overlaps_and_revocation_ends_the_key(dynamodb_scenario):
    tenant = dynamodb_scenario["tenant"]
    assert tenant["rotated"].status_code == 200, tenant["rotated"].text
    assert tenant["old_key_in_grace"].status_code == tenant["new_key"].status_code == 200
    assert tenant["revoked"].json()["status"] == "revoked"
    after = tenant["after_revoke"]
    assert after.status_code == 401, after.text
    assert after.json()["error_code"] == "AUTHENTICATION_ERROR"
