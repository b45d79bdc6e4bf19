"""The error hierarchy: each class carries its HTTP status and stable error code.

Adapters raise these at the boundary (`raise CacheUnavailableError(...) from exc`);
`textapi_shared.web.errors` turns any of them into the one error body of the API.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    """Base of every error that maps to an HTTP response."""

    status_code: ClassVar[int] = 500
    error_code: ClassVar[str] = "INTERNAL_ERROR"
    default_message: ClassVar[str] = "An internal error occurred."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)


class InputValidationError(ApiError):
    status_code = 422
    error_code = "VALIDATION_ERROR"
    default_message = "The request is invalid."

    @classmethod
    def for_field(
        cls, field: str, message: str, *, location: str = "body", kind: str = "value_error"
    ) -> InputValidationError:
        """A 422 naming one field (`location`: body, query, path, header), in FastAPI's own shape."""
        path = [location] if field == location else [location, *field.split(".")]
        return cls(
            f"Invalid request: {field}: {message}",
            details={"errors": [{"field": field, "location": path, "message": message, "type": kind}]},
        )


class OverBudgetError(InputValidationError):
    """A request that costs more than the whole per-minute budget: it could never be accepted, so it is
    refused before anything is charged (a 31-item batch under a limit of 30)."""


class MalformedRequestError(ApiError):
    """The body cannot be read at all: not JSON, not UTF-8, nested too deep, a number too long; or an
    event API Gateway never sends."""

    status_code = 400
    error_code = "MALFORMED_REQUEST"
    default_message = "The request could not be read."


class AuthenticationError(ApiError):
    status_code = 401
    error_code = "AUTHENTICATION_ERROR"
    default_message = "A valid API key is required."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class AuthorizationError(ApiError):
    status_code = 403
    error_code = "AUTHORIZATION_ERROR"
    default_message = "This key is not allowed to use this endpoint."


class NotFoundError(ApiError):
    status_code = 404
    error_code = "NOT_FOUND"
    default_message = "The requested resource was not found."


class MethodNotAllowedError(ApiError):
    status_code = 405
    error_code = "METHOD_NOT_ALLOWED"
    default_message = "This method is not allowed on this resource."


class PromptRejectedError(ApiError):
    status_code = 400
    error_code = "PROMPT_REJECTED"
    default_message = "The text was rejected by the prompt guard."


class NotConfiguredError(ApiError):
    """An admin action this deployment has no backing for (e.g. no SSM parameter to write)."""

    status_code = 409
    error_code = "NOT_CONFIGURED"
    default_message = "This deployment is not configured for that action."


class RequestTooLargeError(ApiError):
    status_code = 413
    error_code = "REQUEST_TOO_LARGE"
    default_message = "The request body is too large."


class RateLimitExceededError(ApiError):
    status_code = 429
    error_code = "RATE_LIMIT_EXCEEDED"
    default_message = "Rate limit exceeded."


class BudgetExceededError(ApiError):
    """A key's token budget for the period cannot take this request's estimate; `Retry-After` is the end of
    the period (UTC day or month)."""

    status_code = 429
    error_code = "BUDGET_EXCEEDED"
    default_message = "The token budget of this API key is spent for the period."
    # The refusal of one key's call: requests of other keys waiting for the same answer compute it anew.
    personal: ClassVar[bool] = True


class AIServiceError(ApiError):
    status_code = 502
    error_code = "AI_SERVICE_ERROR"
    default_message = "The AI service could not process the request."


class ContentBlockedError(ApiError):
    """The AI provider's safety filter refused the text: the client's content, not an outage."""

    status_code = 400
    error_code = "CONTENT_BLOCKED"
    default_message = "The AI provider's safety filter blocked this text."


class AIInvalidOutputError(AIServiceError):
    """The model answered, but not with a usable result (malformed, empty, leaked, refused)."""

    default_message = "The AI service returned an unusable result."


class ServiceUnavailableError(ApiError):
    status_code = 503
    error_code = "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable; retry later."

    def __init__(self, message: str | None = None, *, retry_after: int = 30, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("Retry-After", str(max(1, int(retry_after))))


class AIUnavailableError(ServiceUnavailableError):
    """A transient AI failure (429, 5xx, timeout, transport): worth retrying later."""

    default_message = "The AI service is temporarily unavailable; retry later."


class AIUnreachableError(AIUnavailableError):
    """No connection to the AI service could be made (refused, no route, a name that does not resolve):
    it failed at once, so it is retried after a short wait only."""

    default_message = "The AI service could not be reached; retry later."


class IdempotencyKeyReusedError(ApiError):
    """An `Idempotency-Key` already used with a different request (body or endpoint)."""

    status_code = 422
    error_code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was already used with a different request."


class IdempotencyInFlightError(ApiError):
    """The first request with this `Idempotency-Key` is still running."""

    status_code = 409
    error_code = "IDEMPOTENCY_IN_FLIGHT"
    default_message = "A request with this Idempotency-Key is still in progress; retry shortly."


class GatewayTimeoutError(ApiError):
    status_code = 504
    error_code = "GATEWAY_TIMEOUT"
    default_message = "The request did not complete in time."


class ConfigurationError(ApiError):
    status_code = 500
    error_code = "CONFIGURATION_ERROR"
    default_message = "The service is misconfigured."


class InternalError(ApiError):
    """Unexpected failures; the body never carries the cause, the log line does."""
