"""The Lambda entry point around Mangum.

Mangum runs with lifespan off (a lifespan would run on every invocation). It is wrapped in a
plain function because Powertools' Tracer cannot decorate a Mangum instance. The function gives the
logger the invocation's context (what Powertools' `inject_lambda_context` would, minus the work this
app does not need: the correlation id is set by the middleware), counts the request and writes the
invocation's metrics document (`Observability.flush_metrics`) before returning.

Events API Gateway never sends (another payload version, `headers: null`, a header that is not a
string, a body that is not base64 although it says so) are answered 400 `MALFORMED_REQUEST` in the
error shape; nothing an event holds makes the handler raise.

A base64 body is decoded only when the app reads it (Mangum would decode it before the app runs), so
a caller refused by the access gate costs nothing for the size of its body.
"""

from __future__ import annotations

import binascii
import gc
import json
import time
import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from mangum import Mangum

from textapi_shared.errors import ApiError, InternalError, MalformedRequestError
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.snapstart import after_restore, reseed_random
from textapi_shared.web.errors import error_body
from textapi_shared.web.middleware import STATIC_HEADERS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from fastapi import FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from textapi_shared.monitoring.observability import Observability

T = TypeVar("T")


def _is_string_map(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    try:  # str.join refuses anything but strings, in C: a header map is checked on every request
        "".join(value)
        "".join(value.values())
    except TypeError:
        return False
    return True


_DEFERRED_BODY = "textapi.base64Body"


def checked_event(event: object) -> dict[str, Any]:
    """The event as Mangum should see it (a base64 body set aside for `_deferred_body`), or 400."""
    context = event.get("requestContext") if isinstance(event, dict) else None
    http = context.get("http") if isinstance(context, dict) else None
    if not isinstance(event, dict) or event.get("version") != "2.0" or not isinstance(http, dict):
        raise MalformedRequestError(
            "Only API Gateway HTTP API events (payload format version 2.0) are accepted.",
            details={"reason": "unsupported_event"},
        )
    if not _is_string_map(event.get("headers")):
        raise MalformedRequestError(
            "The request's headers are missing or not text.", details={"reason": "headers"}
        )
    fields = (event.get("rawPath"), http.get("method"), event.get("rawQueryString", ""))
    cookies = event.get("cookies", [])
    if not all(isinstance(field, str) for field in fields) or not (
        isinstance(cookies, list) and all(isinstance(cookie, str) for cookie in cookies)
    ):
        raise MalformedRequestError(
            "The request line or cookies are not text.", details={"reason": "request"}
        )
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedRequestError("The request body is not text.", details={"reason": "body"})
    if event.get("isBase64Encoded") and body:
        return {**event, "body": None, "isBase64Encoded": False, _DEFERRED_BODY: body}
    return event


def _deferred_body(app: ASGIApp) -> ASGIApp:
    """The app, receiving the event's base64 body decoded on its first read (strictly: bad base64 is 400)."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        encoded = (scope.get("aws.event") or {}).get(_DEFERRED_BODY)
        if encoded is None:
            await app(scope, receive, send)
            return
        pending = True

        async def receive_body() -> Message:
            nonlocal pending
            message = await receive()
            if not pending or message["type"] != "http.request":
                return message
            pending = False
            try:
                decoded = binascii.a2b_base64(encoded, strict_mode=True)
            except (binascii.Error, ValueError) as exc:
                raise MalformedRequestError(
                    "The request body is marked base64 but is not valid base64.", details={"reason": "base64"}
                ) from exc
            return {**message, "body": decoded, "more_body": False}

        await app(scope, receive_body, send)

    return asgi


def _event_error(error: ApiError, event: object) -> dict[str, Any]:
    """A Lambda proxy response in the error shape, for an event that never reached the app."""
    context = event.get("requestContext") if isinstance(event, dict) else None
    request_id = context.get("requestId") if isinstance(context, dict) else None
    request_id = request_id if isinstance(request_id, str) and request_id else uuid.uuid4().hex
    headers = {
        **dict(STATIC_HEADERS),
        "content-type": "application/json",
        "x-request-id": request_id,
        **{name.lower(): value for name, value in error.headers.items()},
    }
    body = json.dumps(error_body(error, request_id), separators=(",", ":"))
    return {"statusCode": error.status_code, "headers": headers, "body": body, "isBase64Encoded": False}


_cold_start = True  # the first invocation of this execution environment (a process) is its cold start


@contextmanager
def invocation(observability: Observability, context: Any) -> Iterator[None]:
    """One invocation's bookkeeping, for every kind of handler: the context's keys and the cold-start
    flag on its log lines, and its metrics (the ColdStart one first time) flushed before it returns:
    Lambda freezes the environment afterwards."""
    global _cold_start
    cold, _cold_start = _cold_start, False
    observability.lambda_context(context, cold_start=cold)
    try:
        yield
    finally:
        if cold:
            observability.cold_start(getattr(context, "function_name", "") or "unknown")
        observability.flush_metrics()


def build_lambda_handler(
    app: FastAPI, observability: Observability
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    asgi = Mangum(_deferred_body(app), lifespan="off")

    def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return asgi(checked_event(event), context)
        except ApiError as refused:
            observability.logger.warning("malformed event", extra={"reason": refused.details.get("reason")})
            return _event_error(refused, event)
        except Exception:  # the app answers its own errors; this is the adapter failing on an event
            observability.logger.exception("the event could not be handled")
            return _event_error(InternalError(), event)

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        status = 500
        with invocation(observability, context):
            try:
                response = answer(event, context)
                status = int(response.get("statusCode", 500))
                return response
            finally:
                observability.count(MetricName.REQUESTS)
                observability.milliseconds(MetricName.LATENCY, (time.perf_counter() - started) * 1000)
                if status >= 500:
                    observability.count(MetricName.SERVER_ERRORS)
                elif status >= 400:
                    observability.count(MetricName.CLIENT_ERRORS)

    if observability.tracer is not None:
        return observability.tracer.capture_lambda_handler(handle)
    return handle


def finish_init(build: Callable[[], T]) -> T:
    """What an entry point's cold start builds last (its app, its handler), then garbage collection.

    The entry point pauses the cyclic garbage collector before its imports (init allocates a great deal
    and frees almost nothing); here it resumes, with everything init built frozen out of later
    collections. It resumes also when the build fails.
    """
    try:
        built = build()
        after_restore(reseed_random)  # SnapStart: restored copies must not share retry jitter
        gc.freeze()
        return built
    finally:
        gc.enable()


def finish_cold_start(
    build_app: Callable[[], FastAPI],
) -> tuple[FastAPI, Callable[[dict[str, Any], Any], dict[str, Any]]]:
    """The app and its Lambda handler, built at the end of an API entry point's cold start."""

    def build() -> tuple[FastAPI, Callable[[dict[str, Any], Any], dict[str, Any]]]:
        app = build_app()
        return app, build_lambda_handler(app, app.state.services.observability)

    return finish_init(build)
