"""FastAPI dependencies both apps use; each function aliases them with `Annotated` in its own
`dependencies.py`. All are async: a sync dependency costs a thread-pool hop on every request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from fastapi import Request

from textapi_shared.resilience.deadline import Deadline

T = TypeVar("T")

if TYPE_CHECKING:
    from textapi_shared.aws import SecureParameters
    from textapi_shared.cache.protocol import Cache
    from textapi_shared.config import SharedSettings
    from textapi_shared.resilience.factory import Resilience
    from textapi_shared.security.api_keys import ApiKeyAuthenticator, Principal


async def app_settings(request: Request) -> SharedSettings:
    """The function's own settings; each function's alias names its subclass."""
    return request.app.state.settings


async def authenticator(request: Request) -> ApiKeyAuthenticator:
    return request.app.state.authenticator


# The access gate (`web.access_gate`) finds routes by these three dependencies and authenticates the
# caller before the body is read; they return what it found (and check themselves only if it did not
# run, e.g. an app built without it).


def _gated(request: Request) -> tuple[bool, Principal | None]:
    state = request.scope.get("state") or {}
    return "principal" in state, state.get("principal")


async def require_api_key(request: Request) -> Principal:
    gated, principal = _gated(request)
    if not gated:
        principal = await request.app.state.authenticator.authenticate_public(request.headers)
    assert principal is not None
    return principal


def authenticates_with_api_key(call: T) -> T:
    """Mark a route (or a dependency of one) that gets its caller through `require_api_key` itself, so the
    access gate and the OpenAPI document treat the route as keyed, as if it depended on `require_api_key`.
    FastAPI spends some 15 µs a request on each dependency it solves: a hot route can check its key
    without one."""
    call.textapi_access = "public"  # type: ignore[attr-defined]
    return call


async def optional_api_key(request: Request) -> Principal | None:
    """Anonymous calls pass; a key that is presented must be valid."""
    gated, principal = _gated(request)
    if gated:
        return principal
    return await request.app.state.authenticator.authenticate_public(request.headers, required=False)


async def require_admin_key(request: Request) -> Principal:
    gated, principal = _gated(request)
    if gated and principal is not None:
        return principal
    return await request.app.state.authenticator.authenticate_admin(request.headers)


async def invocation_deadline(request: Request) -> Deadline:
    """When this request must be done: Lambda's remaining time, or a stand-in off Lambda."""
    settings = request.app.state.settings
    return Deadline.for_invocation(
        request.scope.get("aws.context"),
        reserve_s=settings.deadline_reserve_seconds,
        fallback_s=settings.local_request_timeout_seconds,
    )


async def app_secrets(request: Request) -> SecureParameters:
    return request.app.state.secrets


async def app_cache(request: Request) -> Cache:
    return request.app.state.cache


async def app_resilience(request: Request) -> Resilience:
    return request.app.state.resilience
