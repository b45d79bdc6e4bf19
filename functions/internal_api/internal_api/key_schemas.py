"""Request and response models of the key-record and usage endpoints (`/internal/keys`, `/internal/usage`)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from internal_api.admin_model import AdminModel
from textapi_shared.tenancy.records import ALL_SCOPES

Scope = Literal["summarize", "sentiment", "key_points", "questions", "qa", "jobs"]  # ALL_SCOPES
MetadataValue = str | int | float | bool | None


class TokenBudgetModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    daily: int | None = Field(None, ge=1, le=10**12, strict=True, description="Tokens per UTC day")
    monthly: int | None = Field(None, ge=1, le=10**13, strict=True, description="Tokens per UTC month")


class KeySettings(BaseModel):
    """What an operator may set on a key (every field optional on a change; null clears it)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    tenant: str | None = Field(None, min_length=1, max_length=100)
    scopes: list[Scope] | None = Field(None, min_length=1, description="Operations and `jobs`; default all")
    rate_limit_per_minute: int | None = Field(
        None, ge=1, le=100_000, strict=True, description="Default RATE_LIMIT_PER_MINUTE"
    )
    token_budget: TokenBudgetModel | None = None
    expires_at: AwareDatetime | None = Field(None, description="ISO 8601 with a time zone; 401 from then on")
    prompt_guard: Literal["block", "log"] | None = Field(None, description="Default PROMPT_GUARD_MODE")
    pii: Literal["off", "redact"] | None = Field(None, description="Default PII_MODE")
    metadata: dict[str, MetadataValue] | None = Field(None, description="At most 20 entries, yours to use")

    @field_validator("expires_at", mode="before")
    @classmethod
    def _iso_text(cls, value: object) -> object:
        # Pydantic would read a number as epoch seconds: `0` is 1970, not what anyone meant to send.
        if value is not None and not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date and time with a time zone, e.g. 2027-01-31T00:00:00Z")
        return value

    @field_validator("metadata")
    @classmethod
    def _small(cls, value: dict[str, MetadataValue] | None) -> dict[str, MetadataValue] | None:
        if value is not None and (
            len(value) > 20
            or any(len(name) > 64 for name in value)
            or any(isinstance(v, str) and len(v) > 500 for v in value.values())
        ):
            raise ValueError("at most 20 entries, names of at most 64 and texts of at most 500 characters")
        return value

    @field_validator("scopes")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        return list(dict.fromkeys(value)) if value is not None else None

    def record_fields(self, *, only_set: bool) -> dict[str, Any]:
        """These settings as key-record fields (`only_set`: just those the request named)."""
        chosen = self.model_fields_set if only_set else set(type(self).model_fields)
        if only_set and "status" in chosen and self.status is None:  # type: ignore[attr-defined]
            chosen = chosen - {"status"}
        fields: dict[str, Any] = {}
        for name in chosen:
            value = getattr(self, name)
            if name == "scopes":
                value = tuple(value) if value is not None else ALL_SCOPES
            elif name == "token_budget":
                from textapi_shared.tenancy.records import TokenBudget

                value = TokenBudget(value.daily, value.monthly) if value is not None else TokenBudget()
            elif name == "expires_at":
                value = value.timestamp() if isinstance(value, datetime) else None
            elif name == "metadata":
                value = value or {}
            elif name == "status":
                from textapi_shared.tenancy.records import KeyStatus

                value = KeyStatus(value)
            fields[name] = value
        return fields


class KeyCreateRequest(KeySettings):
    name: str = Field(min_length=1, max_length=100)  # type: ignore[assignment]


class KeyUpdateRequest(KeySettings):
    status: Literal["active", "disabled"] | None = Field(None, description="Revoke with DELETE")


class KeyRotateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(
        86_400, ge=0, le=604_800, strict=True, description="How long the current secret still works"
    )


class KeyResponse(AdminModel):
    key_id: str
    name: str
    tenant: str | None
    scopes: list[str]
    rate_limit_per_minute: int | None
    token_budget: dict[str, int | None]
    expires_at: str | None
    prompt_guard: str | None
    pii: str | None
    metadata: dict[str, MetadataValue]
    status: Literal["active", "disabled", "revoked"]
    created_at: str
    updated_at: str
    previous_valid_until: str | None = None


_WEBHOOK_DOC = (
    "The key's job-callback secret (Standard Webhooks, `whsec_` + base64); null when this deployment "
    "signs no callbacks or its secret cannot be read now (the key's holder reads it at "
    "`GET /v1/text_processing/jobs/callback-secret`)"
)


class KeyCreatedResponse(KeyResponse):
    api_key: str = Field(description="The secret, shown this once: store it now")
    callback_secret: str | None = Field(description=_WEBHOOK_DOC)


class KeyRotatedResponse(AdminModel):
    key_id: str
    api_key: str = Field(description="The new secret, shown this once")
    previous_valid_until: str | None = Field(description="Until when the previous secret still works")
    callback_secret: str | None = Field(
        description=f"{_WEBHOOK_DOC}; callbacks carry both secrets' signatures until previous_valid_until"
    )


class KeyListResponse(AdminModel):
    keys: list[KeyResponse]
    next_token: str | None = None


class UsageDay(AdminModel):
    date: str
    requests: int
    ai_calls: int
    cache_hits: int
    prompt_tokens: int
    output_tokens: int
    tokens_billed: int
    tokens_saved: int
    estimated_cost_usd: float


class KeyUsageResponse(AdminModel):
    key_id: str
    days: list[UsageDay]


class UsageExportRow(UsageDay):
    key_id: str = Field(description="A record's id, or a static key's hash")


class UsageExportResponse(AdminModel):
    date: str
    keys: list[UsageExportRow]
