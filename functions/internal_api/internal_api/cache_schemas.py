"""Models of the cache administration endpoints."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Operation = Literal["summarize", "sentiment", "key_points", "questions", "qa"]


class CacheStatusResponse(BaseModel):
    backend: str
    connected: bool
    latency_ms: float | None
    entries: int | None
    memory_bytes: int | None
    detail: str
    tiers: list[dict[str, Any]] = []
    hit_ratio: float | None = Field(None, description="Fleet-wide, over the statistics window")


class CacheMetricsResponse(BaseModel):
    backend: str
    window_s: int
    totals: dict[str, Any]
    operations: dict[str, dict[str, Any]]


class CacheInvalidateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    pattern: str | None = Field(
        None, min_length=1, max_length=200, description="glob over keys, e.g. textapi:v1:qa:*"
    )
    operation: Operation | None = None
    everything: bool = Field(False, alias="all", description="wipe every entry; must be explicit")


class CacheInvalidateResponse(BaseModel):
    removed: int | None = Field(description="entries removed; null when the backend cannot count (DynamoDB)")
    method: str
    detail: str
