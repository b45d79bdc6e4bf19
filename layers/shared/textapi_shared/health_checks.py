"""The health checks of each component, checked for real: key sources, the AI provider's configuration,
the cache backend (probed, or pinged for the cheap public status)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textapi_shared.aws import SecretUnavailableError
from textapi_shared.monitoring.health import ComponentHealth, HealthStatus

if TYPE_CHECKING:
    from textapi_shared.aws import SecureParameters
    from textapi_shared.cache.protocol import ResponseCache
    from textapi_shared.config import SharedSettings
    from textapi_shared.security.api_keys import ApiKeyAuthenticator


def authentication_check(authenticator: ApiKeyAuthenticator, *, production: bool, force: bool = False):
    """Key sources readable and holding usable keys (unhealthy otherwise: protected routes answer 503);
    open mode is `degraded` in development and `unhealthy` in production."""

    async def check() -> ComponentHealth:
        health = await authenticator.health(force=force)
        data = {"source": health.source, "public_keys": health.public_keys, "admin_keys": health.admin_keys}
        if health.problems:
            return ComponentHealth(HealthStatus.UNHEALTHY, "; ".join(health.problems), data=data)
        if health.open_public and production:
            return ComponentHealth(HealthStatus.UNHEALTHY, "no API keys configured in production", data=data)
        if health.open_public:
            return ComponentHealth(HealthStatus.DEGRADED, "open: no API keys configured", data=data)
        return ComponentHealth(HealthStatus.HEALTHY, "API keys loaded", data=data)

    return check


def ai_configuration_check(settings: SharedSettings, secrets: SecureParameters, *, force: bool = False):
    """Which provider and model answer, and for Gemini whether its key can be read; configuration only,
    so health never spends AI quota."""
    from textapi_shared.ai.factory import check_production_provider, gemini_api_key, uses_gemini

    async def check() -> ComponentHealth:
        # Where the AI functions refuse to start, this is unhealthy with the same message (`_timed`).
        check_production_provider(settings)
        if not uses_gemini(settings):
            data = {"provider": "local", "model": "local-extractive-v1"}
            return ComponentHealth(HealthStatus.HEALTHY, "offline provider configured", data=data)
        data = {"provider": "gemini", "model": settings.ai_model}
        try:
            await asyncio.to_thread(gemini_api_key, settings, secrets, force=force)
        except SecretUnavailableError as exc:
            detail = f"Gemini API key unavailable: SSM parameter {exc.parameter} cannot be read"
            return ComponentHealth(HealthStatus.UNHEALTHY, f"{detail} ({exc.reason})", data=data)
        return ComponentHealth(HealthStatus.HEALTHY, "gemini provider configured", data=data)

    return check


def cache_check(cache: ResponseCache):
    """The cache backend really probed (ping with latency, entries); down is `degraded`: requests work."""

    async def check() -> ComponentHealth:
        status = await cache.status()
        state = HealthStatus.HEALTHY if status.connected else HealthStatus.DEGRADED
        data = {"backend": status.backend, "entries": status.entries}
        return ComponentHealth(state, status.detail, status.latency_ms, data)

    return check


def cache_ping_check(cache: ResponseCache):
    """One round trip to the backend, no scan: the check public health can afford on every refresh."""

    async def check() -> ComponentHealth:
        try:
            latency_ms = await cache.ping()
        except Exception as exc:
            return ComponentHealth(HealthStatus.DEGRADED, f"cache backend unreachable: {type(exc).__name__}")
        return ComponentHealth(HealthStatus.HEALTHY, f"{cache.name} answers", latency_ms)

    return check
