"""Key records as values: the secret and id formats, secret hashing, scopes, token budgets (and the admin
API's validation of both), rotation, refusals, and the stored and shown forms of a record."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import typing
from dataclasses import fields

import pytest
from pydantic import ValidationError

from fakes.key_records import NOON, SHOWN_FIELDS, full_record, key_record
from internal_api.key_schemas import KeyCreateRequest, KeyUpdateRequest, Scope, TokenBudgetModel
from public_api.schemas import TextOperation
from textapi_shared.tenancy.codec import public_view, record_from_json, record_to_json
from textapi_shared.tenancy.records import (
    ALL_SCOPES,
    JOBS_SCOPE,
    OPERATION_SCOPES,
    KeyRecord,
    KeyStatus,
    TokenBudget,
    new_api_key,
    new_key_id,
    secret_hash,
)

# -- formats ------------------------------------------------------------------------------------------


def test_an_api_key_is_ta_and_at_least_32_random_bytes_url_safe():
    keys = {new_api_key() for _ in range(1000)}
    assert len(keys) == 1000
    for key in keys:
        assert key.startswith("ta_")
        body = key.removeprefix("ta_")
        assert re.fullmatch(r"[A-Za-z0-9_-]+", body)  # travels in a header unquoted
        assert len(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) >= 32


def test_a_key_id_is_key_and_16_hex_digits():
    ids = {new_key_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"key_[0-9a-f]{16}", key_id) for key_id in ids)


def test_a_secret_is_stored_as_its_sha256():
    key = new_api_key()
    assert secret_hash(key) == hashlib.sha256(key.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", secret_hash(key))
    assert secret_hash(key) == secret_hash(key)
    assert secret_hash(key) != secret_hash(key + "x")
    assert key not in secret_hash(key)


# -- scopes -------------------------------------------------------------------------------------------


def test_scopes_are_the_operations_and_jobs():
    assert typing.get_args(TextOperation) == OPERATION_SCOPES  # every operation id, in API order
    assert ALL_SCOPES[:-1] == OPERATION_SCOPES
    assert ALL_SCOPES[-1] == JOBS_SCOPE == "jobs"
    assert typing.get_args(Scope) == ALL_SCOPES  # what the admin API accepts


def test_a_record_allows_only_its_scopes_and_all_by_default():
    everything, _ = key_record()
    assert everything.scopes == ALL_SCOPES
    assert all(everything.allows(scope) for scope in ALL_SCOPES)
    narrow, _ = key_record(scopes=("sentiment",))
    assert narrow.allows("sentiment")
    assert not narrow.allows("summarize")
    assert not narrow.allows("jobs")
    assert not narrow.allows("")


def test_the_admin_api_gives_a_new_key_every_scope_unless_it_names_some():
    assert KeyCreateRequest(name="a").record_fields(only_set=False)["scopes"] == ALL_SCOPES
    named = KeyCreateRequest(name="a", scopes=["qa", "jobs", "qa"]).record_fields(only_set=False)
    assert named["scopes"] == ("qa", "jobs")  # repeats dropped, order kept


def test_a_change_that_clears_the_scopes_restores_all_of_them():
    assert KeyUpdateRequest(scopes=None).record_fields(only_set=True) == {"scopes": ALL_SCOPES}
    assert KeyUpdateRequest(name="b").record_fields(only_set=True) == {"name": "b"}


@pytest.mark.parametrize("scopes", [[], ["translate"], ["Summarize"], ["*"]])
def test_scopes_that_are_empty_or_unknown_are_refused(scopes):
    with pytest.raises(ValidationError):
        KeyCreateRequest(name="a", scopes=scopes)


# -- token budgets ------------------------------------------------------------------------------------


def test_a_budget_is_unlimited_unless_a_period_has_one():
    assert not TokenBudget().limited
    assert TokenBudget().as_dict() == {"daily": None, "monthly": None}
    assert TokenBudget(daily=1).limited
    assert TokenBudget(monthly=1).limited
    assert TokenBudget(5, 10).as_dict() == {"daily": 5, "monthly": 10}


def test_the_admin_api_turns_a_budget_into_the_records():
    fields_ = KeyCreateRequest(name="a", token_budget={"daily": 1000}).record_fields(only_set=False)
    assert fields_["token_budget"] == TokenBudget(daily=1000, monthly=None)
    assert KeyCreateRequest(name="a").record_fields(only_set=False)["token_budget"] == TokenBudget()
    cleared = KeyUpdateRequest(token_budget=None).record_fields(only_set=True)
    assert cleared == {"token_budget": TokenBudget()}  # null lifts the budget


@pytest.mark.parametrize(
    "budget",
    [
        {"daily": 0},
        {"daily": -5},
        {"monthly": 0},
        {"daily": 1.5},
        {"daily": "lots"},
        {"daily": 10**12 + 1},
        {"monthly": 10**13 + 1},
        {"weekly": 100},
    ],
)
def test_budgets_that_are_not_a_positive_whole_number_of_tokens_are_refused(budget):
    with pytest.raises(ValidationError):
        TokenBudgetModel(**budget)


def test_budgets_at_their_bounds_are_accepted():
    assert TokenBudgetModel(daily=1, monthly=10**13).model_dump() == {"daily": 1, "monthly": 10**13}


# -- rotation and refusals ----------------------------------------------------------------------------


def test_a_rotation_issues_a_new_secret_and_keeps_the_old_one_for_the_overlap():
    record, old_key = key_record()
    rotated, new_key = record.rotated(NOON + 5, grace_s=600)
    assert new_key.startswith("ta_")
    assert new_key != old_key
    assert rotated.secret_hash == secret_hash(new_key)
    assert (rotated.previous_secret_hash, rotated.previous_valid_until) == (secret_hash(old_key), NOON + 605)
    assert (rotated.secret_generation, rotated.updated_at, rotated.created_at) == (1, NOON + 5, NOON)
    assert rotated.accepts(secret_hash(old_key), NOON + 604.9)
    assert not rotated.accepts(secret_hash(old_key), NOON + 605)
    assert not rotated.accepts(secret_hash("ta_other"), NOON + 5)


def test_a_rotation_without_overlap_keeps_no_previous_secret():
    record, old_key = key_record()
    rotated, _ = record.rotated(NOON, grace_s=0)
    assert (rotated.previous_secret_hash, rotated.previous_valid_until) == (None, None)
    assert not rotated.accepts(secret_hash(old_key), NOON)


@pytest.mark.parametrize(
    ("settings", "now", "refusal"),
    [
        ({}, NOON, None),
        ({"expires_at": NOON + 1}, NOON, None),
        ({"expires_at": NOON}, NOON, "This API key has expired."),
        ({"status": KeyStatus.DISABLED}, NOON, "This API key is disabled."),
        ({"status": KeyStatus.REVOKED}, NOON, "This API key has been revoked."),
        ({"status": KeyStatus.REVOKED, "expires_at": NOON - 1}, NOON, "This API key has been revoked."),
    ],
)
def test_a_record_says_why_it_cannot_be_used(settings, now, refusal):
    record, _ = key_record(**settings)
    assert record.refusal(now) == refusal


# -- stored and shown forms ---------------------------------------------------------------------------


def test_every_field_survives_the_stored_json():
    record, _ = full_record()
    text = record_to_json(record)
    assert record_from_json(text) == record
    assert set(json.loads(text)) == {f.name for f in fields(KeyRecord)}  # nothing left out
    assert record_to_json(record_from_json(text)) == text  # stable bytes


def test_a_record_stored_before_later_fields_existed_reads_with_their_defaults():
    record, _ = key_record()
    data = json.loads(record_to_json(record))
    for later in ("pii", "secret_generation", "previous_secret_hash", "previous_valid_until"):
        del data[later]
    old = record_from_json(json.dumps(data))
    assert (old.pii, old.secret_generation, old.previous_secret_hash) == (None, 0, None)
    assert old == record


def test_the_shown_record_has_every_setting_of_the_spec_and_never_the_secret():
    record, api_key = full_record()
    shown = public_view(record)
    assert set(shown) >= SHOWN_FIELDS
    text = json.dumps(shown)
    assert record.secret_hash not in text
    assert record.previous_secret_hash not in text
    assert api_key not in text
    assert not {"secret_hash", "previous_secret_hash", "secret_generation"} & set(shown)
    assert shown["token_budget"] == {"daily": 50_000, "monthly": 1_000_000}
    assert shown["status"] == "disabled"
    assert shown["created_at"] == "2026-03-14T12:00:00.000Z"
    assert shown["previous_valid_until"] == "2026-03-15T12:00:00.750Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", shown["expires_at"])
