"""Key records as JSON (their stored form) and as the admin API shows them (never a secret or its hash)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from textapi_shared.tenancy.records import KeyRecord, KeyStatus, TokenBudget
from textapi_shared.timestamps import utc_timestamp

if TYPE_CHECKING:
    from collections.abc import Callable


def _fields(record: KeyRecord, time: Callable[[float], Any]) -> dict[str, Any]:
    """Every field but the secret's, its times through `time` (kept as numbers, shown as text)."""

    def when(moment: float | None) -> Any:
        return time(moment) if moment is not None else None

    return {
        "key_id": record.key_id,
        "name": record.name,
        "tenant": record.tenant,
        "scopes": list(record.scopes),
        "rate_limit_per_minute": record.rate_limit_per_minute,
        "token_budget": record.token_budget.as_dict(),
        "expires_at": when(record.expires_at),
        "prompt_guard": record.prompt_guard,
        "pii": record.pii,
        "metadata": record.metadata,
        "status": str(record.status),
        "created_at": when(record.created_at),
        "updated_at": when(record.updated_at),
        "previous_valid_until": when(record.previous_valid_until),
    }


def record_to_json(record: KeyRecord) -> str:
    data = {
        **_fields(record, lambda moment: moment),
        "secret_hash": record.secret_hash,
        "previous_secret_hash": record.previous_secret_hash,
        "secret_generation": record.secret_generation,
    }
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def record_from_json(text: str) -> KeyRecord:
    data = json.loads(text)
    budget = data.get("token_budget") or {}
    return KeyRecord(
        key_id=data["key_id"],
        name=data["name"],
        tenant=data.get("tenant"),
        scopes=tuple(data["scopes"]),
        rate_limit_per_minute=data.get("rate_limit_per_minute"),
        token_budget=TokenBudget(budget.get("daily"), budget.get("monthly")),
        expires_at=data.get("expires_at"),
        prompt_guard=data.get("prompt_guard"),
        pii=data.get("pii"),
        metadata=data.get("metadata") or {},
        status=KeyStatus(data["status"]),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        secret_hash=data["secret_hash"],
        previous_secret_hash=data.get("previous_secret_hash"),
        previous_valid_until=data.get("previous_valid_until"),
        secret_generation=data.get("secret_generation", 0),
    )


def public_view(record: KeyRecord) -> dict[str, Any]:
    """The record as `/internal/keys` answers it: every setting, never the secret or its hash."""
    return _fields(record, utc_timestamp)
