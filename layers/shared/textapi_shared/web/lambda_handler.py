"""The Lambda entry point around Mangum.

Mangum runs with lifespan off (a lifespan would run on every invocation). It is wrapped in a
plain function because Powertools' decorators (and Tracer especially) cannot decorate a Mangum
instance. Decorator order, outermost first: metrics flush, logger context, tracer.
"""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum

from textapi_shared.monitoring.metric_names import MetricName

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi import FastAPI

    from textapi_shared.monitoring.observability import Observability

T = TypeVar("T")


def build_lambda_handler(
    app: FastAPI, observability: Observability
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    asgi = Mangum(app, lifespan="off")

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        response = asgi(event, context)
        status = int(response.get("statusCode", 500))
        observability.count(MetricName.REQUESTS)
        observability.milliseconds(MetricName.LATENCY, (time.perf_counter() - started) * 1000)
        if status >= 500:
            observability.count(MetricName.SERVER_ERRORS)
        elif status >= 400:
            observability.count(MetricName.CLIENT_ERRORS)
        return response

    handler = handle
    if observability.tracer is not None:
        handler = observability.tracer.capture_lambda_handler(handler)
    handler = observability.logger.inject_lambda_context(
        handler, correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
    )
    return observability.metrics.log_metrics(handler, capture_cold_start_metric=True)


def finish_init(build: Callable[[], T]) -> T:
    """What an entry point's cold start builds last (its app, its handler), then garbage collection.

    The entry point pauses the cyclic garbage collector before its imports (init allocates a great deal
    and frees almost nothing); here it resumes, with everything init built frozen out of later
    collections. It resumes also when the build fails.
    """
    try:
        built = build()
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
        return app, build_lambda_handler(app, app.state.observability)

    return finish_init(build)
