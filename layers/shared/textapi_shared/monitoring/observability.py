"""One Powertools logger, metrics and (optional) tracer per function."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric

from textapi_shared.monitoring.metric_names import MetricName

if TYPE_CHECKING:
    from textapi_shared.config import SharedSettings


class Observability:
    """The function's Powertools logger, metrics and (optional) tracer, and the metric helpers."""

    __slots__ = ("logger", "metrics", "namespace", "service", "tracer")

    def __init__(
        self, logger: Logger, metrics: Metrics, tracer: Any | None, namespace: str, service: str
    ) -> None:
        self.logger = logger
        self.metrics = metrics
        self.tracer = tracer  # aws_lambda_powertools.Tracer when TRACING_ENABLED
        self.namespace = namespace
        self.service = service

    def count(self, name: MetricName, value: float = 1) -> None:
        self.metrics.add_metric(name=str(name), unit=MetricUnit.Count, value=value)

    def milliseconds(self, name: MetricName, value: float) -> None:
        self.metrics.add_metric(name=str(name), unit=MetricUnit.Milliseconds, value=value)

    def cache_error(self, action: str, exc: Exception, reason: str) -> None:
        """A cache backend failure: the request goes on (as a miss), the operator hears of it and why."""
        self.logger.warning(
            "cache backend error", extra={"action": action, "error": type(exc).__name__, "reason": reason}
        )
        self.count(MetricName.CACHE_ERRORS)

    def cache_oversize(self, operation: str, stored_bytes: int) -> None:
        """A value too large for the backend (DynamoDB's item limit): not cached, counted."""
        self.logger.info(
            "cache value too large, not stored", extra={"operation": operation, "bytes": stored_bytes}
        )
        self.count_for(operation, MetricName.CACHE_OVERSIZE_SKIPPED)

    def count_for(self, operation: str, name: MetricName, value: float = 1) -> None:
        """A metric with an `operation` dimension (one batch invocation spans several operations)."""
        self._single(operation, name, MetricUnit.Count, value)

    def milliseconds_for(self, operation: str, name: MetricName, value: float) -> None:
        self._single(operation, name, MetricUnit.Milliseconds, value)

    def _single(self, operation: str, name: MetricName, unit: MetricUnit, value: float) -> None:
        dimensions = {"service": self.service, "operation": str(operation)}
        with single_metric(
            name=str(name), unit=unit, value=value, namespace=self.namespace, default_dimensions=dimensions
        ):
            pass


# Lambda's JSON log filter reads `level` with its own names; Python's WARNING and CRITICAL are not among
# them. (The platform filter stays at INFO or below, so EMF lines, which carry no level, always pass.)
_LAMBDA_LEVEL_NAMES = {logging.WARNING: "WARN", logging.CRITICAL: "FATAL"}


def build_observability(settings: SharedSettings) -> Observability:
    """JSON logs (service, cold start, correlation id; RFC 3339 timestamps and the level names Lambda's
    log filter parses), EMF metrics, and X-Ray only when asked for. `LOG_LEVEL` filters here."""
    for level, name in _LAMBDA_LEVEL_NAMES.items():
        logging.addLevelName(level, name)
    logger = Logger(service=settings.service_name, level=settings.log_level, use_rfc3339=True)
    metrics = Metrics(namespace=settings.metrics_namespace, service=settings.service_name)
    tracer = None
    if settings.tracing_enabled:
        from aws_lambda_powertools.tracing import Tracer

        tracer = Tracer(service=settings.service_name)
    return Observability(
        logger=logger,
        metrics=metrics,
        tracer=tracer,
        namespace=settings.metrics_namespace,
        service=settings.service_name,
    )
