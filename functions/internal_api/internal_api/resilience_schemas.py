"""Request and response models of the internal resilience endpoints (`/internal/resilience/...`)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from internal_api.admin_model import AdminModel
from textapi_shared.monitoring.health import HealthState
from textapi_shared.resilience.strategies import Strategy

PresetName = Literal["simple", "development", "production"]


class BreakerGroups(AdminModel):
    open: list[str]
    half_open: list[str]
    closed: list[str]


class ResilienceHealthResponse(AdminModel):
    status: HealthState
    healthy: bool
    detail: str
    timestamp: str
    breakers: BreakerGroups
    breaker_store: str
    preset: str
    config_source: str


class ResilienceConfigResponse(AdminModel):
    preset: str
    source: Literal["bundled", "env", "ssm", "custom"] = Field(
        description="Where the configuration in force came from: the bundled preset (also when SSM "
        "cannot be read), RESILIENCE_PRESET, the SSM parameter, or a custom JSON on top of a preset."
    )
    preset_source: str
    custom_source: str | None
    definitions_source: str
    custom_config: dict[str, Any] | None
    fallback: bool
    fallback_reason: str | None
    problems: list[str]
    loaded_at: str
    max_age_seconds: int
    parameters: dict[str, str] = Field(description="The SSM parameter names read, by role.")
    operations: dict[str, Strategy]


class PresetResponse(AdminModel):
    name: str
    description: str
    retry_attempts: int
    circuit_breaker_threshold: int
    recovery_timeout: int
    default_strategy: str
    operation_overrides: dict[str, str]
    environment_contexts: list[str]
    operations: dict[str, Strategy] = Field(description="The policy each operation gets.")


class PresetListResponse(AdminModel):
    active: str
    presets: list[PresetResponse]


class TemplateResponse(AdminModel):
    id: str
    name: str
    description: str
    configuration: dict[str, Any]


class TemplateListResponse(AdminModel):
    templates: list[TemplateResponse]


class PresetRecommendationResponse(AdminModel):
    environment: str
    recommended_preset: str
    confidence: float
    reasoning: str
    available_presets: list[str]


class ValidateConfigRequest(BaseModel):
    configuration: dict[str, Any] | str = Field(
        description="A custom configuration, as a JSON object or as the JSON text of one."
    )


class ValidationResponse(AdminModel):
    is_valid: bool
    errors: list[str]
    warnings: list[str]
    suggestions: list[str]


class ActiveConfigRequest(BaseModel):
    """Set the active preset and/or the custom configuration in SSM. `custom_config: null` clears it;
    `preset` may be left out but not null (it would silently change nothing)."""

    model_config = ConfigDict(extra="forbid")

    preset: PresetName = Field(None, description="simple, development or production; never null")  # type: ignore[assignment]
    custom_config: dict[str, Any] | None = None


class ActiveConfigResponse(AdminModel):
    written: list[str] = Field(description="The SSM parameters written.")
    warnings: list[str]
    config: ResilienceConfigResponse


class CircuitBreakerResponse(AdminModel):
    name: str
    state: Literal["closed", "open", "half_open"]
    failure_count: int
    failure_threshold: int
    recovery_timeout: float
    opened_at: str | None
    open_until: str | None
    seconds_until_half_open: float
    last_failure_at: str | None
    fleet_wide: bool


class CircuitBreakerListResponse(AdminModel):
    timestamp: str
    breakers: dict[str, CircuitBreakerResponse]


class BreakerResetResponse(AdminModel):
    name: str
    reset: bool
    breaker: CircuitBreakerResponse


class OperationMetricsResponse(AdminModel):
    operation: str
    calls: int
    successes: int
    failures: int = Field(description="Transient failures: the ones a circuit breaker counts.")
    ignored_errors: int = Field(description="Permanent errors, which neither retry nor trip a breaker.")
    rejections: int = Field(description="Calls an open breaker answered without calling the AI service.")
    retries: int
    opens: int
    success_rate: float | None


class ResilienceMetricsResponse(AdminModel):
    scope: Literal["fleet", "instance"]
    timestamp: str
    totals: OperationMetricsResponse
    operations: dict[str, OperationMetricsResponse]


class MetricsResetResponse(AdminModel):
    reset: bool
    timestamp: str
