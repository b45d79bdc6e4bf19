"""Request and response models of the internal API."""

from typing import Any, Literal

from pydantic import Field

from internal_api.admin_model import AdminModel
from textapi_shared.monitoring.health import ComponentHealthResponse, HealthState


class EndpointInfo(AdminModel):
    path: str
    methods: list[str]
    summary: str | None


class ServiceInfoResponse(AdminModel):
    service: str
    version: str
    stage: str
    docs_url: str | None
    endpoints: list[EndpointInfo]


class MonitoringHealthResponse(AdminModel):
    status: HealthState
    timestamp: str
    version: str
    components: dict[str, ComponentHealthResponse]
    details: dict[str, Any] = {}


class MonitoringMetricsResponse(AdminModel):
    scope: Literal["fleet", "instance"] = Field(
        description="fleet: counted in the shared cache backend; instance: CACHE_BACKEND=memory, one instance"
    )
    window_s: int
    operations: dict[str, dict[str, Any]]
    totals: dict[str, Any]
    timestamp: str
