"""Key records through both functions' lambda_handlers: the admin routes of `/internal/keys` (create, list,
read, change, rotate, revoke) and what a record's settings do to its requests on the public API (scopes,
expiry, disabled, revoked, its own rate limit, its own prompt-guard mode)."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY
from fakes.clock import FakeClock
from fakes.key_records import SHOWN_FIELDS
from fakes.tenants import JOBS, STATIC, TEXT, assert_refused, auth
from textapi_shared.tenancy.records import ALL_SCOPES, secret_hash

KEYS = "/internal/keys"
RECORD_FIELDS = SHOWN_FIELDS
GUARD_CORPUS = Path(__file__).resolve().parents[1] / "data" / "prompt_guard" / "first.jsonl"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parsed(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


def injection() -> str:
    """An instruction override from the guard's corpus, inside ordinary text."""
    for line in GUARD_CORPUS.read_text().splitlines():
        sample = json.loads(line)
        if sample["label"] == "attack" and sample.get("family") == "instruction_override":
            return f"{TEXT} {sample['text']}"
    raise AssertionError("no instruction override in the corpus")


# -- create ------------------------------------------------------------------------------------------------


def test_create_answers_201_with_the_record_and_its_secret(deployment, keys_backend):
    api = deployment(**keys_backend)
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    settings = {
        "name": "Bakery app",
        "tenant": "bakery",
        "scopes": ["summarize", "qa", "jobs"],
        "rate_limit_per_minute": 120,
        "token_budget": {"daily": 50_000, "monthly": 1_000_000},
        "expires_at": iso(expires),
        "prompt_guard": "log",
        "metadata": {"plan": "pro", "seats": 3},
    }
    created = api.admin("POST", KEYS, settings)
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) >= RECORD_FIELDS | {"api_key"}
    assert re.fullmatch(r"key_[0-9a-f]{16}", body["key_id"])
    secret = body["api_key"]
    assert re.fullmatch(r"ta_[A-Za-z0-9_-]+", secret)
    assert len(base64.urlsafe_b64decode(secret[3:] + "=" * (-len(secret[3:]) % 4))) >= 32
    assert body["status"] == "active"
    assert parsed(body["expires_at"]) == expires
    assert abs(parsed(body["created_at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    echoed = {name: value for name, value in settings.items() if name != "expires_at"}
    assert {name: body[name] for name in echoed} == echoed
    assert api.call("GET", "/v1/auth/status", secret).status_code == 200


def test_create_defaults_every_setting_but_the_name(deployment):
    body = deployment().admin("POST", KEYS, {"name": "Plain"}).json()
    defaults = {name: body[name] for name in RECORD_FIELDS - {"key_id", "name", "created_at"}}
    assert defaults == {
        "tenant": None,
        "scopes": list(ALL_SCOPES),
        "rate_limit_per_minute": None,
        "token_budget": {"daily": None, "monthly": None},
        "expires_at": None,
        "prompt_guard": None,
        "metadata": {},
        "status": "active",
    }


def test_every_key_gets_its_own_id_and_secret(deployment):
    api = deployment()
    made = [api.create_key(name=f"Key {i}") for i in range(5)]
    assert len({key_id for key_id, _ in made}) == len({secret for _, secret in made}) == 5


def test_the_secret_is_never_shown_again(deployment, keys_backend):
    api = deployment(**keys_backend)
    key_id, secret = api.create_key(tenant="bakery")
    answers = [
        api.admin("GET", f"{KEYS}/{key_id}"),
        api.admin("GET", KEYS),
        api.admin("GET", KEYS, tenant="bakery"),
        api.admin("PATCH", f"{KEYS}/{key_id}", {"name": "Renamed"}),
        api.admin("DELETE", f"{KEYS}/{key_id}"),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert secret not in answer.text
        assert secret_hash(secret) not in answer.text
        assert "api_key" not in answer.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x", "scopes": ["summarize", "translate"]}, "scopes.1"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "rate_limit_per_minute": 0}, "rate_limit_per_minute"),
        ({"name": "x", "token_budget": {"daily": 0}}, "token_budget.daily"),
        ({"name": "x", "token_budget": {"weekly": 10}}, "token_budget.weekly"),
        ({"name": "x", "prompt_guard": "off"}, "prompt_guard"),
        ({"name": "x", "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "expires_at": "2099-01-01T00:00:00"}, "expires_at"),
        ({"name": "x", "owner": "someone"}, "owner"),
        ({"name": "x", "api_key": "ta_chosen_by_me"}, "api_key"),
    ],
)
def test_create_refuses_invalid_settings_naming_the_field(deployment, body, field):
    api = deployment()
    refused = assert_refused(api.admin("POST", KEYS, body), 422, "VALIDATION_ERROR")
    assert field in [error["field"] for error in refused["details"]["errors"]], refused
    assert api.admin("GET", KEYS).json()["keys"] == []


# -- list and read -----------------------------------------------------------------------------------------


def test_list_filters_by_tenant_and_pages_with_next_token(deployment, keys_backend):
    api = deployment(**keys_backend)
    bakery = {api.create_key(name=f"Bakery {i}", tenant="bakery")[0] for i in range(5)}
    dairy = {api.create_key(name=f"Dairy {i}", tenant="dairy")[0] for i in range(2)}

    seen, token, pages = [], None, 0
    while True:
        page = api.admin("GET", KEYS, tenant="bakery", limit=2, next_token=token)
        assert page.status_code == 200, page.text
        body = page.json()
        assert set(body) == {"keys", "next_token"}
        assert len(body["keys"]) <= 2
        assert all(key["tenant"] == "bakery" and "api_key" not in key for key in body["keys"])
        assert all(set(key) >= RECORD_FIELDS for key in body["keys"])
        seen += [key["key_id"] for key in body["keys"]]
        pages += 1
        token = body["next_token"]
        if token is None:
            break
    assert (pages, len(seen), set(seen)) == (3, 5, bakery)
    assert {key["key_id"] for key in api.admin("GET", KEYS, tenant="dairy").json()["keys"]} == dairy
    everyone = api.admin("GET", KEYS).json()
    assert ({key["key_id"] for key in everyone["keys"]}, everyone["next_token"]) == (bakery | dairy, None)
    assert api.admin("GET", KEYS, tenant="nobody").json() == {"keys": [], "next_token": None}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"next_token": "not-a-token"}, "next_token"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"tenant": ""}, "tenant"),
    ],
)
def test_list_refuses_a_bad_page_query(deployment, query, field, keys_backend):
    refused = assert_refused(deployment(**keys_backend).admin("GET", KEYS, **query), 422, "VALIDATION_ERROR")
    assert field in [error["field"] for error in refused["details"]["errors"]], refused


def test_get_answers_the_record_404_for_an_unknown_id_422_for_a_malformed_one(deployment, keys_backend):
    api = deployment(**keys_backend)
    key_id, _ = api.create_key(name="Reader", tenant="bakery")
    found = api.admin("GET", f"{KEYS}/{key_id}")
    assert found.status_code == 200, found.text
    record = found.json()
    assert (record["key_id"], record["name"], record["tenant"]) == (key_id, "Reader", "bakery")
    assert_refused(api.admin("GET", f"{KEYS}/key_0123456789abcdef"), 404, "NOT_FOUND")
    for malformed in ("key_123", "key_0123456789ABCDEF", "ta_0123456789abcdef", "0123456789abcdef"):
        refused = assert_refused(api.admin("GET", f"{KEYS}/{malformed}"), 422, "VALIDATION_ERROR")
        assert refused["details"]["errors"][0]["location"] == ["path", "key_id"]


# -- change ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": "Renamed"}, {"name": "Renamed"}),
        ({"tenant": "dairy"}, {"tenant": "dairy"}),
        ({"tenant": None}, {"tenant": None}),
        ({"scopes": ["sentiment", "sentiment"]}, {"scopes": ["sentiment"]}),
        ({"scopes": None}, {"scopes": list(ALL_SCOPES)}),
        ({"rate_limit_per_minute": 5}, {"rate_limit_per_minute": 5}),
        ({"rate_limit_per_minute": None}, {"rate_limit_per_minute": None}),
        ({"token_budget": {"monthly": 9}}, {"token_budget": {"daily": None, "monthly": 9}}),
        ({"token_budget": None}, {"token_budget": {"daily": None, "monthly": None}}),
        ({"expires_at": "2099-01-01T00:00:00+02:00"}, {"expires_at": "2098-12-31T22:00:00.000Z"}),
        ({"expires_at": None}, {"expires_at": None}),
        ({"prompt_guard": "block"}, {"prompt_guard": "block"}),
        ({"prompt_guard": None}, {"prompt_guard": None}),
        ({"metadata": {"plan": "free"}}, {"metadata": {"plan": "free"}}),
        ({"status": "disabled"}, {"status": "disabled"}),
    ],
)
def test_patch_changes_one_setting_and_leaves_the_others(deployment, change, expected, keys_backend):
    api = deployment(**keys_backend)
    created = api.admin(
        "POST",
        KEYS,
        {
            "name": "Original",
            "tenant": "bakery",
            "scopes": ["summarize"],
            "rate_limit_per_minute": 30,
            "token_budget": {"daily": 100_000},
            "expires_at": "2098-01-01T00:00:00Z",
            "prompt_guard": "log",
            "metadata": {"plan": "pro"},
        },
    ).json()
    changed = api.admin("PATCH", f"{KEYS}/{created['key_id']}", change)
    assert changed.status_code == 200, changed.text
    body = changed.json()
    for name in RECORD_FIELDS - set(expected):
        assert body[name] == created[name], name
    for name, value in expected.items():
        assert body[name] == value, name
    assert body["updated_at"] >= created["updated_at"]
    assert api.admin("GET", f"{KEYS}/{created['key_id']}").json() == body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": None}, "name"),
        ({"status": "revoked"}, "status"),
        ({"status": "paused"}, "status"),
        ({"scopes": ["everything"]}, "scopes.0"),
        ({"key_id": "key_0000000000000000"}, "key_id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_patch_refuses_what_cannot_be_set(deployment, change, field):
    api = deployment()
    key_id, secret = api.create_key(name="Kept")
    refused = assert_refused(api.admin("PATCH", f"{KEYS}/{key_id}", change), 422, "VALIDATION_ERROR")
    assert field in [error["field"] for error in refused["details"]["errors"]], refused
    record = api.admin("GET", f"{KEYS}/{key_id}").json()
    assert (record["name"], record["status"]) == ("Kept", "active")
    assert api.process(secret).status_code == 200


def test_patch_of_an_unknown_key_is_404(deployment):
    api = deployment()
    assert_refused(api.admin("PATCH", f"{KEYS}/key_0123456789abcdef", {"name": "x"}), 404, "NOT_FOUND")
    assert_refused(api.admin("PATCH", f"{KEYS}/not-a-key", {"name": "x"}), 422, "VALIDATION_ERROR")


# -- rotate ------------------------------------------------------------------------------------------------


def test_rotate_issues_a_new_secret_and_keeps_the_old_one_for_a_day_by_default(deployment, keys_backend):
    api = deployment(**keys_backend)
    key_id, old = api.create_key()
    rotated = api.admin("POST", f"{KEYS}/{key_id}/rotate")
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert set(body) == {"key_id", "api_key", "previous_valid_until", "callback_secret"}
    new = body["api_key"]
    assert body["key_id"] == key_id
    assert re.fullmatch(r"ta_[A-Za-z0-9_-]{43,}", new)
    assert new != old
    until = parsed(body["previous_valid_until"])
    assert abs(until - (datetime.now(UTC) + timedelta(seconds=86_400))) < timedelta(minutes=1)
    for secret in (old, new):
        answered = api.usage(secret)
        assert answered.status_code == 200, answered.text
        assert answered.json()["key_id"] == key_id  # one key, whichever secret: its usage stays together
    record = api.admin("GET", f"{KEYS}/{key_id}")
    assert new not in record.text
    assert record.json()["previous_valid_until"] == body["previous_valid_until"]


def test_rotate_with_a_grace_keeps_the_old_secret_until_then(deployment):
    api = deployment()
    key_id, old = api.create_key()
    body = api.admin("POST", f"{KEYS}/{key_id}/rotate", {"grace_seconds": 600}).json()
    until = parsed(body["previous_valid_until"])
    assert abs(until - (datetime.now(UTC) + timedelta(seconds=600))) < timedelta(minutes=1)
    assert api.process(old).status_code == api.process(body["api_key"]).status_code == 200


def test_rotate_with_no_grace_ends_the_old_secret_at_once(deployment, keys_backend):
    api = deployment(**keys_backend)
    key_id, old = api.create_key()
    assert api.process(old).status_code == 200  # the old secret's record is in the instance's cache
    body = api.admin("POST", f"{KEYS}/{key_id}/rotate", {"grace_seconds": 0}).json()
    assert body["previous_valid_until"] is None
    refused = assert_refused(api.process(old), 401, "AUTHENTICATION_ERROR")
    assert refused["error"] == "Invalid API key."
    assert api.process(body["api_key"]).status_code == 200


def test_a_second_rotation_ends_the_first_secret(deployment, keys_backend):
    api = deployment(**keys_backend)
    key_id, first = api.create_key()
    second = api.admin("POST", f"{KEYS}/{key_id}/rotate", {"grace_seconds": 600}).json()["api_key"]
    third = api.admin("POST", f"{KEYS}/{key_id}/rotate", {"grace_seconds": 600}).json()["api_key"]
    assert_refused(api.usage(first), 401, "AUTHENTICATION_ERROR")
    assert api.usage(second).status_code == api.usage(third).status_code == 200


@pytest.mark.slow  # waits for a grace period and an expiry to pass
def test_a_grace_period_and_an_expiry_end_on_time(deployment):
    api = deployment()
    key_id, old = api.create_key()
    new = api.admin("POST", f"{KEYS}/{key_id}/rotate", {"grace_seconds": 1}).json()["api_key"]
    _, expiring = api.create_key(expires_at=iso(datetime.now(UTC) + timedelta(seconds=1)))
    assert api.usage(old).status_code == api.usage(expiring).status_code == 200
    time.sleep(1.1)
    assert_refused(api.usage(old), 401, "AUTHENTICATION_ERROR")
    assert "expired" in assert_refused(api.usage(expiring), 401, "AUTHENTICATION_ERROR")["error"]
    assert api.usage(new).status_code == 200


@pytest.mark.parametrize("grace", [-1, 604_801, "a day", 1.5])
def test_rotate_refuses_a_grace_outside_0_to_a_week(deployment, grace):
    api = deployment()
    key_id, old = api.create_key()
    refused = assert_refused(
        api.admin("POST", f"{KEYS}/{key_id}/rotate", {"grace_seconds": grace}), 422, "VALIDATION_ERROR"
    )
    assert refused["details"]["errors"][0]["field"] == "grace_seconds"
    assert api.process(old).status_code == 200  # not rotated


def test_rotate_takes_a_whole_week_of_grace(deployment):
    api = deployment()
    key_id, _ = api.create_key()
    body = api.admin("POST", f"{KEYS}/{key_id}/rotate", {"grace_seconds": 604_800}).json()
    until = parsed(body["previous_valid_until"])
    assert abs(until - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)


def test_rotate_of_an_unknown_key_is_404(deployment):
    api = deployment()
    assert_refused(api.admin("POST", f"{KEYS}/key_0123456789abcdef/rotate"), 404, "NOT_FOUND")


# -- revoke ------------------------------------------------------------------------------------------------


def test_delete_revokes_for_good(deployment, keys_backend):
    api = deployment(**keys_backend)
    key_id, secret = api.create_key()
    assert api.process(secret).status_code == 200
    revoked = api.admin("DELETE", f"{KEYS}/{key_id}")
    assert revoked.status_code == 200, revoked.text
    assert set(revoked.json()) >= RECORD_FIELDS
    assert revoked.json()["status"] == "revoked"
    assert api.admin("GET", f"{KEYS}/{key_id}").json()["status"] == "revoked"

    refused = assert_refused(api.process(secret), 401, "AUTHENTICATION_ERROR")
    assert "revoked" in refused["error"]
    assert api.process(secret).headers["www-authenticate"] == "Bearer"

    # A revoked key stays revoked: no change brings it back, no rotation gives it a new secret.
    assert_refused(api.admin("PATCH", f"{KEYS}/{key_id}", {"status": "active"}), 422, "VALIDATION_ERROR")
    assert_refused(api.admin("PATCH", f"{KEYS}/{key_id}", {"name": "Back"}), 422, "VALIDATION_ERROR")
    assert_refused(api.admin("POST", f"{KEYS}/{key_id}/rotate"), 422, "VALIDATION_ERROR")
    assert api.admin("GET", f"{KEYS}/{key_id}").json()["status"] == "revoked"
    assert_refused(api.process(secret), 401, "AUTHENTICATION_ERROR")
    assert api.admin("DELETE", f"{KEYS}/{key_id}").json()["status"] == "revoked"  # again: the same


def test_revoking_after_a_rotation_ends_both_secrets(deployment, keys_backend):
    api = deployment(**keys_backend)
    key_id, old = api.create_key()
    new = api.admin("POST", f"{KEYS}/{key_id}/rotate", {"grace_seconds": 600}).json()["api_key"]
    api.admin("DELETE", f"{KEYS}/{key_id}")
    for secret in (old, new):
        assert_refused(api.usage(secret), 401, "AUTHENTICATION_ERROR")


def test_delete_of_an_unknown_key_is_404(deployment):
    api = deployment()
    assert_refused(api.admin("DELETE", f"{KEYS}/key_0123456789abcdef"), 404, "NOT_FOUND")
    assert_refused(api.admin("DELETE", f"{KEYS}/key_!"), 422, "VALIDATION_ERROR")


# -- admin keys only ---------------------------------------------------------------------------------------

ADMIN_ROUTES = [
    ("POST", KEYS, {"name": "x"}),
    ("GET", KEYS, None),
    ("GET", f"{KEYS}/key_0123456789abcdef", None),
    ("PATCH", f"{KEYS}/key_0123456789abcdef", {"name": "x"}),
    ("POST", f"{KEYS}/key_0123456789abcdef/rotate", {}),
    ("DELETE", f"{KEYS}/key_0123456789abcdef", None),
    ("GET", f"{KEYS}/key_0123456789abcdef/usage", None),
    ("GET", "/internal/usage?date=2026-01-01", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_key_routes_need_an_admin_key(deployment, method, path, body):
    api = deployment()
    record_id, record_key = api.create_key()
    callers = [
        ({}, 401, "AUTHENTICATION_ERROR"),
        ({"X-API-Key": "ak-not-an-admin-key"}, 401, "AUTHENTICATION_ERROR"),
        (STATIC, 403, "AUTHORIZATION_ERROR"),
        (auth(record_key), 403, "AUTHORIZATION_ERROR"),
    ]
    for headers, status, code in callers:
        response = api.internal.request(method, path, json_body=body, headers=headers)
        assert_refused(response, status, code)
        if status == 401:
            assert response.headers["www-authenticate"] == "Bearer"
    assert [key["key_id"] for key in api.admin("GET", KEYS).json()["keys"]] == [record_id]  # none created


def test_an_admin_key_is_no_public_key(deployment):
    api = deployment()
    assert_refused(api.process(ADMIN_KEY), 401, "AUTHENTICATION_ERROR")


# -- what a record's settings do on the public API ---------------------------------------------------------


def test_an_operation_outside_the_scopes_is_403_naming_it(gemini_deployment, fake_gemini):
    api = gemini_deployment()
    _, secret = api.create_key(scopes=["summarize"])
    refused = assert_refused(api.process(secret, operation="sentiment"), 403, "AUTHORIZATION_ERROR")
    assert "'sentiment'" in refused["error"]
    assert refused["details"] == {"scope": "sentiment"}
    assert fake_gemini.request_count == 0
    assert api.process(secret).status_code == 200


def test_a_batch_with_any_item_outside_the_scopes_is_refused_whole(gemini_deployment, fake_gemini):
    api = gemini_deployment()
    _, secret = api.create_key(scopes=["summarize", "sentiment"], rate_limit_per_minute=10)
    requests = [
        {"text": TEXT, "operation": "summarize"},
        {"text": TEXT, "operation": "key_points"},
        {"text": TEXT, "operation": "qa", "question": "What opens next spring?"},
    ]
    refused = assert_refused(api.batch(secret, requests), 403, "AUTHORIZATION_ERROR")
    assert refused["details"] == {"scope": "key_points"}  # the first one outside
    assert fake_gemini.request_count == 0
    # Nothing of the rate limit was spent: a batch of all 10 the limit allows still fits.
    allowed = [{"text": f"{TEXT} {i}", "operation": "summarize"} for i in range(10)]
    assert api.batch(secret, allowed).status_code == 200


def test_a_job_with_any_item_outside_the_scopes_is_refused_whole(gemini_deployment, fake_gemini):
    api = gemini_deployment()
    _, secret = api.create_key(scopes=["summarize", "jobs"])
    requests = [{"text": TEXT, "operation": "summarize"}, {"text": TEXT, "operation": "questions"}]
    refused = assert_refused(
        api.call("POST", JOBS, secret, {"requests": requests}), 403, "AUTHORIZATION_ERROR"
    )
    assert refused["details"] == {"scope": "questions"}
    assert api.call("GET", JOBS, secret).json()["jobs"] == []
    assert fake_gemini.request_count == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", JOBS, {"requests": [{"text": TEXT, "operation": "summarize"}]}),
        ("GET", JOBS, None),
        ("GET", f"{JOBS}/job_{'0' * 32}", None),
        ("DELETE", f"{JOBS}/job_{'0' * 32}", None),
    ],
)
def test_job_routes_need_the_jobs_scope(deployment, method, path, body):
    api = deployment()
    _, secret = api.create_key(scopes=list(ALL_SCOPES[:-1]))
    refused = assert_refused(api.call(method, path, secret, body), 403, "AUTHORIZATION_ERROR")
    assert refused["details"] == {"scope": "jobs"}
    assert "'jobs'" in refused["error"]


def test_a_scope_change_applies_to_the_next_request(deployment):
    api = deployment()
    key_id, secret = api.create_key(scopes=["summarize"])
    assert_refused(api.process(secret, operation="sentiment"), 403, "AUTHORIZATION_ERROR")
    api.update_key(key_id, scopes=["summarize", "sentiment"])
    assert api.process(secret, operation="sentiment").status_code == 200
    api.update_key(key_id, scopes=["sentiment"])
    assert_refused(api.process(secret), 403, "AUTHORIZATION_ERROR")


def test_an_expired_key_is_401(deployment, keys_backend):
    api = deployment(**keys_backend)
    key_id, secret = api.create_key(expires_at=iso(datetime.now(UTC) + timedelta(days=1)))
    assert api.process(secret).status_code == 200
    api.update_key(key_id, expires_at=iso(datetime.now(UTC) - timedelta(seconds=1)))
    refused = assert_refused(api.process(secret), 401, "AUTHENTICATION_ERROR")
    assert "expired" in refused["error"]
    assert_refused(api.usage(secret), 401, "AUTHENTICATION_ERROR")
    assert_refused(api.call("GET", JOBS, secret), 401, "AUTHENTICATION_ERROR")
    api.update_key(key_id, expires_at=None)
    assert api.process(secret).status_code == 200


def test_a_disabled_key_is_401_until_enabled_again(deployment, keys_backend):
    api = deployment(**keys_backend)
    key_id, secret = api.create_key()
    assert api.admin("PATCH", f"{KEYS}/{key_id}", {"status": "disabled"}).json()["status"] == "disabled"
    refused = assert_refused(api.process(secret), 401, "AUTHENTICATION_ERROR")
    assert "disabled" in refused["error"]
    assert_refused(api.call("GET", "/v1/auth/status", secret), 401, "AUTHENTICATION_ERROR")
    assert_refused(api.usage(secret), 401, "AUTHENTICATION_ERROR")
    assert api.update_key(key_id, status="active").json()["status"] == "active"
    assert api.process(secret).status_code == 200


def test_an_unknown_record_secret_is_401(deployment):
    api = deployment()
    api.create_key()
    assert_refused(api.process("ta_" + "A" * 43), 401, "AUTHENTICATION_ERROR")


def test_a_key_with_its_own_rate_limit_gets_it(deployment):
    api = deployment()
    key_id, secret = api.create_key(rate_limit_per_minute=3)
    answers = [api.process(secret, text=f"{TEXT} {i}") for i in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["x-ratelimit-limit"] for a in answers] == ["3", "3", "3"]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
    refused = api.process(secret, text=f"{TEXT} 4")
    body = assert_refused(refused, 429, "RATE_LIMIT_EXCEEDED")
    assert body["details"]["limit"] == 3
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["x-ratelimit-limit"] == "3"
    # Other keys keep the deployment's limit.
    assert api.process(PUBLIC_KEY).headers["x-ratelimit-limit"] == "60"
    _, other = api.create_key()
    assert api.process(other).headers["x-ratelimit-limit"] == "60"
    # A raised limit applies at the next request.
    api.update_key(key_id, rate_limit_per_minute=10)
    raised = api.process(secret, text=f"{TEXT} 5")
    assert (raised.status_code, raised.headers["x-ratelimit-limit"]) == (200, "10")


def test_a_key_in_log_mode_passes_an_injection_that_block_mode_refuses(deployment, caplog):
    api = deployment()  # PROMPT_GUARD_MODE=block, the default
    text = injection()
    _, logged = api.create_key(prompt_guard="log")
    _, blocked = api.create_key(prompt_guard="block")
    _, default = api.create_key()
    caplog.clear()
    passed = api.process(logged, text=text)
    assert passed.status_code == 200, passed.text
    [flagged] = [r for r in caplog.records if r.getMessage() == "prompt guard flagged text"]
    assert flagged.levelno == logging.WARNING
    assert flagged.rules  # still recorded: by rule, never the text
    assert all(text not in r.getMessage() for r in caplog.records)
    for secret in (blocked, default):
        refused = assert_refused(api.process(secret, text=text), 400, "PROMPT_REJECTED")
        assert refused["details"]["rules"]


def test_a_key_in_block_mode_refuses_an_injection_a_log_deployment_passes(deployment):
    api = deployment(prompt_guard_mode="log")
    text = injection()
    _, blocked = api.create_key(prompt_guard="block")
    _, default = api.create_key()
    assert_refused(api.process(blocked, text=text), 400, "PROMPT_REJECTED")
    assert api.process(default, text=text).status_code == 200


def test_a_record_change_reaches_another_instance_within_key_cache_seconds(deployment, keys_backend):
    clock = FakeClock(0.0)
    api = deployment(own_key_caches=True, clock=clock, key_cache_seconds=30, **keys_backend)
    key_id, secret = api.create_key()
    assert api.process(secret).status_code == 200  # the public function's instance caches the record
    api.admin("DELETE", f"{KEYS}/{key_id}")
    clock.advance(29)
    assert api.process(secret).status_code == 200  # within KEY_CACHE_SECONDS of its last read
    clock.advance(1)
    assert_refused(api.process(secret), 401, "AUTHENTICATION_ERROR")


def test_open_mode_refuses_a_key_records_secret_it_does_not_know(deployment):
    """With no static public key the public API runs open (dev stages), yet a presented `ta_` secret is a
    caller meaning to be a key: one rotated away (or mistyped) is 401, never served as anonymous."""
    api = deployment(public={"api_key": "", "additional_api_keys": []})
    key_id, secret = api.create_key()
    assert api.process(secret).status_code == 200
    rotated = api.admin("POST", f"{KEYS}/{key_id}/rotate", {"grace_seconds": 0})
    assert rotated.status_code == 200, rotated.text
    assert_refused(api.process(secret), 401, "AUTHENTICATION_ERROR")
    assert_refused(api.process("ta_" + "x" * 43), 401, "AUTHENTICATION_ERROR")
    assert api.process(rotated.json()["api_key"]).status_code == 200
    assert (
        api.call(
            "POST", "/v1/text_processing/process", None, {"text": TEXT, "operation": "summarize"}
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "query"),
    [
        ("PATCH", "", {"expires_at": 0}, {}),  # a number read as epoch seconds would be 1970
        ("PATCH", "", {"rate_limit_per_minute": True}, {}),
        ("PATCH", "", {"token_budget": {"daily": "5000"}}, {}),
        ("POST", "/rotate", {"grace_seconds": False}, {}),
        ("GET", "/usage", None, {"to": "0"}),
        ("GET", "/usage", None, {"from": "1700000000"}),
    ],
)
def test_numbers_and_booleans_in_place_of_dates_and_counts_are_422(deployment, method, path, body, query):
    api = deployment()
    key_id, _ = api.create_key()
    assert_refused(api.admin(method, f"{KEYS}/{key_id}{path}", body, **query), 422, "VALIDATION_ERROR")


def test_the_billing_export_takes_a_calendar_day_only(deployment):
    api = deployment()
    assert_refused(api.admin("GET", "/internal/usage", date="0"), 422, "VALIDATION_ERROR")
    assert api.admin("GET", "/internal/usage", date="2026-12-07").status_code == 200
