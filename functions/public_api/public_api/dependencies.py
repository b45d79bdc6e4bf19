"""`Annotated` dependency aliases for the public routes."""

from typing import Annotated

from fastapi import Depends, Header, Request

from public_api.config import PublicApiSettings
from public_api.services.jobs.service import JobService
from public_api.services.text_processor import TextProcessor
from textapi_shared.cache.protocol import Cache
from textapi_shared.resilience.deadline import Deadline
from textapi_shared.resilience.factory import Resilience
from textapi_shared.security.api_keys import ApiKeyAuthenticator, Principal, key_hash
from textapi_shared.security.rate_limiter import RateLimiter
from textapi_shared.web.dependencies import (
    app_cache,
    app_resilience,
    app_settings,
    authenticator,
    invocation_deadline,
    optional_api_key,
    require_api_key,
)
from textapi_shared.web.idempotency import IdempotentCall


async def text_processor(request: Request) -> TextProcessor:
    return request.app.state.text_processor


async def rate_limiter(request: Request) -> RateLimiter:
    return request.app.state.rate_limiter


async def rate_limit_subject(request: Request, caller: Annotated[Principal, Depends(require_api_key)]) -> str:
    """Whose budget a call spends: the key's hash, or (open mode only) the client address's hash."""
    if caller.key_hash:
        return caller.key_hash
    client = request.client.host if request.client else "unknown"
    return f"open:{key_hash(client)}"


async def read_cache(request: Request) -> bool:
    """`Cache-Control: no-cache` skips the cache read (the fresh answer is still stored)."""
    return "no-cache" not in request.headers.get("cache-control", "").lower()


async def job_service(request: Request) -> JobService:
    return request.app.state.jobs.service


async def idempotent_call(
    request: Request,
    subject: Annotated[str, Depends(rate_limit_subject)],
    deadline: Annotated[Deadline, Depends(invocation_deadline)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Send the same key to retry safely: within 24 h the first response is replayed "
            "(`Idempotent-Replayed: true`); another body with the key is 422, a request still running 409.",
        ),
    ] = None,
) -> IdempotentCall:
    """The request's `Idempotency-Key`, scoped to the caller (so it runs after authentication)."""
    return IdempotentCall(
        request,
        idempotency_key,
        store=request.app.state.idempotency,
        scope=subject,
        ttl_s=request.app.state.settings.idempotency_ttl_seconds,
        deadline=deadline,
        logger=request.app.state.observability.logger,
    )


Settings = Annotated[PublicApiSettings, Depends(app_settings)]
Authenticator = Annotated[ApiKeyAuthenticator, Depends(authenticator)]
ApiKey = Annotated[Principal, Depends(require_api_key)]
OptionalApiKey = Annotated[Principal | None, Depends(optional_api_key)]
Processor = Annotated[TextProcessor, Depends(text_processor)]
Limiter = Annotated[RateLimiter, Depends(rate_limiter)]
RateLimitSubject = Annotated[str, Depends(rate_limit_subject)]
InvocationDeadline = Annotated[Deadline, Depends(invocation_deadline)]
ReadCache = Annotated[bool, Depends(read_cache)]
SharedCache = Annotated[Cache, Depends(app_cache)]
ResilienceServices = Annotated[Resilience, Depends(app_resilience)]
Jobs = Annotated[JobService, Depends(job_service)]
Idempotency = Annotated[IdempotentCall, Depends(idempotent_call)]
