"""Request and response models of the internal API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

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
