"""`Annotated` dependency aliases for the internal routes."""

from typing import Annotated

from fastapi import Depends, Request

from internal_api.config import InternalApiSettings
from textapi_shared.aws import SecureParameters
from textapi_shared.cache.protocol import Cache
from textapi_shared.cache.statistics import CacheStatistics
from textapi_shared.monitoring.request_metrics import RequestMetrics
from textapi_shared.resilience.factory import Resilience
from textapi_shared.security.api_keys import ApiKeyAuthenticator, Principal
from textapi_shared.web.dependencies import (
    app_cache,
    app_resilience,
    app_secrets,
    app_settings,
    authenticator,
    require_admin_key,
)


async def cache_statistics(request: Request) -> CacheStatistics:
    return request.app.state.cache_statistics


async def request_metrics(request: Request) -> RequestMetrics:
    return request.app.state.request_metrics


Settings = Annotated[InternalApiSettings, Depends(app_settings)]
Authenticator = Annotated[ApiKeyAuthenticator, Depends(authenticator)]
AdminKey = Annotated[Principal, Depends(require_admin_key)]
SharedCache = Annotated[Cache, Depends(app_cache)]
Secrets = Annotated[SecureParameters, Depends(app_secrets)]
CacheStats = Annotated[CacheStatistics, Depends(cache_statistics)]
ResilienceServices = Annotated[Resilience, Depends(app_resilience)]
TrafficMetrics = Annotated[RequestMetrics, Depends(request_metrics)]
