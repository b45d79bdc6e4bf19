"""What an operator does with key records (`KeyAdmin`) on the memory store: create, read, change, rotate,
revoke, and changes retried when another admin changed the record in between."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fakes.clock import FakeClock
from fakes.key_records import NOON
from fakes.loops import run
from textapi_shared.errors import InputValidationError, NotFoundError
from textapi_shared.tenancy.admin import KeyAdmin
from textapi_shared.tenancy.key_store import KeyConflictError, MemoryKeyStore
from textapi_shared.tenancy.records import ALL_SCOPES, KeyStatus, TokenBudget, secret_hash
from textapi_shared.tenancy.resolver import KeyResolver


class RacingKeyStore(MemoryKeyStore):
    """A memory store where another admin changes the record just before each of the next `races` saves."""

    def __init__(self) -> None:
        super().__init__()
        self.races = 0
        self.saves = 0

    async def save(self, record, *, expected_updated_at: float) -> None:
        self.saves += 1
        if self.races:
            self.races -= 1
            current = self._records[record.key_id]
            self._records[record.key_id] = replace(
                current, tenant="other admin", updated_at=current.updated_at + 1
            )
        await super().save(record, expected_updated_at=expected_updated_at)


@pytest.fixture
def clock():
    return FakeClock(NOON)


@pytest.fixture
def store():
    return RacingKeyStore()


@pytest.fixture
def resolver(store):
    return KeyResolver(store, ttl_s=30, clock=FakeClock(0))


@pytest.fixture
def admin(resolver, clock):
    return KeyAdmin(resolver, clock=clock)


def test_a_new_key_is_active_with_its_settings_and_a_secret_shown_once(admin, store):
    record, api_key = run(admin.create({"name": "acme", "token_budget": TokenBudget(daily=10)}))
    assert (record.status, record.scopes, record.created_at, record.updated_at) == (
        KeyStatus.ACTIVE,
        ALL_SCOPES,
        NOON,
        NOON,
    )
    assert record.secret_hash == secret_hash(api_key)
    assert run(store.find(secret_hash(api_key))) == record
    assert run(admin.get(record.key_id)) == record


def test_a_key_that_would_be_born_expired_is_refused(admin, store):
    with pytest.raises(InputValidationError) as refused:
        run(admin.create({"name": "late", "expires_at": NOON}))
    assert refused.value.details["errors"][0]["field"] == "expires_at"
    assert run(store.list(tenant=None, limit=5, next_token=None)) == ([], None)


def test_an_unknown_key_id_is_a_404(admin):
    with pytest.raises(NotFoundError):
        run(admin.get("key_0000000000000000"))
    with pytest.raises(NotFoundError):
        run(admin.update("key_0000000000000000", {"name": "x"}))


def test_a_change_makes_a_new_version_even_within_the_same_clock_tick(admin):
    record, _ = run(admin.create({"name": "a"}))
    once = run(admin.update(record.key_id, {"name": "b"}))
    twice = run(admin.update(record.key_id, {"rate_limit_per_minute": 5}))
    assert record.updated_at < once.updated_at < twice.updated_at  # the clock did not move
    assert (twice.name, twice.rate_limit_per_minute, twice.created_at) == ("b", 5, NOON)


def test_a_change_another_admin_raced_is_retried_on_the_new_version_and_keeps_both(admin, store):
    record, _ = run(admin.create({"name": "a"}))
    store.races = 2
    changed = run(admin.update(record.key_id, {"name": "b"}))
    assert (changed.name, changed.tenant) == ("b", "other admin")  # neither change lost
    assert store.saves == 3
    assert run(store.get(record.key_id)) == changed


def test_a_change_raced_on_every_attempt_is_a_409(admin, store):
    record, _ = run(admin.create({"name": "a"}))
    store.races = 3
    with pytest.raises(KeyConflictError) as refused:
        run(admin.update(record.key_id, {"name": "b"}))
    assert refused.value.status_code == 409
    assert run(store.get(record.key_id)).name == "a"


def test_a_change_is_seen_at_once_by_this_instances_lookups(admin, resolver):
    record, api_key = run(admin.create({"name": "a"}))
    assert run(resolver.by_secret(secret_hash(api_key))).status is KeyStatus.ACTIVE
    run(admin.update(record.key_id, {"status": KeyStatus.DISABLED}))
    assert run(resolver.by_secret(secret_hash(api_key))).status is KeyStatus.DISABLED


def test_rotation_returns_a_new_secret_and_keeps_the_old_for_the_grace(admin, store, clock):
    record, old_key = run(admin.create({"name": "a"}))
    clock.advance(10)
    rotated, new_key = run(admin.rotate(record.key_id, 3600))
    assert run(store.find(secret_hash(new_key))) == rotated
    assert rotated.accepts(secret_hash(old_key), NOON + 10 + 3599)
    assert not rotated.accepts(secret_hash(old_key), NOON + 10 + 3600)
    assert rotated.previous_valid_until == NOON + 3610


@pytest.mark.parametrize("status", [KeyStatus.DISABLED, KeyStatus.REVOKED])
def test_only_an_active_key_can_be_rotated(admin, status):
    record, _ = run(admin.create({"name": "a"}))
    if status is KeyStatus.REVOKED:
        run(admin.revoke(record.key_id))
    else:
        run(admin.update(record.key_id, {"status": status}))
    with pytest.raises(InputValidationError) as refused:
        run(admin.rotate(record.key_id, 60))
    assert refused.value.details["errors"][0]["location"] == ["path", "key_id"]


def test_a_revoked_key_stays_revoked(admin):
    record, _ = run(admin.create({"name": "a"}))
    revoked = run(admin.revoke(record.key_id))
    assert revoked.status is KeyStatus.REVOKED
    with pytest.raises(InputValidationError):
        run(admin.update(record.key_id, {"status": KeyStatus.ACTIVE}))
    assert run(admin.revoke(record.key_id)).status is KeyStatus.REVOKED  # revoking again is harmless
