"""`Annotated` dependency aliases for the public routes."""

from typing import Annotated, NamedTuple

from fastapi import Depends, Header, Request

from public_api.config import PublicApiSettings
from public_api.services.jobs.service import JobService
from public_api.services.text_processor import TextProcessor
from textapi_shared.cache.protocol import Cache
from textapi_shared.errors import InputValidationError
from textapi_shared.resilience.deadline import Deadline
from textapi_shared.resilience.factory import Resilience
from textapi_shared.security.api_keys import ApiKeyAuthenticator, Principal
from textapi_shared.security.rate_limiter import RateLimiter
from textapi_shared.security.rate_limiter import rate_limit_subject as subject_of
from textapi_shared.web.dependencies import (
    app_cache,
    app_resilience,
    app_settings,
    authenticator,
    invocation_deadline,
    optional_api_key,
    require_api_key,
)
from textapi_shared.web.idempotency import DESCRIPTION as IDEMPOTENCY_DOC
from textapi_shared.web.idempotency import HEADER as IDEMPOTENCY_HEADER
from textapi_shared.web.idempotency import IdempotentCall


async def text_processor(request: Request) -> TextProcessor:
    return request.app.state.text_processor


async def rate_limiter(request: Request) -> RateLimiter:
    return request.app.state.rate_limiter


async def rate_limit_subject(request: Request, caller: Annotated[Principal, Depends(require_api_key)]) -> str:
    """Whose budget a call spends: the key's hash, or (open mode only) the client address's hash."""
    return subject_of(caller, request.client.host if request.client else None)


async def cache_scope(request: Request, caller: Annotated[Principal, Depends(require_api_key)]) -> str:
    """Whose cache a call reads and fills: its key's (CACHE_SCOPE=key), or everyone's (shared).

    Open mode (no keys, non-production) has a single scope.
    """
    return _scope(request.app.state.settings, caller)


class TextCall(NamedTuple):
    """What a text-processing route needs beside its body. The routes get it by calling `text_call`
    rather than as a dependency: FastAPI spends some 15 µs a request on each dependency it solves, and
    these routes are the hot path (they are marked `authenticates_with_api_key`, so the access gate
    checks their key before the body is read, and the OpenAPI document shows it)."""

    processor: TextProcessor
    limiter: RateLimiter
    settings: PublicApiSettings
    subject: str  # whose rate-limit budget the call spends
    scope: str  # whose cache entries and single-flight leases it uses
    deadline: Deadline
    read_cache: bool
    idempotency: IdempotentCall  # the request's Idempotency-Key, scoped to the caller


async def text_call(request: Request) -> TextCall:
    caller = await require_api_key(request)
    state = request.app.state
    subject = subject_of(caller, request.client.host if request.client else None)
    deadline = await invocation_deadline(request)
    return TextCall(
        processor=state.text_processor,
        limiter=state.rate_limiter,
        settings=state.settings,
        subject=subject,
        scope=_scope(state.settings, caller),
        deadline=deadline,
        read_cache=await read_cache(request),
        idempotency=_idempotent_call(request, request.headers.get(IDEMPOTENCY_HEADER), subject, deadline),
    )


def _idempotent_call(request: Request, key: str | None, subject: str, deadline: Deadline) -> IdempotentCall:
    state = request.app.state
    return IdempotentCall(
        request,
        key,
        store=state.idempotency,
        scope=subject,
        ttl_s=state.settings.idempotency_ttl_seconds,
        deadline=deadline,
        logger=state.observability.logger,
    )


def _scope(settings: PublicApiSettings, caller: Principal) -> str:
    if settings.cache_scope == "shared":
        return "shared"
    return f"key:{caller.key_hash}" if caller.key_hash else "open"


async def _request_count(request: Request, limit: int, what: str, setting: str) -> int | None:
    """The number of `requests` in the body, refused over `limit` before any item is validated
    (FastAPI solves dependencies first, on the body it has already parsed): a 422, charged as an
    invalid request. None when the body has no list of requests (its own validation says so)."""
    try:
        body = await request.json()  # parsed once by FastAPI and kept on the request
    except (ValueError, RecursionError):
        return None
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list):
        return None
    count = len(requests)
    if count > limit:
        raise InputValidationError(
            f"A {what} may hold at most {limit} requests ({setting}); this one has {count}.",
            details={
                "errors": [
                    {
                        "field": "requests",
                        "location": ["body", "requests"],
                        "message": f"at most {limit} requests per {what}",
                        "type": "too_long",
                    }
                ]
            },
        )
    return count


async def check_batch_size(request: Request) -> None:
    """A batch over MAX_BATCH_REQUESTS_PER_CALL is 422 before its items are validated; over the
    caller's per-minute limit 422 `OverBudgetError` (charged nothing: it could never pass)."""
    limit = request.app.state.settings.max_batch_requests_per_call
    count = await _request_count(request, limit, "batch", "MAX_BATCH_REQUESTS_PER_CALL")
    if count is None:
        return
    principal = (request.scope.get("state") or {}).get("principal")
    subject = subject_of(principal, request.client.host if request.client else None) if principal else ""
    request.app.state.rate_limiter.check_affordable(
        count, subject=subject, what=f"A batch of {count}", field="requests"
    )


async def check_job_size(request: Request) -> None:
    """A job over MAX_JOB_REQUESTS is 422 before its items are validated."""
    await _request_count(request, request.app.state.settings.max_job_requests, "job", "MAX_JOB_REQUESTS")


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
        str | None, Header(alias=IDEMPOTENCY_HEADER, description=IDEMPOTENCY_DOC)
    ] = None,
) -> IdempotentCall:
    """The request's `Idempotency-Key`, scoped to the caller (so it runs after authentication)."""
    return _idempotent_call(request, idempotency_key, subject, deadline)


Settings = Annotated[PublicApiSettings, Depends(app_settings)]
Authenticator = Annotated[ApiKeyAuthenticator, Depends(authenticator)]
ApiKey = Annotated[Principal, Depends(require_api_key)]
OptionalApiKey = Annotated[Principal | None, Depends(optional_api_key)]
Processor = Annotated[TextProcessor, Depends(text_processor)]
Limiter = Annotated[RateLimiter, Depends(rate_limiter)]
RateLimitSubject = Annotated[str, Depends(rate_limit_subject)]
CacheScope = Annotated[str, Depends(cache_scope)]
InvocationDeadline = Annotated[Deadline, Depends(invocation_deadline)]
ReadCache = Annotated[bool, Depends(read_cache)]
SharedCache = Annotated[Cache, Depends(app_cache)]
ResilienceServices = Annotated[Resilience, Depends(app_resilience)]
Jobs = Annotated[JobService, Depends(job_service)]
Idempotency = Annotated[IdempotentCall, Depends(idempotent_call)]
