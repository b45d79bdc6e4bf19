"""One Powertools logger and (optional) tracer per function, and the request's metrics document (EMF).

Metrics are gathered while a request runs and written by `flush_metrics` as CloudWatch EMF, in as few
documents as EMF allows: one document holds one directive per dimension set its metrics use (`[service]`
for the function's own, `[service, operation]` for an operation's, `[function_name, service]` for the
cold start), so a request writes one document. Only what cannot share it gets another: a second
operation in a batch (the `operation` key holds one value), or a metric name at two levels with
different values (both directives read the one key). Powertools' `single_metric` would write a document
per metric (four or five per request, each a JSON dump and a print); its `Metrics` takes one dimension
set per document.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import Logger

from textapi_shared.monitoring.metric_names import MetricName

if TYPE_CHECKING:
    from textapi_shared.config import SharedSettings

_COUNT, _MILLISECONDS = "Count", "Milliseconds"
# EMF takes at most 100 values per metric in one document.
_MAX_VALUES = 100
_OWN: tuple[tuple[str, str], ...] = ()  # the function's own metrics: the `service` dimension alone

Dimensions = tuple[tuple[str, str], ...]
Values = dict[str, tuple[str, list[float]]]  # metric name -> (unit, values)


class Observability:
    """The function's Powertools logger and (optional) tracer, and its metrics (EMF, a document a request)."""

    __slots__ = ("_pending", "logger", "namespace", "service", "tracer")

    def __init__(self, logger: Logger, tracer: Any | None, namespace: str, service: str) -> None:
        self.logger = logger
        self.tracer = tracer  # aws_lambda_powertools.Tracer when TRACING_ENABLED
        self.namespace = namespace
        self.service = service
        self._pending: dict[Dimensions, Values] = {}  # dimensions besides `service` -> metrics

    def count(self, name: MetricName, value: float = 1) -> None:
        self._add(_OWN, name, _COUNT, value)

    def milliseconds(self, name: MetricName, value: float) -> None:
        self._add(_OWN, name, _MILLISECONDS, value)

    def cold_start(self, function_name: str) -> None:
        """Powertools' `ColdStart` metric (dimensions service and function_name), in the same document."""
        self._add((("function_name", function_name),), "ColdStart", _COUNT, 1)

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
        self._add((("operation", str(operation)),), name, _COUNT, value)

    def milliseconds_for(self, operation: str, name: MetricName, value: float) -> None:
        self._add((("operation", str(operation)),), name, _MILLISECONDS, value)

    def _add(self, dimensions: Dimensions, name: str, unit: str, value: float) -> None:
        metrics = self._pending.get(dimensions)
        if metrics is None:
            metrics = self._pending[dimensions] = {}
        found = metrics.get(name)
        if found is None:
            metrics[name] = (unit, [value])
        else:
            found[1].append(value)

    def flush_metrics(self) -> None:
        """Write what was gathered since the last flush (nothing when nothing was); call once per request,
        before the response leaves (in Lambda the handler does, after its own request metrics)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        for document in self._documents(pending):
            sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")

    def _documents(self, pending: dict[Dimensions, Values]) -> list[dict[str, Any]]:
        timestamp = int(time.time() * 1000)
        documents: list[dict[str, Any]] = []
        for dimensions, metrics in pending.items():
            host = next((d for d in documents if _fits(d, dimensions, metrics)), None)
            if host is None:
                host = {"_aws": {"Timestamp": timestamp, "CloudWatchMetrics": []}, "service": self.service}
                documents.append(host)
            host.update(dimensions)
            host["_aws"]["CloudWatchMetrics"].append(
                {
                    "Namespace": self.namespace,
                    "Dimensions": [["service", *(name for name, _ in dimensions)]],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (unit, _) in metrics.items()],
                }
            )
            for name, (_, values) in metrics.items():
                host[name] = values[0] if len(values) == 1 else values[:_MAX_VALUES]
        return documents


def _fits(document: dict[str, Any], dimensions: Dimensions, metrics: Values) -> bool:
    """Whether a directive can join `document`: every directive reads dimension values and metric values
    from the document's top-level keys, so a key both use must hold the same value for both."""
    for name, value in dimensions:
        if document.get(name, value) != value:
            return False
    for name, (_, values) in metrics.items():
        if name in document and document[name] != (values[0] if len(values) == 1 else values[:_MAX_VALUES]):
            return False
    return True


# Lambda's JSON log filter reads `level` with its own names; Python's WARNING and CRITICAL are not among
# them. (The platform filter stays at INFO or below, so EMF lines, which carry no level, always pass.)
_LAMBDA_LEVEL_NAMES = {logging.WARNING: "WARN", logging.CRITICAL: "FATAL"}


def build_observability(settings: SharedSettings) -> Observability:
    """JSON logs (service, cold start, correlation id; RFC 3339 timestamps and the level names Lambda's
    log filter parses), EMF metrics, and X-Ray only when asked for. `LOG_LEVEL` filters here."""
    for level, name in _LAMBDA_LEVEL_NAMES.items():
        logging.addLevelName(level, name)
    logger = Logger(service=settings.service_name, level=settings.log_level, use_rfc3339=True)
    tracer = None
    if settings.tracing_enabled:
        from aws_lambda_powertools.tracing import Tracer

        tracer = Tracer(service=settings.service_name)
    return Observability(
        logger=logger,
        tracer=tracer,
        namespace=settings.metrics_namespace,
        service=settings.service_name,
    )
