"""The internal function's composition root: the services its admin routes use, built once per
execution environment in one place, typed and frozen. Nothing connects here.

It reads what the public function's instances write in the fleet state (statistics, request metrics,
breakers) and acts on what they share (the cache and its generation, the resilience configuration).
Tests hand fakes in through `build_services`' keyword arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textapi_shared.cache.factory import build_cache
from textapi_shared.cache.generation import CacheGeneration
from textapi_shared.cache.statistics import CacheStatistics
from textapi_shared.fleet.factory import build_fleet_state
from textapi_shared.resilience.factory import build_resilience
from textapi_shared.security.webhooks import deployment_callback_secrets
from textapi_shared.tenancy.factory import build_tenancy_stores
from textapi_shared.tenancy.resolver import KeyResolver
from textapi_shared.web.request_metrics import RequestMetrics
from textapi_shared.web.services import WebServices, key_checking

if TYPE_CHECKING:
    from internal_api.config import InternalApiSettings
    from textapi_shared.cache.protocol import ResponseCache
    from textapi_shared.fleet.protocol import FleetState
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.resilience.factory import Resilience
    from textapi_shared.security.webhooks import CallbackSecrets
    from textapi_shared.tenancy.usage import UsageStore


@dataclass(frozen=True, slots=True, kw_only=True)
class InternalServices(WebServices):
    fleet: FleetState
    cache: ResponseCache
    generation: CacheGeneration
    cache_statistics: CacheStatistics
    request_metrics: RequestMetrics
    resilience: Resilience
    keys: KeyResolver
    usage: UsageStore
    callback_secrets: CallbackSecrets | None  # a new or rotated key is shown its own


def build_services(
    settings: InternalApiSettings,
    observability: Observability,
    *,
    resilience: Resilience | None = None,
    fleet: FleetState | None = None,
    tenancy: tuple[KeyResolver, UsageStore] | None = None,
) -> InternalServices:
    """The services of `settings`; `resilience`, `fleet` and `tenancy` (key records, usage) replace the
    configured ones (tests, `make run` sharing the memory stores of both apps)."""
    if tenancy is None:
        key_store, usage = build_tenancy_stores(settings)
        # The admin API writes records; the public function's instances read them through their own caches.
        keys = KeyResolver(key_store, ttl_s=settings.key_cache_seconds)
    else:
        keys, usage = tenancy
    secrets, authenticator = key_checking(settings, observability, records=keys)
    generation = CacheGeneration()
    if fleet is None:
        fleet = build_fleet_state(settings, on_error=observability.cache_error)
    if resilience is None:
        resilience = build_resilience(
            settings,
            observability=observability,
            presets_ssm_parameter=settings.resilience_presets_ssm_parameter,
        )
    return InternalServices(
        settings=settings,
        observability=observability,
        secrets=secrets,
        authenticator=authenticator,
        fleet=fleet,
        cache=build_cache(settings, generation, on_error=observability.cache_error),
        generation=generation,
        cache_statistics=CacheStatistics(fleet),
        request_metrics=RequestMetrics(fleet),
        resilience=resilience,
        keys=keys,
        usage=usage,
        callback_secrets=deployment_callback_secrets(settings, secrets),
    )
