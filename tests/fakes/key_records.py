"""Key records for tests: every field set, at a chosen time, with the secret that matches it."""

from __future__ import annotations

from typing import Any

from textapi_shared.tenancy.records import (
    KeyRecord,
    KeyStatus,
    TokenBudget,
    new_api_key,
    new_key_id,
    secret_hash,
)

# What SPEC 11 shows of a record (create, read, list), never its secret.
SHOWN_FIELDS = frozenset(
    {
        "key_id",
        "name",
        "tenant",
        "scopes",
        "rate_limit_per_minute",
        "token_budget",
        "expires_at",
        "prompt_guard",
        "metadata",
        "status",
        "created_at",
    }
)

# 2026-03-14T12:00:00Z: mid-day, mid-month, so no test here sits on a period boundary by accident.
NOON = 1_773_489_600.0


def key_record(*, now: float = NOON, **overrides: Any) -> tuple[KeyRecord, str]:
    """A new active record (minimal settings unless `overrides` name more) and its secret."""
    api_key = new_api_key()
    fields: dict[str, Any] = {
        "key_id": new_key_id(),
        "name": "tenant key",
        "created_at": now,
        "updated_at": now,
        "secret_hash": secret_hash(api_key),
        **overrides,
    }
    return KeyRecord(**fields), api_key


def full_record(*, now: float = NOON) -> tuple[KeyRecord, str]:
    """A record with every field away from its default (as after a rotation and a change)."""
    previous = new_api_key()
    return key_record(
        now=now,
        name="Acme — säles «EU»",
        tenant="acme",
        scopes=("summarize", "qa", "jobs"),
        rate_limit_per_minute=120,
        token_budget=TokenBudget(daily=50_000, monthly=1_000_000),
        expires_at=now + 90 * 86_400.5,
        prompt_guard="log",
        pii="redact",
        metadata={"plan": "pro", "seats": 12, "ratio": 0.25, "trial": False, "owner": None},
        status=KeyStatus.DISABLED,
        updated_at=now + 0.123456,
        previous_secret_hash=secret_hash(previous),
        previous_valid_until=now + 86_400.75,
        secret_generation=3,
    )
