"""`Annotated` dependency aliases for the public routes."""

from typing import Annotated, NamedTuple

from fastapi import Depends, Header, Request

from public_api.composition import PublicServices
from public_api.services.context import RequestContext
from textapi_shared.errors import InputValidationError
from textapi_shared.resilience.deadline import Deadline
from textapi_shared.security.api_keys import Principal
from textapi_shared.security.prompt_guard import GuardMode
from textapi_shared.tenancy.records import JOBS_SCOPE
from textapi_shared.web.dependencies import (
    app_services,
    invocation_deadline,
    optional_api_key,
    request_charge,
    require_api_key,
)
from textapi_shared.web.idempotency import DESCRIPTION as IDEMPOTENCY_DOC
from textapi_shared.web.idempotency import HEADER as IDEMPOTENCY_HEADER
from textapi_shared.web.idempotency import OPENAPI_PARAMETER as IDEMPOTENCY_PARAMETER
from textapi_shared.web.idempotency import IdempotentCall

__all__ = ["IDEMPOTENCY_PARAMETER"]

Services = Annotated[PublicServices, Depends(app_services)]
ApiKey = Annotated[Principal, Depends(require_api_key)]
OptionalApiKey = Annotated[Principal | None, Depends(optional_api_key)]


def cache_scope(services: PublicServices, caller: Principal) -> str:
    """Whose cache a call reads and fills: its key's (CACHE_SCOPE=key; a record's id, so a rotation keeps
    it), or everyone's (shared). Open mode (no keys, non-production) has a single scope."""
    if services.settings.cache_scope == "shared":
        return "shared"
    return f"key:{caller.subject(None)}" if caller.key_hash else "open"


def _context(
    request: Request, services: PublicServices, caller: Principal, deadline: Deadline
) -> RequestContext:
    charge = request_charge(request)
    assert charge is not None  # the access gate charges every keyed request of this API
    record = caller.record
    return RequestContext(
        principal=caller,
        deadline=deadline,
        read_cache="no-cache" not in request.headers.get("cache-control", "").lower(),
        scope=cache_scope(services, caller),
        charge=charge,
        generation=services.generation,
        fleet=services.fleet,
        meter=services.meters.meter(charge.subject, record),
        guard_mode=GuardMode(record.prompt_guard) if record is not None and record.prompt_guard else None,
        pii_mode=record.pii if record is not None else None,
    )


async def request_context(request: Request, caller: ApiKey) -> RequestContext:
    """The request's context: its caller, deadline, cache policy and scope, and its charge."""
    return _context(request, request.app.state.services, caller, await invocation_deadline(request))


Context = Annotated[RequestContext, Depends(request_context)]


async def jobs_scope(caller: ApiKey) -> None:
    """403 for a key whose scopes leave out `jobs`, before anything else of the request runs."""
    caller.require(JOBS_SCOPE)


JOBS = Depends(jobs_scope)


def owner_of(ctx: RequestContext) -> str:
    """Whose jobs and idempotency records a request's are: its charge's subject (the key's hash)."""
    assert ctx.charge is not None  # a keyed route of the public API always has one
    return ctx.charge.subject


def _idempotent(
    request: Request, services: PublicServices, ctx: RequestContext, key: str | None
) -> IdempotentCall:
    return IdempotentCall(
        request,
        key,
        store=services.idempotency,
        scope=owner_of(ctx),
        ttl_s=services.settings.idempotency_ttl_seconds,
        deadline=ctx.deadline,
        logger=services.observability.logger,
    )


async def idempotent_call(
    request: Request,
    ctx: Context,
    idempotency_key: Annotated[
        str | None, Header(alias=IDEMPOTENCY_HEADER, description=IDEMPOTENCY_DOC)
    ] = None,
) -> IdempotentCall:
    """The request's `Idempotency-Key`, scoped to the caller (so it runs after authentication)."""
    return _idempotent(request, request.app.state.services, ctx, idempotency_key)


Idempotency = Annotated[IdempotentCall, Depends(idempotent_call)]


class TextCall(NamedTuple):
    """What a text-processing route needs besides its body: its context, the services and its
    `Idempotency-Key` (documented on the routes with `IDEMPOTENCY_PARAMETER`)."""

    ctx: RequestContext
    services: PublicServices
    idempotency: IdempotentCall

    @property
    def principal(self) -> Principal:
        assert self.ctx.principal is not None
        return self.ctx.principal


async def text_call(request: Request) -> TextCall:
    """`Context`, `Services` and `Idempotency` for the text routes, called by the route itself: the one
    fast path of the app. Solved as a dependency it costs a cache hit 4 % (82,000 instructions of 2.2
    million), which the Redis hit target of `make bench` cannot spare."""
    services: PublicServices = request.app.state.services
    caller = await require_api_key(request)
    ctx = _context(request, services, caller, await invocation_deadline(request))
    return TextCall(
        ctx, services, _idempotent(request, services, ctx, request.headers.get(IDEMPOTENCY_HEADER))
    )


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


async def check_batch_size(request: Request, services: Services) -> None:
    """A batch over MAX_BATCH_REQUESTS_PER_CALL is 422 before its items are validated; over the
    caller's per-minute limit 422 `OverBudgetError` (charged nothing: it could never pass)."""
    limit = services.settings.max_batch_requests_per_call
    count = await _request_count(request, limit, "batch", "MAX_BATCH_REQUESTS_PER_CALL")
    charge = request_charge(request)
    if count is not None and charge is not None:
        charge.check_affordable(count, what=f"A batch of {count}", field="requests")


async def check_job_size(request: Request, services: Services) -> None:
    """A job over MAX_JOB_REQUESTS is 422 before its items are validated."""
    await _request_count(request, services.settings.max_job_requests, "job", "MAX_JOB_REQUESTS")
