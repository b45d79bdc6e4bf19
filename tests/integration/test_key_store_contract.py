"""One contract for the key-record stores: memory and DynamoDB (moto, the keys table as template.yaml
declares it). Records by id and by secret hash, conditional writes, rotation pointers, revocation and
paged listings."""

from __future__ import annotations

import asyncio
import base64
import json
import string
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import boto3
import pytest

from fakes.key_records import NOON, full_record, key_record
from fakes.loops import run
from textapi_shared.config import SharedSettings
from textapi_shared.errors import InputValidationError
from textapi_shared.tenancy.admin import KeyAdmin
from textapi_shared.tenancy.codec import record_from_json, record_to_json
from textapi_shared.tenancy.dynamodb_key_store import DynamoDBKeyStore
from textapi_shared.tenancy.key_store import KeyConflictError, MemoryKeyStore
from textapi_shared.tenancy.records import KeyStatus, secret_hash
from textapi_shared.tenancy.resolver import KeyResolver

SCAN_PAGE = 2


class SmallScanPages:
    """A DynamoDB client whose Scans return `SCAN_PAGE` items a page, as 1 MB pages do on a big table:
    a listing must follow `LastEvaluatedKey` across pages that the tenant filter leaves short or empty."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        return self._client.scan(Limit=SCAN_PAGE, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    if request.param == "memory":
        return MemoryKeyStore()
    # moto checks a put's condition and writes in two unlocked steps, so two racing saves of one version
    # could both succeed there; DynamoDB applies each conditional write atomically (see fakes.services).
    request.getfixturevalue("atomic_moto_updates")
    endpoint = request.getfixturevalue("moto_endpoint")
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    table = request.getfixturevalue("keys_table")
    return DynamoDBKeyStore(SharedSettings(), client=SmallScanPages(client), table_name=table)


# -- records by id and by secret ----------------------------------------------------------------------


def test_a_created_record_is_found_by_id_and_by_its_secret_hash(store):
    record, api_key = key_record()
    run(store.create(record))
    assert run(store.get(record.key_id)) == record
    found = run(store.find(secret_hash(api_key)))
    assert found == record
    assert found.accepts(secret_hash(api_key), NOON)


def test_unknown_ids_and_secrets_are_none(store):
    run(store.create(key_record()[0]))
    assert run(store.get("key_0000000000000000")) is None
    assert run(store.find(secret_hash("ta_never-issued"))) is None


def test_every_field_of_a_record_survives_the_store(store):
    record, _ = full_record()
    run(store.create(record))
    stored = run(store.get(record.key_id))
    assert stored == record
    assert stored.token_budget.daily == 50_000
    assert stored.metadata["owner"] is None
    assert record_from_json(record_to_json(stored)) == record


class RecordingClient:
    """A DynamoDB client that keeps the arguments of every call it passes on."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def recorded(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return method(**kwargs)

        return recorded


def test_dynamodb_reads_records_and_secret_pointers_consistently(moto_endpoint, keys_table):
    # An eventually consistent read just after a create can miss the new pointer, and the lookup cache
    # would remember the key as unknown for KEY_CACHE_SECONDS: a new key refused right after creation.
    client = RecordingClient(boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1"))
    store = DynamoDBKeyStore(SharedSettings(), client=client, table_name=keys_table)
    record, api_key = key_record()
    run(store.create(record))
    assert run(store.find(secret_hash(api_key))) == record
    assert run(store.get(record.key_id)) == record
    reads = [kwargs for name, kwargs in client.calls if name == "get_item"]
    assert len(reads) == 3
    assert all(kwargs.get("ConsistentRead") is True for kwargs in reads)


# -- conditional writes -------------------------------------------------------------------------------


def test_creating_an_id_that_exists_is_a_conflict_that_keeps_the_first(store):
    first, _ = key_record(name="first")
    run(store.create(first))
    second, second_key = key_record(key_id=first.key_id, name="second")
    with pytest.raises(KeyConflictError) as refused:
        run(store.create(second))
    assert (refused.value.status_code, refused.value.error_code) == (409, "CONFLICT")
    assert run(store.get(first.key_id)) == first
    # Whatever a store points at for the refused secret, no record accepts it.
    found = run(store.find(secret_hash(second_key)))
    assert found is None or not found.accepts(secret_hash(second_key), NOON)


def test_a_save_on_the_version_read_replaces_the_record(store):
    record, _ = key_record()
    run(store.create(record))
    changed = replace(record, name="renamed", rate_limit_per_minute=7, updated_at=NOON + 1)
    run(store.save(changed, expected_updated_at=record.updated_at))
    assert run(store.get(record.key_id)) == changed


def test_a_save_on_a_stale_version_is_a_conflict_and_loses_nothing(store):
    record, _ = key_record()
    run(store.create(record))
    by_first_admin = replace(record, name="first admin", updated_at=NOON + 1)
    by_second_admin = replace(record, tenant="second admin", updated_at=NOON + 2)
    run(store.save(by_first_admin, expected_updated_at=record.updated_at))
    with pytest.raises(KeyConflictError):
        run(store.save(by_second_admin, expected_updated_at=record.updated_at))
    assert run(store.get(record.key_id)) == by_first_admin


def test_saving_a_record_that_was_never_created_is_a_conflict(store):
    record, api_key = key_record()
    with pytest.raises(KeyConflictError):
        run(store.save(record, expected_updated_at=record.updated_at))
    assert run(store.get(record.key_id)) is None
    found = run(store.find(secret_hash(api_key)))
    assert found is None  # nothing names the secret: a stray pointer must lead nowhere


# -- rotation and revocation --------------------------------------------------------------------------


def test_after_a_rotation_both_secrets_find_the_record_until_the_overlap_ends(store):
    record, old_key = key_record()
    run(store.create(record))
    rotated, new_key = record.rotated(NOON + 10, grace_s=3600)
    run(store.save(rotated, expected_updated_at=record.updated_at))
    old, new = secret_hash(old_key), secret_hash(new_key)

    assert run(store.find(new)) == rotated
    assert run(store.find(old)) == rotated
    assert rotated.accepts(new, NOON + 10)
    assert rotated.accepts(old, NOON + 10)
    assert rotated.accepts(old, NOON + 10 + 3599.999)
    assert not rotated.accepts(old, NOON + 10 + 3600)  # previous_valid_until is the first refused moment
    assert rotated.accepts(new, NOON + 10 + 10**6)
    assert (rotated.previous_valid_until, rotated.secret_generation) == (NOON + 3610, 1)


def test_a_rotation_without_overlap_stops_the_old_secret_at_once(store):
    record, old_key = key_record()
    run(store.create(record))
    rotated, new_key = record.rotated(NOON + 10, grace_s=0)
    run(store.save(rotated, expected_updated_at=record.updated_at))
    assert (rotated.previous_secret_hash, rotated.previous_valid_until) == (None, None)
    found = run(store.find(secret_hash(old_key)))
    assert found is None or not found.accepts(secret_hash(old_key), NOON + 10)
    assert run(store.find(secret_hash(new_key))).accepts(secret_hash(new_key), NOON + 10)


def test_a_second_rotation_ends_the_first_secret_even_within_its_overlap(store):
    record, first_key = key_record()
    run(store.create(record))
    once, second_key = record.rotated(NOON + 10, grace_s=86_400)
    run(store.save(once, expected_updated_at=record.updated_at))
    twice, third_key = once.rotated(NOON + 20, grace_s=86_400)
    run(store.save(twice, expected_updated_at=once.updated_at))
    first, second, third = (secret_hash(k) for k in (first_key, second_key, third_key))
    found = run(store.find(first))
    assert found is None or not found.accepts(first, NOON + 30)
    assert run(store.find(second)).accepts(second, NOON + 30)
    assert run(store.find(third)).accepts(third, NOON + 30)
    assert twice.secret_generation == 2


def test_a_revoked_record_is_still_found_and_says_it_is_revoked(store):
    record, api_key = key_record()
    run(store.create(record))
    revoked = replace(record, status=KeyStatus.REVOKED, updated_at=NOON + 1)
    run(store.save(revoked, expected_updated_at=record.updated_at))
    found = run(store.find(secret_hash(api_key)))
    assert found.status is KeyStatus.REVOKED
    assert found.refusal(NOON + 1) == "This API key has been revoked."
    assert run(store.get(record.key_id)).status is KeyStatus.REVOKED


# -- listing ------------------------------------------------------------------------------------------


def _make_records(store, count: int) -> list:
    """`count` records, one a second, tenants acme / globex / none in turn."""
    tenants = ["acme", "globex", None]
    records = [key_record(now=NOON + i, tenant=tenants[i % 3])[0] for i in range(count)]
    for record in records:
        run(store.create(record))
    return records


def _every_page(store, *, tenant: str | None, limit: int) -> list[list]:
    pages, token = [], None
    while True:
        page, token = run(store.list(tenant=tenant, limit=limit, next_token=token))
        pages.append(page)
        if token is None:
            return pages
        # Opaque but URL-safe: it travels in a query string as it is.
        assert set(token) <= set(string.ascii_letters + string.digits + "-_")
        assert len(pages) <= 20, "the listing does not end"


def test_pages_hold_every_record_once_in_a_stable_order(store):
    records = _make_records(store, 8)
    pages = _every_page(store, tenant=None, limit=3)
    assert [len(p) for p in pages] == [3, 3, 2]
    listed = [r.key_id for page in pages for r in page]
    assert sorted(listed) == sorted(r.key_id for r in records)
    assert len(set(listed)) == len(listed)
    again = [r.key_id for page in _every_page(store, tenant=None, limit=3) for r in page]
    assert again == listed  # the same order every time: a client can page while others read
    assert [r.key_id for page in _every_page(store, tenant=None, limit=5) for r in page] == listed
    assert {r.key_id: r for page in pages for r in page} == {r.key_id: r for r in records}


def test_the_memory_store_lists_oldest_first(request):
    store = MemoryKeyStore()
    records = _make_records(store, 5)
    assert [r.key_id for page in _every_page(store, tenant=None, limit=2) for r in page] == [
        r.key_id for r in records
    ]


def test_a_tenant_filter_lists_only_that_tenants_records_across_pages(store):
    records = _make_records(store, 9)
    acme = {r.key_id for r in records if r.tenant == "acme"}
    pages = _every_page(store, tenant="acme", limit=2)
    assert [len(p) for p in pages] == [2, 1]
    assert {r.key_id for page in pages for r in page} == acme
    assert all(r.tenant == "acme" for page in pages for r in page)
    assert run(store.list(tenant="initech", limit=5, next_token=None)) == ([], None)


def test_a_page_that_ends_the_listing_has_no_next_token(store):
    records = _make_records(store, 4)
    page, token = run(store.list(tenant=None, limit=4, next_token=None))
    assert (len(page), token) == (4, None)
    page, token = run(store.list(tenant=None, limit=50, next_token=None))
    assert (sorted(r.key_id for r in page), token) == (sorted(r.key_id for r in records), None)
    assert run(MemoryKeyStore().list(tenant=None, limit=3, next_token=None)) == ([], None)


def _token_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "not a token!",
        "%%%",
        _token_of([1, 2]),  # JSON, not an object
        _token_of({}),  # an object, not a position
        _token_of({"created_at": "yesterday", "key_id": "key_1"}),  # the memory store's keys, wrong types
        _token_of({"after": {"pk": "x"}}),  # the DynamoDB store's key, wrong type
    ],
)
def test_a_token_this_api_did_not_return_is_a_422_naming_next_token(store, token):
    _make_records(store, 3)
    with pytest.raises(InputValidationError) as refused:
        run(store.list(tenant=None, limit=2, next_token=token))
    assert refused.value.status_code == 422
    [error] = refused.value.details["errors"]
    assert (error["field"], error["location"]) == ("next_token", ["query", "next_token"])


# -- admins at once -----------------------------------------------------------------------------------


def test_two_admins_changing_one_key_at_once_lose_no_change(store):
    record, _ = key_record(now=time.time())
    run(store.create(record))

    def admin(field: str) -> list[int]:
        """One admin on an instance of its own: ten changes of `field`, the values it saved."""

        async def changes() -> list[int]:
            keys = KeyAdmin(KeyResolver(store, ttl_s=30))
            saved = []
            for value in range(1, 11):
                try:
                    await keys.update(record.key_id, {field: value})
                except KeyConflictError:  # raced on every attempt: the admin is told to retry
                    continue
                saved.append(value)
            return saved

        return asyncio.run(changes())

    with ThreadPoolExecutor(max_workers=2) as pool:
        names, limits = pool.map(admin, ["name", "rate_limit_per_minute"])
    final = run(store.get(record.key_id))
    assert names
    assert limits
    assert (final.name, final.rate_limit_per_minute) == (names[-1], limits[-1])
