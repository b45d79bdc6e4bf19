"""The access gate: checks the key of a keyed route *before* the body is read, then bounds the body.

Which routes need which key comes from the routes themselves: a route whose dependencies include
`require_api_key`, `optional_api_key` or `require_admin_key` is gated accordingly, so the security
dependency in its signature stays the one declaration (and documents the route in OpenAPI). The
dependency then finds the caller the gate left in `scope["state"]["principal"]`.

An unauthenticated caller gets its 401 without a byte of its body being received or parsed: a 2 MB
body costs no more to refuse than an empty one. Responses of keyed routes carry
`Cache-Control: no-store`; a body over `MAX_REQUEST_SIZE` is 413 (charged as a rejected request on
metered routes).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from starlette._utils import get_route_path
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Match

from textapi_shared.errors import ApiError, RequestTooLargeError
from textapi_shared.web import dependencies
from textapi_shared.web.errors import send_error

if TYPE_CHECKING:
    from collections.abc import Iterable

    from fastapi.dependencies.models import Dependant
    from starlette.routing import BaseRoute
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from textapi_shared.security.api_keys import ApiKeyAuthenticator, Principal

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Access(StrEnum):
    PUBLIC = "public"
    OPTIONAL = "optional"
    ADMIN = "admin"


_STRICTEST_FIRST = (Access.ADMIN, Access.PUBLIC, Access.OPTIONAL)
_ACCESS_BY_DEPENDENCY = {
    dependencies.require_admin_key: Access.ADMIN,
    dependencies.require_api_key: Access.PUBLIC,
    dependencies.optional_api_key: Access.OPTIONAL,
}


def _dependant_access(dependant: Dependant) -> Access | None:
    found: set[Access] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        access = _ACCESS_BY_DEPENDENCY.get(current.call)  # type: ignore[arg-type]
        marked = getattr(current.call, "textapi_access", None)  # `authenticates_with_api_key`
        if access is not None or marked is not None:
            found.add(access or Access(marked))
        stack.extend(current.dependencies)
    # The strictest requirement wins when a route declares several.
    return next((access for access in _STRICTEST_FIRST if access in found), None)


def route_access(route: BaseRoute) -> Access | None:
    """The key a route requires, from its dependencies; None for an open route."""
    dependant = getattr(route, "dependant", None)
    return _dependant_access(dependant) if dependant is not None else None


async def _authenticate(
    authenticator: ApiKeyAuthenticator, access: Access, headers: Headers
) -> Principal | None:
    if access is Access.ADMIN:
        return await authenticator.authenticate_admin(headers)
    return await authenticator.authenticate_public(headers, required=access is Access.PUBLIC)


class AccessGateMiddleware:
    """Innermost middleware (inside CORS, so its refusals carry the CORS headers of the origin)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: ApiKeyAuthenticator,
        routes: Iterable[BaseRoute],
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.max_body_bytes = max_body_bytes
        self._routes = tuple(
            (route, access) for route in routes if (access := route_access(route)) is not None
        )
        self._static = _static_access(self._routes)

    def _access(self, scope: Scope) -> Access | None:
        found = self._static.get((scope["method"], get_route_path(scope)))
        if found is not None:
            return found
        for route, access in self._routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return access
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        access = self._access(scope)
        if access is not None:
            send = _no_store(send)
            try:
                state["principal"] = await _authenticate(self.authenticator, access, Headers(scope=scope))
            except ApiError as refused:
                await send_error(refused, scope, receive, send)
                return
        try:
            body_receive = await self._buffered_receive(scope, receive)
        except ApiError as unreadable:  # e.g. a Lambda event's body that is not the base64 it claims
            await send_error(unreadable, scope, receive, send)
            return
        if body_receive is None:
            error = RequestTooLargeError(
                f"The request body exceeds the limit of {self.max_body_bytes} bytes.",
                details={"max_bytes": self.max_body_bytes},
            )
            meter = getattr(scope["app"].state, "rejection_meter", None)
            if meter is not None:
                try:
                    error.headers.update(await meter(scope, error))
                except ApiError as limited:
                    error = limited
            await send_error(error, scope, receive, send)
            return
        await self.app(scope, body_receive, send)

    async def _buffered_receive(self, scope: Scope, receive: Receive) -> Receive | None:
        """Read the body up to the limit (None when over it) and replay it to the app."""
        if scope["method"] not in _BODY_METHODS:
            return receive
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay


def _static_access(routes: tuple[tuple[BaseRoute, Access], ...]) -> dict[tuple[str, str], Access]:
    """(method, path) -> access for the gated routes without path parameters, each only where no earlier
    gated route matches it too: the per-request lookup is then a dict hit, not a regex per route."""
    found: dict[tuple[str, str], Access] = {}
    for index, (route, access) in enumerate(routes):
        path = getattr(route, "path", "")
        if not path or "{" in path:
            continue
        for method in getattr(route, "methods", None) or ():
            probe = {"type": "http", "path": path, "root_path": "", "method": method}
            earlier = any(r.matches(probe)[0] is Match.FULL for r, _ in routes[:index])
            if not earlier:
                found.setdefault((method, path), access)
    return found


def _no_store(send: Send) -> Send:
    """Authenticated and admin answers are for their caller only: no shared or browser cache keeps them."""

    async def send_no_store(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message)["cache-control"] = "no-store"
        await send(message)

    return send_no_store
