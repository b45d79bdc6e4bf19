"""The one place that builds error bodies, for both apps and every status.

Body: {success: false, error, error_code, details, timestamp, request_id}.
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
    MethodNotAllowedError,
    NotFoundError,
    RequestTooLargeError,
)
from textapi_shared.timestamps import utc_timestamp

if TYPE_CHECKING:
    from fastapi import FastAPI, Request

_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: AuthorizationError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    413: RequestTooLargeError,
    422: InputValidationError,
}


def error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    return {
        "success": False,
        "error": error.message,
        "error_code": error.error_code,
        "details": error.details,
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


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    fields = []
    for err in exc.errors():
        location = [str(part) for part in err.get("loc", ())]
        fields.append(
            {
                "field": ".".join(location[1:]) or ".".join(location),
                "location": location,
                "message": err.get("msg", "invalid value"),
                "type": err.get("type", "value_error"),
            }
        )
    return fields


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _respond(request, exc)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = _field_errors(exc)
    summary = "; ".join(f"{f['field'] or 'body'}: {f['message']}" for f in fields[:5])
    error = InputValidationError(f"Invalid request: {summary}", details={"errors": fields})
    return _respond(request, error)


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
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
    return _respond(request, error)


def install_error_handlers(app: FastAPI) -> None:
    """Route every error FastAPI or Starlette can raise through `error_response`."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
