"""What both OpenAPI documents say about errors and keys (SPEC §4).

`error_responses(*statuses)` is the one `responses=` definition routes and routers use: each status with
the error body's schema and an example. `document_security` adds the two key schemes (Bearer and
`X-API-Key`, so the docs' Authorize button works) and marks each keyed operation with them, from the
same dependencies the access gate reads. Nothing here runs before the first request for a document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textapi_shared.web.access import Access, route_access

if TYPE_CHECKING:
    from collections.abc import Iterable

    from fastapi import FastAPI
    from starlette.routing import BaseRoute


# The error body's schema, written out: a pydantic model in `responses=` would make FastAPI build a
# field per route and status at every cold start, for a document few requests ask for.
ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorResponse",
    "description": "The body of every non-2xx response of both APIs.",
    "type": "object",
    "properties": {
        "success": {"type": "boolean", "const": False},
        "error": {"type": "string", "description": "A human-readable message"},
        "error_code": {"type": "string", "description": "A stable code (see the README's list)"},
        "details": {
            "type": "object",
            "additionalProperties": True,
            "description": "Specifics; for VALIDATION_ERROR `errors` (at most 50) and `more_errors`",
        },
        "timestamp": {"type": "string"},
        "request_id": {"type": "string"},
    },
    "required": ["success", "error", "error_code", "details", "timestamp", "request_id"],
    "additionalProperties": False,
}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


_EXAMPLES: dict[int, tuple[str, str, str, dict[str, Any]]] = {
    400: (
        "Malformed body (MALFORMED_REQUEST) or, on the text routes, text the prompt guard rejected "
        "(PROMPT_REJECTED) or the AI provider's safety filter blocked (CONTENT_BLOCKED)",
        "MALFORMED_REQUEST",
        "The body is not valid JSON: Expecting value at character 1.",
        {"reason": "invalid_json", "position": 1},
    ),
    401: (
        "No key, a wrong key, or two different keys (AUTHENTICATION_ERROR, with WWW-Authenticate: Bearer)",
        "AUTHENTICATION_ERROR",
        "A valid API key is required.",
        {},
    ),
    403: (
        "A public key on an admin endpoint (AUTHORIZATION_ERROR)",
        "AUTHORIZATION_ERROR",
        "This is a public API key; internal endpoints need an admin key.",
        {},
    ),
    404: (
        "Nothing by that name (NOT_FOUND)",
        "NOT_FOUND",
        "No preset named 'turbo'.",
        {"available": ["simple"]},
    ),
    409: (
        "The deployment has no backing for this action (NOT_CONFIGURED)",
        "NOT_CONFIGURED",
        "This deployment has no SSM parameter for the active preset.",
        {"missing": "RESILIENCE_PRESET_SSM_PARAMETER"},
    ),
    413: (
        "Body over MAX_REQUEST_SIZE (REQUEST_TOO_LARGE)",
        "REQUEST_TOO_LARGE",
        "The request body exceeds the limit of 2097152 bytes.",
        {"max_bytes": 2097152},
    ),
    422: (
        "Invalid fields (VALIDATION_ERROR)",
        "VALIDATION_ERROR",
        "Invalid request: text: text must contain at least 10 visible characters",
        {
            "errors": [
                {
                    "field": "text",
                    "location": ["body", "text"],
                    "message": "text must contain at least 10 visible characters",
                    "type": "text_too_short",
                }
            ]
        },
    ),
    429: (
        "Per-key budget spent (RATE_LIMIT_EXCEEDED, with Retry-After and X-RateLimit-*)",
        "RATE_LIMIT_EXCEEDED",
        "Rate limit of 60 requests per minute exceeded.",
        {"limit": 60, "cost": 1, "retry_after_seconds": 42},
    ),
    500: (
        "Unexpected failure or misconfiguration (INTERNAL_ERROR, CONFIGURATION_ERROR); never the cause",
        "INTERNAL_ERROR",
        "An internal error occurred.",
        {},
    ),
    502: (
        "The AI provider refused the call or answered unusably (AI_SERVICE_ERROR)",
        "AI_SERVICE_ERROR",
        "The AI service could not process the request.",
        {},
    ),
    503: (
        "A dependency is unavailable; retry after Retry-After (SERVICE_UNAVAILABLE)",
        "SERVICE_UNAVAILABLE",
        "The service is temporarily unavailable; retry later.",
        {},
    ),
    504: (
        "The invocation ran out of time (GATEWAY_TIMEOUT)",
        "GATEWAY_TIMEOUT",
        "The request did not complete in time.",
        {},
    ),
}

# What every keyed route can answer besides its own statuses (503: a key source that cannot be read).
KEYED = (401, 500, 503)
ADMIN = (401, 403, 500, 503)
# What a route with a JSON body can answer besides: unreadable, too large, invalid.
WITH_BODY = (400, 413, 422)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: each status with the error schema and an example."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in sorted(set(statuses)):
        description, code, message, details = _EXAMPLES[status]
        example = {
            "success": False,
            "error": message,
            "error_code": code,
            "details": details,
            "timestamp": "2026-11-28T12:00:00.000Z",
            "request_id": "Cp5rXjXvIAMEVxQ=",
        }
        responses[status] = {
            "description": description,
            "content": {"application/json": {"schema": _ERROR_REF, "example": example}},
        }
    return responses


SECURITY_SCHEMES = {
    "BearerKey": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <key>`"},
    "HeaderKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "`X-API-Key: <key>`"},
}
_EITHER_KEY = [{"BearerKey": []}, {"HeaderKey": []}]


def document_security(app: FastAPI, routes: Iterable[BaseRoute]) -> None:
    """Add the key schemes to the app's OpenAPI document and the requirement to each keyed operation."""
    access_by_operation = {
        (route.path, method.lower()): access  # type: ignore[attr-defined]
        for route in routes
        if (access := route_access(route)) is not None
        for method in getattr(route, "methods", ())
    }
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["ErrorResponse"] = ERROR_SCHEMA
        components["securitySchemes"] = SECURITY_SCHEMES
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                access = access_by_operation.get((path, method))
                if access is not None:
                    # Alternatives: either header; an optional key may also be left out.
                    operation["security"] = _EITHER_KEY + ([{}] if access is Access.OPTIONAL else [])
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
