"""The text-processing services both entry points build the same way: the API (`main`) and the job
worker (`worker`) share one construction, so a job item runs exactly as a `process` call does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from public_api.services.text_processor import TextProcessor
from textapi_shared.ai.factory import build_provider
from textapi_shared.cache.factory import build_cache
from textapi_shared.cache.single_flight import SingleFlight
from textapi_shared.cache.statistics import CacheStatistics
from textapi_shared.monitoring.request_metrics import RequestMetrics
from textapi_shared.resilience.factory import build_resilience
from textapi_shared.security.prompt_guard import GuardMode, PromptGuard

if TYPE_CHECKING:
    from public_api.config import PublicApiSettings
    from textapi_shared.aws import SecureParameters
    from textapi_shared.cache.protocol import Cache
    from textapi_shared.monitoring.observability import Observability
    from textapi_shared.resilience.factory import Resilience


class ProcessingServices:
    __slots__ = ("cache", "resilience", "secrets", "text_processor")

    def __init__(
        self, cache: Cache, resilience: Resilience, text_processor: TextProcessor, secrets: SecureParameters
    ) -> None:
        self.cache = cache
        self.resilience = resilience
        self.text_processor = text_processor
        self.secrets = secrets


def build_processing(
    settings: PublicApiSettings, observability: Observability, secrets: SecureParameters
) -> ProcessingServices:
    """Cache, resilience and the text processor over them; nothing connects until first use."""
    cache = build_cache(
        settings, on_error=observability.cache_error, on_oversize=observability.cache_oversize
    )
    resilience = build_resilience(
        settings, observability=observability, presets_ssm_parameter=settings.resilience_presets_ssm_parameter
    )
    processor = TextProcessor(
        provider=resilience.wrap(build_provider(settings, secrets)),
        guard=PromptGuard(GuardMode(settings.prompt_guard_mode)),
        settings=settings,
        observability=observability,
        cache=cache,
        statistics=CacheStatistics(cache),
        request_metrics=RequestMetrics(cache),
        flights=SingleFlight(cache),
    )
    return ProcessingServices(cache, resilience, processor, secrets)
