"""The one place that builds error bodies, for both apps and every status.

Body: {success: false, error, error_code, details, timestamp, request_id}. `details.errors` holds at
most `MAX_DETAIL_ERRORS` entries (plus `more_errors`, the count of the rest), and each names its field
in at most `MAX_FIELD_CHARS` characters, so no request can make a large error body.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from textapi_shared.errors import (
    ApiError,
    AuthenticationError,
    AuthorizationError,
    InputValidationError,
    InternalError,
    MalformedRequestError,
    MethodNotAllowedError,
    NotFoundError,
    RequestTooLargeError,
)
from textapi_shared.timestamps import utc_timestamp

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from fastapi import FastAPI, Request
    from starlette.routing import BaseRoute
    from starlette.types import Receive, Scope, Send

MAX_DETAIL_ERRORS = 50
MAX_FIELD_CHARS = 100

_BY_STATUS: dict[int, type[ApiError]] = {
    400: MalformedRequestError,
    401: AuthenticationError,
    403: AuthorizationError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    413: RequestTooLargeError,
    422: InputValidationError,
}


def _capped(details: dict[str, Any]) -> dict[str, Any]:
    errors = details.get("errors")
    if not isinstance(errors, list) or len(errors) <= MAX_DETAIL_ERRORS:
        return details
    return {**details, "errors": errors[:MAX_DETAIL_ERRORS], "more_errors": len(errors) - MAX_DETAIL_ERRORS}


def error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    return {
        "success": False,
        "error": error.message,
        "error_code": error.error_code,
        "details": _capped(error.details),
        "timestamp": utc_timestamp(),
        "request_id": request_id,
    }


def error_response(error: ApiError, request_id: str) -> JSONResponse:
    return JSONResponse(error_body(error, request_id), status_code=error.status_code, headers=error.headers)


def request_id_of(request: Request) -> str:
    return getattr(request.state, "request_id", "") or ""


def _respond(request: Request, error: ApiError) -> JSONResponse:
    request.state.error_code = error.error_code  # for the access log line
    return error_response(error, request_id_of(request))


async def send_error(error: ApiError, scope: Scope, receive: Receive, send: Send) -> None:
    """The error response from ASGI middleware (no Request there): the same body, the code logged."""
    state = scope.setdefault("state", {})
    state["error_code"] = error.error_code
    await error_response(error, state.get("request_id", ""))(scope, receive, send)


def _clip(text: str) -> str:
    # A field name can be a client's dictionary key of any length.
    return text if len(text) <= MAX_FIELD_CHARS else text[: MAX_FIELD_CHARS - 3] + "..."


def _field_errors(errors: Sequence[Any]) -> dict[str, Any]:
    """`details` of a 422: the first `MAX_DETAIL_ERRORS` failing fields and the count of the rest; only
    those are built, however many failed."""
    fields = []
    for err in errors[:MAX_DETAIL_ERRORS]:
        location = [_clip(str(part)) for part in err.get("loc", ())]
        fields.append(
            {
                "field": ".".join(location[1:]) or ".".join(location),
                "location": location,
                "message": err.get("msg", "invalid value"),
                "type": err.get("type", "value_error"),
            }
        )
    more = len(errors) - len(fields)
    return {"errors": fields, "more_errors": more} if more else {"errors": fields}


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _respond(request, exc)


def _malformed_json(errors: Sequence[Any]) -> MalformedRequestError | None:
    err = errors[0] if errors else {}  # FastAPI reports a body it could not decode as its only error
    if err.get("type") != "json_invalid":
        return None
    position = err.get("loc", ("body", 0))[-1]
    reason = (err.get("ctx") or {}).get("error", "invalid JSON")
    return MalformedRequestError(
        f"The body is not valid JSON: {reason} at character {position}.",
        details={"reason": "invalid_json", "position": position},
    )


def _undeclared_json(request: Request) -> MalformedRequestError:
    """A body FastAPI left unparsed because it was not declared JSON. Reading it anyway would let a web
    page post to the API cross-origin without a preflight (a form's types need none)."""
    declared = request.headers.get("content-type")
    found = "has no Content-Type" if declared is None else f"has Content-Type {_clip(declared)!r}"
    return MalformedRequestError(
        f"The body must be JSON sent with Content-Type: application/json; this request {found}.",
        details={"reason": "content_type"},
    )


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if isinstance(exc.body, bytes):  # FastAPI parses a body as JSON only when its type says so
        return _respond(request, _undeclared_json(request))
    errors = exc.errors()
    malformed = _malformed_json(errors)
    if malformed is not None:
        return _respond(request, malformed)
    details = _field_errors(errors)
    summary = "; ".join(f"{f['field'] or 'body'}: {f['message']}" for f in details["errors"][:5])
    error = InputValidationError(f"Invalid request: {summary}", details=details)
    return _respond(request, error)


# Why FastAPI could not parse a body (it raises a bare 400 from the parser's exception).
_UNREADABLE_BODY: tuple[tuple[type[BaseException], str, str], ...] = (
    (RecursionError, "too_deep", "The body is nested too deeply to be read."),
    (UnicodeDecodeError, "not_utf8", "The body is not valid UTF-8."),
    (
        ValueError,
        "unreadable_value",
        "The body holds a value JSON cannot carry here, such as an integer of more than 4,300 digits.",
    ),
)


def _unreadable_body(exc: StarletteHTTPException) -> MalformedRequestError | None:
    cause = exc.__cause__
    if exc.status_code != 400 or cause is None:
        return None
    for kind, reason, message in _UNREADABLE_BODY:
        if isinstance(cause, kind):
            return MalformedRequestError(message, details={"reason": reason})
    return MalformedRequestError("The body could not be read.", details={"reason": "unreadable"})


def _on_http_exception(
    routes: Sequence[BaseRoute],
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        malformed = _unreadable_body(exc)
        if malformed is not None:
            return _respond(request, malformed)
        # Starlette's own 404/405 carry only the status phrase; keep a route's specific text.
        detail = exc.detail if isinstance(exc.detail, str) else None
        message = None if detail == HTTPStatus(exc.status_code).phrase else detail
        error_class = _BY_STATUS.get(exc.status_code)
        if error_class is not None:
            error: ApiError = error_class(message)
        elif exc.status_code < 500:
            error = InputValidationError(message)
            error.status_code = exc.status_code  # type: ignore[misc]
        else:
            error = InternalError()
        error.headers.update(exc.headers or {})
        if exc.status_code == 405:
            error.headers["Allow"] = _allowed_methods(routes, request) or error.headers.get("Allow", "")
        return _respond(request, error)

    return handle


def _allowed_methods(routes: Sequence[BaseRoute], request: Request) -> str:
    """Every method of the path the request matched first. Starlette's 405 names only the first route
    that matched, so a path served by several routes (GET and DELETE of one job) would hide the others;
    a path that only a broader template also matches (`/metrics/reset` and `/metrics/{operation}`)
    keeps its own methods."""
    from starlette.routing import Match

    matched = [
        route
        for route in routes
        if getattr(route, "methods", None) and route.matches(request.scope)[0] is not Match.NONE
    ]
    if not matched:
        return ""
    path = matched[0].path  # type: ignore[attr-defined]
    methods = {m for route in matched if route.path == path for m in route.methods}  # type: ignore[attr-defined]
    if "GET" in methods:  # the request-context middleware answers HEAD wherever GET is
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI, routes: Sequence[BaseRoute]) -> None:
    """Route every error FastAPI or Starlette can raise through `error_response`; `routes` are the app's
    own (the 405's `Allow` names every method of the path)."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception(routes))
