"""Request and response models of the internal API."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from textapi_shared.monitoring.health import ComponentHealthResponse, HealthState


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


class MonitoringHealthResponse(BaseModel):
    status: HealthState
    timestamp: str
    version: str
    components: dict[str, ComponentHealthResponse]
    details: dict[str, Any] = {}


class MonitoringMetricsResponse(BaseModel):
    scope: Literal["fleet", "instance"] = Field(
        description="fleet: counted in the shared cache backend; instance: CACHE_BACKEND=memory, one instance"
    )
    window_s: int
    operations: dict[str, dict[str, Any]]
    totals: dict[str, Any]
    timestamp: str
