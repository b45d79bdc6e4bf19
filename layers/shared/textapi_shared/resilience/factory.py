"""Builds the resilience services of one app from settings: configuration source, breakers, wrapper.

The breaker store follows the cache backend: `memory` → this app instance only (one execution
environment; the internal function, a different one, sees nothing of it), `redis` → Redis keys,
`dynamodb` → items of the cache table. Nothing connects here: clients are built on first use.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textapi_shared.resilience.breaker_registry import BreakerRegistry, breaker_names
from textapi_shared.resilience.circuit_breaker import BreakerState
from textapi_shared.resilience.config_source import ResilienceConfigSource
from textapi_shared.resilience.events import ResilienceEvents

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textapi_shared.ai.provider import AIProvider
    from textapi_shared.config import SharedSettings
    from textapi_shared.monitoring.health import ComponentHealth
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.redis_client import RedisClient
    from textapi_shared.resilience.breaker_store import BreakerStore
    from textapi_shared.resilience.resilient_provider import ResilientProvider

# How often an instance under traffic pushes statistics to the store and pulls breaker state.
DEFAULT_SYNC_SECONDS = {"memory": 1.0, "redis": 1.0, "dynamodb": 5.0}


class Resilience:
    """A function's resilience services: configuration in force, breakers, events, breaker store name,
    and the models AI calls may use in order (empty: the provider's own, no fallback)."""

    __slots__ = ("backend", "breakers", "config", "events", "models")

    def __init__(
        self,
        config: ResilienceConfigSource,
        breakers: BreakerRegistry,
        events: ResilienceEvents,
        backend: str,
        models: tuple[str, ...] = (),
    ) -> None:
        self.config = config
        self.breakers = breakers
        self.events = events
        self.backend = backend
        self.models = models

    def wrap(self, provider: AIProvider) -> ResilientProvider:
        from textapi_shared.resilience.resilient_provider import ResilientProvider

        # The chain starts at the provider's own model (the offline provider has none to fall back to).
        models = self.models if self.models and provider.model == self.models[0] else ()
        return ResilientProvider(
            provider, config=self.config, breakers=self.breakers, events=self.events, models=models
        )

    async def health(self, *, sync: bool = False) -> ComponentHealth:
        """Breakers open / half-open / closed (this instance's view, or the store's with `sync`) and the
        configuration in force; degraded while a breaker is not closed or the bundled fallback applies."""
        from textapi_shared.monitoring.health import ComponentHealth, HealthStatus

        if sync:
            await self.breakers.sync_all()
        config = await self.config.get()
        groups: dict[str, list[str]] = {str(s): [] for s in BreakerState}
        for name in self.breakers.names:
            groups[str(self.breakers.get(name).state)].append(name)
        data: dict[str, Any] = {
            "breakers": groups,
            "breaker_store": self.backend,
            "preset": config.preset,
            "config_source": config.source,
        }
        not_closed = groups["open"] + groups["half_open"]
        if not_closed:
            detail = f"circuit breaker not closed: {', '.join(not_closed)}"
            return ComponentHealth(HealthStatus.DEGRADED, detail, data=data)
        if config.fallback:
            detail = f"bundled preset applies: {config.fallback_reason}"
            return ComponentHealth(HealthStatus.DEGRADED, detail, data=data)
        return ComponentHealth(HealthStatus.HEALTHY, "all circuit breakers closed", data=data)


def build_breaker_store(
    settings: SharedSettings,
    *,
    redis_client_factory: Callable[[], Awaitable[RedisClient]] | None = None,
    dynamodb_client: Any | None = None,
    key_prefix: str | None = None,
) -> BreakerStore:
    if settings.cache_backend == "redis":
        from textapi_shared.resilience.redis_breaker_store import DEFAULT_PREFIX, RedisBreakerStore

        if redis_client_factory is None:

            async def redis_client_factory() -> RedisClient:
                from textapi_shared.redis_client import redis_client

                return await redis_client(settings)

        return RedisBreakerStore(redis_client_factory, prefix=key_prefix or DEFAULT_PREFIX)
    if settings.cache_backend == "dynamodb":
        from textapi_shared.resilience.dynamodb_breaker_store import DynamoDBBreakerStore

        def default_client() -> Any:
            from textapi_shared.aws import aws_client

            return aws_client(settings, "dynamodb")

        client = dynamodb_client if dynamodb_client is not None else default_client
        return DynamoDBBreakerStore(client, settings.cache_table_name, prefix=key_prefix or "")
    from textapi_shared.resilience.breaker_store import MemoryBreakerStore

    return MemoryBreakerStore()


def build_resilience(
    settings: SharedSettings,
    *,
    observability: Observability | None = None,
    presets_ssm_parameter: str = "",
    redis_client_factory: Callable[[], Awaitable[RedisClient]] | None = None,
    dynamodb_client: Any | None = None,
    ssm_client: Any | None = None,
    store: BreakerStore | None = None,
    key_prefix: str | None = None,
    clock: Callable[[], float] = time.time,
    sync_interval: float | None = None,
) -> Resilience:
    """The resilience services of one app. `store`, `clock` and `sync_interval` are for tests."""
    events = ResilienceEvents(observability)
    models = fallback_chain(settings)
    if store is None:
        store = build_breaker_store(
            settings,
            redis_client_factory=redis_client_factory,
            dynamodb_client=dynamodb_client,
            key_prefix=key_prefix,
        )
    breakers = BreakerRegistry(
        store,
        events=events,
        clock=clock,
        sync_interval=DEFAULT_SYNC_SECONDS.get(store.name, 1.0) if sync_interval is None else sync_interval,
        names=breaker_names(models),
    )
    config = ResilienceConfigSource(
        settings, presets_ssm_parameter=presets_ssm_parameter, ssm_client=ssm_client, events=events
    )
    return Resilience(config=config, breakers=breakers, events=events, backend=store.name, models=models)


def fallback_chain(settings: SharedSettings) -> tuple[str, ...]:
    """`AI_MODEL` then `AI_FALLBACK_MODELS` when Gemini answers and fallbacks are set; else empty (the
    offline provider has one model, so nothing to fall back to)."""
    from textapi_shared.ai.factory import uses_gemini

    return settings.ai_models if settings.ai_fallback_models and uses_gemini(settings) else ()
