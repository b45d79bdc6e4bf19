"""Request and response models of the internal API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

HealthState = Literal["healthy", "degraded", "unhealthy"]


class EndpointInfo(BaseModel):
    path: str
    methods: list[str]
    summary: str | None


class ServiceInfoResponse(BaseModel):
    service: str
    version: str
    stage: str
    docs_url: str | None
    endpoints: list[EndpointInfo]


class ComponentHealthResponse(BaseModel):
    status: HealthState
    detail: str
    latency_ms: float | None = None
    model_config = {"extra": "allow"}


class MonitoringHealthResponse(BaseModel):
    status: HealthState
    timestamp: str
    version: str
    components: dict[str, ComponentHealthResponse]
    details: dict[str, Any] = {}
