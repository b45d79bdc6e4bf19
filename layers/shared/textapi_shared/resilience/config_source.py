"""The resilience configuration in force: bundled presets, environment, and SSM parameters.

Precedence: the SSM parameters (active preset name, custom JSON, preset definitions) when configured and
readable, else `RESILIENCE_PRESET` / `RESILIENCE_CUSTOM_CONFIG` over the bundled preset files. SSM is
read through Powertools Parameters (one GetParameters call for all three) and the result is kept for
`RESILIENCE_CONFIG_MAX_AGE` seconds, so a lookup on the hot path is an attribute read and a clock
comparison. The refresh runs in a worker thread; while it runs, other calls keep the previous
configuration. If SSM cannot be read, the environment over the bundled presets applies, with a log
line and a metric, and SSM is tried again after min(max age, 10 s). An invalid custom JSON is never
applied: the preset alone applies and the errors are logged and shown in `problems`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textapi_shared.errors import ConfigurationError, NotConfiguredError, ServiceUnavailableError
from textapi_shared.resilience.config_validation import parse_custom_config
from textapi_shared.resilience.events import ResilienceEvents
from textapi_shared.resilience.presets import (
    PresetError,
    bundled_presets,
    presets_from_json,
    resolve_policies,
)
from textapi_shared.timestamps import utc_timestamp

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.config import SharedSettings
    from textapi_shared.resilience.presets import Preset
    from textapi_shared.resilience.strategies import Strategy

_FAILURE_RETRY_S = 10.0
_NEVER = float("inf")


@dataclass(frozen=True)
class EffectiveConfig:
    """What is applied to every AI call, and where it came from."""

    preset: str
    source: str  # "bundled" | "env" | "ssm" | "custom"
    policies: dict[str, Strategy]  # per operation
    presets: dict[str, Preset]  # the definitions in force
    preset_source: str  # "default" | "env" | "ssm"
    custom_config: dict[str, Any] | None = None
    custom_source: str | None = None  # "env" | "ssm" when a custom configuration is applied
    definitions_source: str = "bundled"  # "bundled" | "ssm"
    fallback: bool = False
    fallback_reason: str | None = None
    problems: tuple[str, ...] = ()
    loaded_at: str = field(default_factory=utc_timestamp, compare=False)

    def policy_for(self, operation: str) -> Strategy:
        return self.policies[operation]

    def summary(self) -> dict[str, Any]:
        return {
            "preset": self.preset,
            "source": self.source,
            "custom": self.custom_config is not None,
            "fallback": self.fallback,
            "attempts": {op: p.max_attempts for op, p in self.policies.items()},
        }


class ResilienceConfigSource:
    def __init__(
        self,
        settings: SharedSettings,
        *,
        presets_ssm_parameter: str = "",
        ssm_client: Any | None = None,
        events: ResilienceEvents | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._preset_param = settings.resilience_preset_ssm_parameter
        self._custom_param = settings.resilience_custom_config_ssm_parameter
        self._presets_param = presets_ssm_parameter
        self._max_age = settings.resilience_config_max_age
        self._client = ssm_client
        self._provider: Any | None = None
        self._events = events or ResilienceEvents()
        self._monotonic = monotonic
        self._config: EffectiveConfig | None = None
        self._expires_at = 0.0
        self._force = False
        self._refresh: asyncio.Task[EffectiveConfig] | None = None
        self._last_invalid: str | None = None

    @property
    def parameter_names(self) -> dict[str, str]:
        names = {"preset": self._preset_param, "custom_config": self._custom_param}
        names["presets"] = self._presets_param
        return {k: v for k, v in names.items() if v}

    @property
    def max_age(self) -> int:
        return self._max_age

    async def get(self) -> EffectiveConfig:
        """The configuration in force; refreshes from SSM once the cache age has passed."""
        config = self._config
        if config is not None and self._monotonic() < self._expires_at:
            return config
        if not self.parameter_names:
            return self.load()  # environment and bundled files only: nothing to wait for
        refresh = self._refresh
        if refresh is not None and not refresh.done() and refresh.get_loop() is asyncio.get_running_loop():
            # Another call is refreshing: keep the previous configuration, or wait for the first one.
            return config if config is not None else await asyncio.shield(refresh)
        # The caller that finds the cache expired waits for the read (one SSM round trip per max age):
        # a refresh left running past the response could straddle a freeze of the environment.
        refresh = self._refresh = asyncio.ensure_future(asyncio.to_thread(self.load))
        return await asyncio.shield(refresh)

    def load(self, *, force: bool = False) -> EffectiveConfig:
        """Read the sources now (blocking); keeps the previous object when nothing changed."""
        force = force or self._force
        self._force = False
        if not self.parameter_names:
            config, retry_in = self._compose(None, None), _NEVER
        else:
            try:
                values = self._read_ssm(force=force)
            except Exception as exc:  # any SSM failure: the bundled preset applies
                reason = f"SSM unavailable: {type(exc).__name__}"
                config, retry_in = self._compose(None, reason), min(self._max_age, _FAILURE_RETRY_S)
            else:
                missing = values.pop("_errors", [])
                reason = (
                    "the active preset parameter was not found" if self._preset_param in missing else None
                )
                config = self._compose(None if reason else values, reason)
                retry_in = min(self._max_age, _FAILURE_RETRY_S) if reason else self._max_age
            if config.fallback:
                self._events.config_fallback(config.fallback_reason or "")
        previous = self._config
        if previous is not None and previous == config:
            config = previous
        else:
            self._events.config_loaded(config.summary())
        self._config = config
        self._expires_at = self._monotonic() + retry_in
        return config

    def invalidate(self) -> None:
        """The next lookup reads SSM again, bypassing the Powertools cache (after a write)."""
        self._force = True
        self._expires_at = 0.0

    def _ssm(self) -> Any:
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SSMProvider

            if self._client is None:
                from textapi_shared.aws import aws_client

                self._client = aws_client(self._settings, "ssm")
            self._provider = SSMProvider(boto3_client=self._client)
        return self._provider

    def _read_ssm(self, *, force: bool) -> dict[str, Any]:
        provider = self._ssm()
        if force:
            provider.clear_cache()  # this provider holds only these parameters
        names = {name: {} for name in self.parameter_names.values()}
        return provider.get_parameters_by_name(
            names, decrypt=False, max_age=self._max_age, raise_on_error=False
        )

    def _compose(self, values: dict[str, Any] | None, fallback_reason: str | None) -> EffectiveConfig:
        problems: list[str] = []
        presets, definitions_source = bundled_presets(), "bundled"
        if values is not None and self._presets_param:
            text = values.get(self._presets_param)
            try:
                if text is None:
                    raise PresetError("the preset definitions parameter was not found")
                presets, definitions_source = presets_from_json(text), "ssm"
            except PresetError as exc:
                problems.append(f"preset definitions from SSM ignored: {exc}")
                self._report_invalid("ssm-presets", str(exc), [str(exc)])

        preset, preset_source = self._settings.resilience_preset, "default"
        if "resilience_preset" in self._settings.model_fields_set:
            preset_source = "env"
        if values is not None and self._preset_param in values:
            name = str(values[self._preset_param]).strip().lower()
            if name in presets:
                preset, preset_source = name, "ssm"
            else:
                problems.append(f"unknown preset {name[:40]!r} in SSM; {preset!r} applies")

        custom_text, custom_source = self._settings.resilience_custom_config, "env"
        if values is not None and self._custom_param:
            if self._custom_param in values:
                custom_text, custom_source = values[self._custom_param], "ssm"
            else:
                problems.append("the custom configuration parameter was not found")
        custom, result = parse_custom_config(custom_text)
        if not result.is_valid:
            problems += [f"custom configuration ({custom_source}) rejected: {e}" for e in result.errors]
            self._report_invalid(custom_source, custom_text, result.errors)

        if custom is not None:
            source = "custom"
        elif fallback_reason is not None:
            source = "bundled"
        else:
            source = {"ssm": "ssm", "env": "env"}.get(preset_source, "bundled")
        return EffectiveConfig(
            preset=preset,
            source=source,
            policies=resolve_policies(presets[preset], custom),
            presets=presets,
            preset_source=preset_source,
            custom_config=custom,
            custom_source=custom_source if custom is not None else None,
            definitions_source=definitions_source,
            fallback=fallback_reason is not None,
            fallback_reason=fallback_reason,
            problems=tuple(problems),
        )

    def _report_invalid(self, source: str, text: str, errors: list[str]) -> None:
        if text != self._last_invalid:  # once per distinct bad value, not once per refresh
            self._last_invalid = text
            self._events.config_invalid(source, errors)

    def write_active(self, *, preset: str | None = None, custom_config_json: str | None = None) -> None:
        """Write the active preset and/or custom JSON (already validated) to SSM; blocking."""
        writes = {self._preset_param: preset, self._custom_param: custom_config_json}
        if preset is not None and not self._preset_param:
            raise NotConfiguredError(
                "This deployment has no SSM parameter for the active preset "
                "(RESILIENCE_PRESET_SSM_PARAMETER is not set): the preset lives in the environment.",
                details={"missing": "RESILIENCE_PRESET_SSM_PARAMETER"},
            )
        if custom_config_json is not None and not self._custom_param:
            raise NotConfiguredError(
                "This deployment has no SSM parameter for the custom configuration "
                "(RESILIENCE_CUSTOM_CONFIG_SSM_PARAMETER is not set): it lives in the environment.",
                details={"missing": "RESILIENCE_CUSTOM_CONFIG_SSM_PARAMETER"},
            )
        self._ssm()  # builds the client
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for name, value in writes.items():
                if name and value is not None:
                    self._client.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("AccessDeniedException", "ValidationException"):
                raise ConfigurationError("The resilience parameters cannot be written.") from exc
            raise ServiceUnavailableError("SSM is unavailable; retry shortly.", retry_after=5) from exc
        except BotoCoreError as exc:
            raise ServiceUnavailableError("SSM is unavailable; retry shortly.", retry_after=5) from exc
        finally:
            self.invalidate()


def ssm_check(source: ResilienceConfigSource):
    """SSM reachable: the resilience parameters read now (which also refreshes the configuration in
    force); unreachable is `degraded`, since the bundled preset then applies."""
    from textapi_shared.monitoring.health import ComponentHealth, HealthStatus

    async def check() -> ComponentHealth:
        names = source.parameter_names
        if not names:
            return ComponentHealth(HealthStatus.HEALTHY, "no SSM parameters: environment and bundled presets")
        started = time.perf_counter()
        config = await asyncio.to_thread(source.load, force=True)
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        data = {"parameters": sorted(names.values())}
        if config.fallback:
            detail = f"bundled preset applies: {config.fallback_reason}"
            return ComponentHealth(HealthStatus.DEGRADED, detail, latency_ms, data)
        if config.problems:
            return ComponentHealth(HealthStatus.DEGRADED, "; ".join(config.problems), latency_ms, data)
        return ComponentHealth(HealthStatus.HEALTHY, f"{len(names)} parameters read", latency_ms, data)

    return check
