"""Models of the cache administration endpoints."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from internal_api.admin_model import AdminModel

Operation = Literal["summarize", "sentiment", "key_points", "questions", "qa"]


class CacheStatusResponse(AdminModel):
    backend: str
    connected: bool
    latency_ms: float | None
    entries: int | None
    memory_bytes: int | None
    detail: str
    tiers: list[dict[str, Any]] = []
    hit_ratio: float | None = Field(None, description="Fleet-wide, over the statistics window")


class CacheMetricsResponse(AdminModel):
    backend: str
    window_s: int
    totals: dict[str, Any]
    operations: dict[str, dict[str, Any]]


class CacheInvalidateRequest(BaseModel):
    # Only the name `all` and only the JSON value `true` wipe everything: not "yes", 1 or `everything`.
    model_config = ConfigDict(extra="forbid", validate_by_name=False, validate_by_alias=True)

    pattern: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="glob over keys, e.g. textapi:v1:qa:*; one that matches every entry needs `all: true`",
    )
    operation: Operation | None = None
    everything: StrictBool = Field(False, alias="all", description="wipe every entry; must be `true` exactly")


class CacheInvalidateResponse(AdminModel):
    removed: int | None = Field(description="entries removed; null when the backend cannot count (DynamoDB)")
    method: str
    detail: str
