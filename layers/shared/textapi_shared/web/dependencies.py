"""FastAPI dependencies both apps use; each function aliases them with `Annotated` in its own
`dependencies.py`. All are async: a sync dependency costs a thread-pool hop on every request.

A router declares who may call its routes by its route class (`web.access`); the access gate reads that
declaration and authenticates the caller before the body is read, and `require_api_key` /
`require_admin_key` then return the caller the gate found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Depends, Request

from textapi_shared.resilience.deadline import Deadline
from textapi_shared.security.rate_limiter import READ_COST

if TYPE_CHECKING:
    from textapi_shared.security.api_keys import Principal
    from textapi_shared.security.rate_limiter import Charge
    from textapi_shared.web.services import WebServices


async def app_services(request: Request) -> WebServices:
    """The app's services; each function's alias names its own subclass."""
    return request.app.state.services


def _gated(request: Request) -> tuple[bool, Principal | None]:
    state = request.scope.get("state") or {}
    return "principal" in state, state.get("principal")


async def require_api_key(request: Request) -> Principal:
    gated, principal = _gated(request)
    if not gated:  # an app built without the gate (never in the functions)
        principal = await request.app.state.services.authenticator.authenticate_public(request.headers)
    assert principal is not None
    return principal


async def optional_api_key(request: Request) -> Principal | None:
    """Anonymous calls pass; a key that is presented must be valid."""
    gated, principal = _gated(request)
    if gated:
        return principal
    return await request.app.state.services.authenticator.authenticate_public(request.headers, required=False)


async def require_admin_key(request: Request) -> Principal:
    gated, principal = _gated(request)
    if gated and principal is not None:
        return principal
    return await request.app.state.services.authenticator.authenticate_admin(request.headers)


def request_charge(request: Request) -> Charge | None:
    """The request's rate-limit charge, made by the access gate for a metered caller."""
    return (request.scope.get("state") or {}).get("charge")


async def spend_read(request: Request) -> None:
    """A read of stored results (job status, usage) spends a quarter request before it runs."""
    charge = request_charge(request)
    if charge is not None:
        await charge.spend(cost=READ_COST)


async def invocation_deadline(request: Request) -> Deadline:
    """When this request must be done: Lambda's remaining time, or a stand-in off Lambda."""
    settings = request.app.state.services.settings
    return Deadline.for_invocation(
        request.scope.get("aws.context"),
        reserve_s=settings.deadline_reserve_seconds,
        fallback_s=settings.local_request_timeout_seconds,
    )


# A route that reads stored results spends a quarter request before it runs (in its `dependencies`).
METERED_READ = Depends(spend_read)
