"""The public function's composition root: every service its API and its job worker use, built once per
execution environment in one place, typed and frozen. Nothing connects here (clients are built on first
use, never at init: a SnapStart snapshot must hold no connection).

Tests hand fakes in through `build_services`' keyword arguments, never by reaching into the objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from public_api.services.jobs.callback import CallbackSender
from public_api.services.jobs.quota import JobQuota
from public_api.services.jobs.service import JobService
from public_api.services.jobs.worker import JobWorker
from public_api.services.privacy import Privacy
from public_api.services.text_processor import TextProcessor
from textapi_shared.ai.factory import build_provider
from textapi_shared.cache.factory import build_cache
from textapi_shared.cache.generation import CacheGeneration
from textapi_shared.cache.single_flight import SingleFlight
from textapi_shared.cache.statistics import CacheStatistics
from textapi_shared.fleet.factory import build_fleet_state
from textapi_shared.health_checks import ai_configuration_check, authentication_check, cache_ping_check
from textapi_shared.idempotency.factory import build_idempotency_store
from textapi_shared.monitoring.health import CachedStatus
from textapi_shared.resilience.factory import build_resilience
from textapi_shared.security.prompt_guard import GuardMode, PromptGuard
from textapi_shared.security.rate_limiter import RateLimiter
from textapi_shared.security.webhooks import deployment_callback_secrets
from textapi_shared.tenancy.factory import build_tenancy_stores
from textapi_shared.tenancy.meter import Meters
from textapi_shared.tenancy.prices import Prices
from textapi_shared.tenancy.resolver import KeyResolver
from textapi_shared.web.request_metrics import RequestMetrics
from textapi_shared.web.services import WebServices, key_checking

if TYPE_CHECKING:
    from public_api.config import PublicApiSettings
    from public_api.services.jobs.queue import JobQueue
    from public_api.services.jobs.store import JobStore
    from textapi_shared.ai.provider import AIProvider
    from textapi_shared.cache.protocol import ResponseCache
    from textapi_shared.fleet.protocol import FleetState
    from textapi_shared.idempotency.store import IdempotencyStore
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.privacy.comprehend import ComprehendPiiDetector
    from textapi_shared.resilience.factory import Resilience
    from textapi_shared.security.webhooks import CallbackSecrets
    from textapi_shared.tenancy.usage import UsageStore


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicServices(WebServices):
    limiter: RateLimiter
    fleet: FleetState
    cache: ResponseCache
    generation: CacheGeneration
    resilience: Resilience
    processor: TextProcessor
    idempotency: IdempotencyStore
    jobs: JobService
    job_store: JobStore
    job_queue: JobQueue
    job_worker: JobWorker
    health: CachedStatus
    keys: KeyResolver
    meters: Meters
    callback_secrets: CallbackSecrets | None


def build_services(
    settings: PublicApiSettings,
    observability: Observability,
    *,
    provider: AIProvider | None = None,
    resilience: Resilience | None = None,
    fleet: FleetState | None = None,
    job_store: JobStore | None = None,
    tenancy: tuple[KeyResolver, UsageStore] | None = None,
    names: ComprehendPiiDetector | None = None,
) -> PublicServices:
    """The services of `settings`; `provider` (the AI before resilience wraps it), `resilience`, `fleet`,
    `job_store`, `tenancy` (key records through their resolver, usage) and `names` (the Comprehend
    detector of PII_DETECTOR=comprehend) replace the configured ones
    (tests, benches sharing one store, `make run` sharing the memory stores of both apps)."""
    if tenancy is None:
        key_store, usage = build_tenancy_stores(settings)
        keys = KeyResolver(key_store, ttl_s=settings.key_cache_seconds)
    else:
        keys, usage = tenancy
    secrets, authenticator = key_checking(settings, observability, records=keys)
    meters = Meters(usage, keys, Prices(settings.ai_model_prices), observability)
    generation = CacheGeneration()
    if fleet is None:
        fleet = build_fleet_state(settings, on_error=observability.cache_error)
    cache = build_cache(
        settings, generation, on_error=observability.cache_error, on_oversize=observability.cache_oversize
    )
    if resilience is None:
        resilience = build_resilience(
            settings,
            observability=observability,
            presets_ssm_parameter=settings.resilience_presets_ssm_parameter,
        )
    processor = TextProcessor(
        provider=resilience.wrap(provider if provider is not None else build_provider(settings, secrets)),
        guard=PromptGuard(GuardMode(settings.prompt_guard_mode)),
        settings=settings,
        observability=observability,
        cache=cache,
        generation=generation,
        statistics=CacheStatistics(fleet),
        request_metrics=RequestMetrics(fleet),
        flights=SingleFlight(cache, fleet),
        privacy=Privacy(settings, observability, names=names if names is not None else _names(settings)),
    )
    # Counted in the fleet state, so limits hold across every instance of the function.
    limiter = RateLimiter(
        fleet, per_minute=settings.rate_limit_per_minute, overrides=settings.rate_limit_overrides
    )
    callback_secrets = deployment_callback_secrets(settings, secrets)
    callbacks = (
        CallbackSender(
            settings, observability=observability, secrets=callback_secrets, records=meters.record_of
        )
        if callback_secrets is not None
        else None
    )
    store = job_store if job_store is not None else _job_store(settings)
    worker = JobWorker(
        store=store,
        processor=processor,
        fleet=fleet,
        generation=generation,
        meters=meters,
        observability=observability,
        callbacks=callbacks,
        concurrency=settings.batch_ai_concurrency_limit,
        max_receive_count=settings.job_max_receive_count,
        retry_base_s=settings.job_retry_base_seconds,
    )
    queue = _job_queue(settings, worker, observability)
    jobs = JobService(
        store=store,
        queue=queue,
        quota=JobQuota(fleet, per_hour=settings.job_items_per_hour),
        callbacks=callbacks,
        settings=settings,
        observability=observability,
    )
    health = CachedStatus(
        {
            "authentication": authentication_check(authenticator, production=settings.is_production),
            "ai": ai_configuration_check(settings, secrets),
            "cache": cache_ping_check(cache),
            "resilience": resilience.health,
        },
        max_age_s=settings.health_cache_seconds,
    )
    return PublicServices(
        settings=settings,
        observability=observability,
        secrets=secrets,
        authenticator=authenticator,
        limiter=limiter,
        fleet=fleet,
        cache=cache,
        generation=generation,
        resilience=resilience,
        processor=processor,
        idempotency=build_idempotency_store(settings),
        jobs=jobs,
        job_store=store,
        job_queue=queue,
        job_worker=worker,
        health=health,
        keys=keys,
        meters=meters,
        callback_secrets=callback_secrets,
    )


def _names(settings: PublicApiSettings) -> ComprehendPiiDetector | None:
    """Names and addresses through Comprehend (PII_DETECTOR=comprehend); boto3 loads on its first call."""
    if settings.pii_detector != "comprehend":
        return None
    from textapi_shared.privacy.comprehend import ComprehendPiiDetector

    return ComprehendPiiDetector(settings)


def _job_store(settings: PublicApiSettings) -> JobStore:
    if settings.jobs_backend == "sqs":
        from public_api.services.jobs.dynamodb_store import DynamoDBJobStore

        return DynamoDBJobStore(settings)
    from public_api.services.jobs.store import MemoryJobStore

    return MemoryJobStore()


def _job_queue(settings: PublicApiSettings, worker: JobWorker, observability: Observability) -> JobQueue:
    if settings.jobs_backend == "sqs":
        from public_api.services.jobs.sqs_queue import SqsJobQueue

        return SqsJobQueue(settings)
    from public_api.services.jobs.queue import MemoryJobQueue

    return MemoryJobQueue(
        worker,
        logger=observability.logger,
        concurrency=settings.batch_ai_concurrency_limit,
        max_receive_count=settings.job_max_receive_count,
        message_timeout_s=settings.local_request_timeout_seconds,
    )
