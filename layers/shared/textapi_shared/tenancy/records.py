"""API keys as records: who a key belongs to, what it may do, how much it may spend.

A key's secret (`ta_` + 32 random bytes, URL-safe) is shown once, at creation and on rotation; only its
SHA-256 is stored, and lookups go by that hash. A rotation keeps the previous secret valid until
`previous_valid_until`, so a client can switch without a window where neither works.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

OPERATION_SCOPES = ("summarize", "sentiment", "key_points", "questions", "qa")
JOBS_SCOPE = "jobs"
ALL_SCOPES = (*OPERATION_SCOPES, JOBS_SCOPE)
KEY_PREFIX = "ta_"


class KeyStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class TokenBudget:
    daily: int | None = None
    monthly: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {"daily": self.daily, "monthly": self.monthly}

    @property
    def limited(self) -> bool:
        return self.daily is not None or self.monthly is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRecord:
    key_id: str
    name: str
    tenant: str | None = None
    scopes: tuple[str, ...] = ALL_SCOPES
    rate_limit_per_minute: int | None = None
    token_budget: TokenBudget = field(default_factory=TokenBudget)
    expires_at: float | None = None  # epoch seconds
    prompt_guard: str | None = None  # "block" | "log"; None: PROMPT_GUARD_MODE
    pii: str | None = None  # "off" | "redact"; None: PII_MODE
    metadata: dict[str, Any] = field(default_factory=dict)
    status: KeyStatus = KeyStatus.ACTIVE
    created_at: float
    updated_at: float
    secret_hash: str
    previous_secret_hash: str | None = None
    previous_valid_until: float | None = None
    secret_generation: int = 0  # moves on every rotation (the job callback secret follows it)

    def secret_generations(self, now: float) -> tuple[int, ...]:
        """The generations whose secrets are valid now: the current one, and the previous one while a
        rotation's overlap lasts (job callbacks are signed with both)."""
        previous = self.previous_valid_until
        if self.secret_generation > 0 and previous is not None and now < previous:
            return (self.secret_generation, self.secret_generation - 1)
        return (self.secret_generation,)

    def refusal(self, now: float) -> str | None:
        """Why the key cannot be used now (None: it can)."""
        if self.status is KeyStatus.REVOKED:
            return "This API key has been revoked."
        if self.status is KeyStatus.DISABLED:
            return "This API key is disabled."
        if self.expires_at is not None and now >= self.expires_at:
            return "This API key has expired."
        return None

    def accepts(self, presented_hash: str, now: float) -> bool:
        """Whether a presented secret (by hash) is this key's, or its previous one still in its overlap."""
        if presented_hash == self.secret_hash:
            return True
        return (
            presented_hash == self.previous_secret_hash
            and self.previous_valid_until is not None
            and now < self.previous_valid_until
        )

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    def rotated(self, now: float, grace_s: float) -> tuple[KeyRecord, str]:
        """This record with a new secret (returned, shown once) and the current one valid `grace_s` more."""
        api_key = new_api_key()
        record = replace(
            self,
            secret_hash=secret_hash(api_key),
            previous_secret_hash=self.secret_hash if grace_s > 0 else None,
            previous_valid_until=now + grace_s if grace_s > 0 else None,
            secret_generation=self.secret_generation + 1,
            updated_at=now,
        )
        return record, api_key


def new_key_id() -> str:
    return f"key_{secrets.token_hex(8)}"


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def secret_hash(api_key: str) -> str:
    """What a key record stores of its secret, and what a lookup goes by."""
    return hashlib.sha256(api_key.encode()).hexdigest()
