"""The access gate: checks the key of a keyed route *before* the body is read, bounds the body, and meters
the caller's request.

Which routes need which key is what their routers declare (`web.access`); a route's `ApiKey` or
`AdminKey` dependency returns the caller the gate left in `scope["state"]["principal"]`. An
unauthenticated caller gets its 401 without a byte of its body being received or parsed: a 2 MB body
costs no more to refuse than an empty one. Responses of keyed routes carry `Cache-Control: no-store`
(the request-context middleware sets it); a body over `MAX_REQUEST_SIZE` is 413, one in UTF-16 or UTF-32
400 `MALFORMED_REQUEST` (JSON bodies are UTF-8).

Metering (with a rate limiter, the public API): a caller of a `PUBLIC` route gets its request's
`Charge` in `scope["state"]["charge"]`. The route spends it when it knows the cost (an AI call, a batch,
a job, a read); a request refused as invalid (422, 400 malformed, 413) whose charge was not spent spends
a quarter request here, and a refused spend turns the response into the 429. Every response whose charge
was admitted carries the `X-RateLimit-*` headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.routing import Match

from textapi_shared.errors import ApiError, MalformedRequestError, RequestTooLargeError
from textapi_shared.security.rate_limiter import INVALID_REQUEST_COST
from textapi_shared.web.access import Access, route_access
from textapi_shared.web.errors import send_error
from textapi_shared.web.paths import route_path

if TYPE_CHECKING:
    from collections.abc import Iterable

    from starlette.routing import BaseRoute
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from textapi_shared.security.api_keys import Principal
    from textapi_shared.security.rate_limiter import Charge
    from textapi_shared.web.services import WebServices

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Refusals of an invalid request: a quarter request when nothing else was charged.
_INVALID_CODES = frozenset({"VALIDATION_ERROR", "MALFORMED_REQUEST", "REQUEST_TOO_LARGE"})


class AccessGateMiddleware:
    """Innermost middleware (inside CORS, so its refusals carry the CORS headers of the origin)."""

    def __init__(self, app: ASGIApp, *, services: WebServices, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.authenticator = services.authenticator
        self.limiter = services.limiter
        self.max_body_bytes = services.settings.max_request_size
        self._routes = tuple(
            (route, access) for route in routes if (access := route_access(route)) is not None
        )
        self._static = _static_access(self._routes)

    def _access(self, scope: Scope) -> Access | None:
        found = self._static.get((scope["method"], route_path(scope)))
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
            state["no_store"] = True  # answers for one caller only: no shared or browser cache keeps them
            try:
                principal = await self._authenticate(access, Headers(scope=scope))
            except ApiError as refused:
                await send_error(refused, scope, receive, send)
                return
            state["principal"] = principal
            # Every authenticated request is metered: a key presented to an optional-key route too.
            if access is not Access.ADMIN and self.limiter is not None and principal is not None:
                client = scope.get("client")
                subject = principal.subject(client[0] if client else None)
                own_limit = principal.record.rate_limit_per_minute if principal.record is not None else None
                state["charge"] = charge = self.limiter.charge(subject, limit=own_limit)
                send = _metered(charge, scope, receive, send)
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
            await send_error(error, scope, receive, send)
            return
        await self.app(scope, body_receive, send)

    async def _authenticate(self, access: Access, headers: Headers) -> Principal | None:
        if access is Access.ADMIN:
            return await self.authenticator.authenticate_admin(headers)
        return await self.authenticator.authenticate_public(headers, required=access is Access.PUBLIC)

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
        if _utf16_or_utf32(body):
            raise MalformedRequestError(
                "The body must be UTF-8 JSON; this one starts as UTF-16 or UTF-32 does.",
                details={"reason": "not_utf8"},
            )
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay


def _utf16_or_utf32(body: bytes) -> bool:
    """Whether `json.loads` would decode `body` as UTF-16 or UTF-32 (it guesses from the first bytes): a
    BOM of either, or a NUL among the first two bytes. None of these starts a UTF-8 JSON text (NUL, 0xFE
    and 0xFF never appear in one), so two bytes decide it, without decoding the body."""
    return body[:1] in _NOT_UTF8_LEAD or body[1:2] == b"\x00"


_NOT_UTF8_LEAD = frozenset({b"\x00", b"\xfe", b"\xff"})


def _metered(charge: Charge, scope: Scope, receive: Receive, send: Send) -> Send:
    """`send`, with the charge settled as the response starts: a quarter request for an invalid request
    that spent nothing, the budget's headers when admitted, the 429 instead when the budget is spent."""
    answered = False

    async def send_metered(message: Message) -> None:
        nonlocal answered
        if answered:  # the app's own response was replaced by the 429
            return
        if message["type"] == "http.response.start":
            if not charge.spent and not charge.waived and scope["state"].get("error_code") in _INVALID_CODES:
                try:
                    await charge.spend(cost=INVALID_REQUEST_COST)
                except ApiError as refused:
                    answered = True
                    await send_error(refused, scope, receive, send)
                    return
            admission = charge.admission
            if admission is not None and admission.admitted:
                budget = charge.state
                assert budget is not None
                message["headers"] = [*(message.get("headers") or ()), *budget.raw_headers()]
        await send(message)

    return send_metered


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
