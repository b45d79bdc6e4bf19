import asyncio
import json
from typing import Any

from fastapi import APIRouter

from internal_api.dependencies import ResilienceServices
from internal_api.resilience_schemas import (
    ActiveConfigRequest,
    ActiveConfigResponse,
    BreakerResetResponse,
    CircuitBreakerListResponse,
    CircuitBreakerResponse,
    MetricsResetResponse,
    OperationMetricsResponse,
    PresetListResponse,
    PresetRecommendationResponse,
    PresetResponse,
    ResilienceConfigResponse,
    ResilienceHealthResponse,
    ResilienceMetricsResponse,
    TemplateListResponse,
    TemplateResponse,
    ValidateConfigRequest,
    ValidationResponse,
)
from textapi_shared.errors import InputValidationError, NotFoundError
from textapi_shared.monitoring.health import HealthStatus
from textapi_shared.resilience.breaker_registry import operation_of
from textapi_shared.resilience.breaker_store import STAT_FIELDS
from textapi_shared.resilience.config_source import EffectiveConfig
from textapi_shared.resilience.config_validation import validate_custom_config, validate_custom_json
from textapi_shared.resilience.factory import Resilience
from textapi_shared.resilience.presets import (
    PRESET_NAMES,
    Preset,
    recommend_preset,
    resolve_policies,
    templates,
)
from textapi_shared.timestamps import utc_timestamp
from textapi_shared.web.access import AdminKeyRoute
from textapi_shared.web.openapi import ADMIN, WITH_BODY, error_responses

router = APIRouter(
    prefix="/internal/resilience",
    tags=["resilience"],
    route_class=AdminKeyRoute,
    responses=error_responses(*ADMIN),
)
# Routes with a path parameter: FastAPI documents a 422 for them (in its own schema unless we do).
_NAMED = error_responses(404, 422)
# A POST without a body param still has its body bounded (413); nothing parses it.
_EMPTY_POST = error_responses(413)


def _iso(epoch: float | None) -> str | None:
    return utc_timestamp(epoch) if epoch else None


def _config_response(config: EffectiveConfig, resilience: Resilience) -> ResilienceConfigResponse:
    return ResilienceConfigResponse(
        preset=config.preset,
        source=config.source,
        preset_source=config.preset_source,
        custom_source=config.custom_source,
        definitions_source=config.definitions_source,
        custom_config=config.custom_config,
        fallback=config.fallback,
        fallback_reason=config.fallback_reason,
        problems=list(config.problems),
        loaded_at=config.loaded_at,
        max_age_seconds=resilience.config.max_age,
        parameters=resilience.config.parameter_names,
        operations=dict(config.policies),
    )


def _preset_response(preset: Preset) -> PresetResponse:
    return PresetResponse(**preset._asdict(), operations=resolve_policies(preset))


def _breaker_response(resilience: Resilience, name: str, config: EffectiveConfig) -> CircuitBreakerResponse:
    status = resilience.breakers.get(name).status(config.policy_for(operation_of(name)))
    epochs = ("opened_at", "open_until", "last_failure_at")
    return CircuitBreakerResponse(**{**status, **{key: _iso(status[key]) for key in epochs}})


def _metrics(operation: str, counts: dict[str, int]) -> OperationMetricsResponse:
    finished = counts.get("successes", 0) + counts.get("failures", 0)
    rate = round(counts.get("successes", 0) / finished, 4) if finished else None
    return OperationMetricsResponse(
        operation=operation, **{f: counts.get(f, 0) for f in STAT_FIELDS}, success_rate=rate
    )


def _invalid(message: str, field: str, errors: list[str], **extra: Any) -> InputValidationError:
    details = [
        {"field": field, "location": ["body", field], "message": error, "type": "resilience_config"}
        for error in errors
    ]
    return InputValidationError(message, details={"errors": details, **extra})


@router.get("/health", response_model=ResilienceHealthResponse)
async def resilience_health(resilience: ResilienceServices) -> ResilienceHealthResponse:
    """Circuit breakers open, half-open and closed, fleet-wide, and the configuration source."""
    health = await resilience.health(sync=True)
    return ResilienceHealthResponse(
        status=health.status,
        healthy=health.status is HealthStatus.HEALTHY,
        detail=health.detail,
        timestamp=utc_timestamp(),
        breakers=health.data["breakers"],
        breaker_store=health.data["breaker_store"],
        preset=health.data["preset"],
        config_source=health.data["config_source"],
    )


@router.get("/config", response_model=ResilienceConfigResponse)
async def resilience_config(resilience: ResilienceServices) -> ResilienceConfigResponse:
    """The configuration actually in force, where it came from and when it was loaded."""
    return _config_response(await resilience.config.get(), resilience)


@router.get("/config/presets", response_model=PresetListResponse)
async def list_presets(resilience: ResilienceServices) -> PresetListResponse:
    """Every preset, with the policy each operation gets under it."""
    config = await resilience.config.get()
    presets = [_preset_response(p) for p in config.presets.values()]
    return PresetListResponse(active=config.preset, presets=presets)


@router.get("/config/presets/{name}", response_model=PresetResponse, responses=_NAMED)
async def get_preset(name: str, resilience: ResilienceServices) -> PresetResponse:
    """One preset; 404 for an unknown name."""
    config = await resilience.config.get()
    if name not in config.presets:
        raise NotFoundError(f"No preset named {name[:40]!r}.", details={"available": list(config.presets)})
    return _preset_response(config.presets[name])


@router.get("/config/templates", response_model=TemplateListResponse)
async def list_templates() -> TemplateListResponse:
    """Starting points for a custom configuration."""
    return TemplateListResponse(templates=[TemplateResponse(id=k, **v) for k, v in templates().items()])


@router.get("/config/templates/{name}", response_model=TemplateResponse, responses=_NAMED)
async def get_template(name: str) -> TemplateResponse:
    """One template; 404 for an unknown name."""
    if name not in templates():
        raise NotFoundError(f"No template named {name[:40]!r}.", details={"available": list(templates())})
    return TemplateResponse(id=name, **templates()[name])


@router.get(
    "/config/recommend-preset/{environment}",
    response_model=PresetRecommendationResponse,
    responses=error_responses(422),
)
async def recommend(environment: str) -> PresetRecommendationResponse:
    """The preset suited to an environment name (development, staging, production, ...)."""
    recommendation = recommend_preset(environment).as_dict()
    return PresetRecommendationResponse(**recommendation, available_presets=list(PRESET_NAMES))


@router.post("/config/validate", response_model=ValidationResponse, responses=error_responses(*WITH_BODY))
async def validate_config(body: ValidateConfigRequest) -> ValidationResponse:
    """Errors, warnings and suggestions for a custom configuration; nothing is applied."""
    if isinstance(body.configuration, str):
        _, result = validate_custom_json(body.configuration)
    else:
        result = validate_custom_config(body.configuration)
    return ValidationResponse(**result.as_dict())


@router.put("/config/active", response_model=ActiveConfigResponse, responses=error_responses(*WITH_BODY, 409))
async def set_active_config(
    body: ActiveConfigRequest, resilience: ResilienceServices
) -> ActiveConfigResponse:
    """Validate, then write the active preset and/or custom configuration to SSM; every instance
    applies it within the parameter cache age (this one at once)."""
    if not body.model_fields_set:
        raise _invalid("Nothing to change: give preset and/or custom_config.", "body", ["no field given"])
    warnings: list[str] = []
    custom_json = None
    if "custom_config" in body.model_fields_set:
        if body.custom_config is None:
            custom_json = "{}"  # an SSM parameter cannot be empty: `{}` means no custom configuration
        else:
            result = validate_custom_config(body.custom_config)
            if not result.is_valid:
                raise _invalid(
                    "The custom configuration is invalid; nothing was written.",
                    "custom_config",
                    result.errors,
                    warnings=result.warnings,
                    suggestions=result.suggestions,
                )
            warnings = result.warnings
            custom_json = json.dumps(body.custom_config, separators=(",", ":"))
    source = resilience.config
    await asyncio.to_thread(source.write_active, preset=body.preset, custom_config_json=custom_json)
    names = source.parameter_names
    written = [
        names[role] for role, value in (("preset", body.preset), ("custom_config", custom_json)) if value
    ]
    config = await asyncio.to_thread(source.load, force=True)
    return ActiveConfigResponse(
        written=written, warnings=warnings, config=_config_response(config, resilience)
    )


@router.get("/circuit-breakers", response_model=CircuitBreakerListResponse)
async def list_breakers(resilience: ResilienceServices) -> CircuitBreakerListResponse:
    """Every circuit breaker (per operation, or per operation@model with fallback models), as the shared
    store sees it."""
    await resilience.breakers.sync_all()
    config = await resilience.config.get()
    breakers = {n: _breaker_response(resilience, n, config) for n in resilience.breakers.names}
    return CircuitBreakerListResponse(timestamp=utc_timestamp(), breakers=breakers)


@router.get("/circuit-breakers/{name}", response_model=CircuitBreakerResponse, responses=_NAMED)
async def get_breaker(name: str, resilience: ResilienceServices) -> CircuitBreakerResponse:
    """One circuit breaker (`operation`, or `operation@model` with fallback models); 404 if unknown."""
    breaker = resilience.breakers.require(name)
    await breaker.sync()
    return _breaker_response(resilience, name, await resilience.config.get())


@router.post(
    "/circuit-breakers/{name}/reset", response_model=BreakerResetResponse, responses={**_NAMED, **_EMPTY_POST}
)
async def reset_breaker(name: str, resilience: ResilienceServices) -> BreakerResetResponse:
    """Close a circuit breaker for every instance (seen at their next sync); 503 if the store failed."""
    breaker = resilience.breakers.require(name)
    await breaker.sync()  # so the reset is logged as the transition the fleet sees
    await breaker.reset()
    status = _breaker_response(resilience, name, await resilience.config.get())
    return BreakerResetResponse(name=name, reset=True, breaker=status)


@router.get("/metrics", response_model=ResilienceMetricsResponse)
async def resilience_metrics(resilience: ResilienceServices) -> ResilienceMetricsResponse:
    """Calls, successes, transient failures, retries, rejections and breaker openings per operation."""
    stats = await resilience.breakers.fleet_stats()
    totals = {f: sum(s.get(f, 0) for s in stats.values()) for f in STAT_FIELDS}
    return ResilienceMetricsResponse(
        scope="fleet" if resilience.breakers.store.shared else "instance",
        timestamp=utc_timestamp(),
        totals=_metrics("all", totals),
        operations={op: _metrics(op, counts) for op, counts in stats.items()},
    )


@router.post("/metrics/reset", response_model=MetricsResetResponse, responses=_EMPTY_POST)
async def reset_metrics(resilience: ResilienceServices) -> MetricsResetResponse:
    """Zero the resilience metrics of every operation (breaker states are untouched)."""
    await resilience.breakers.reset_stats()
    return MetricsResetResponse(reset=True, timestamp=utc_timestamp())


# After `/metrics/reset`: an OPTIONS there must be answered from the reset route (Allow: POST).
@router.get("/metrics/{operation}", response_model=OperationMetricsResponse, responses=_NAMED)
async def operation_metrics(operation: str, resilience: ResilienceServices) -> OperationMetricsResponse:
    """The resilience metrics of one operation (summed over its models' breakers with fallback models)
    or of one breaker (`operation@model`); 404 for an unknown name."""
    names = [n for n in resilience.breakers.names if operation in (n, operation_of(n))]
    if not names:
        available = list(resilience.breakers.names)
        raise NotFoundError(f"No operation named {operation[:40]!r}.", details={"available": available})
    stats = await resilience.breakers.fleet_stats()
    return _metrics(operation, {f: sum(stats[name].get(f, 0) for name in names) for f in STAT_FIELDS})
