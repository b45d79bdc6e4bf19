"""Request and response models of the public API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from textapi_shared.monitoring.health import ComponentHealthResponse, HealthState


class HealthResponse(BaseModel):
    status: HealthState
    timestamp: str
    version: str
    ai_model_available: bool | None = Field(
        None, description="Whether an AI provider is configured; null until the service has one."
    )
    resilience_healthy: bool | None = Field(None, description="Null until resilience is part of the service.")
    cache_healthy: bool | None = Field(None, description="Null until a cache is part of the service.")
    components: dict[str, ComponentHealthResponse]


class AuthStatusResponse(BaseModel):
    authenticated: bool
    api_key_prefix: str | None
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
