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

    def lambda_context(self, context: Any, *, cold_start: bool) -> None:
        """The invocation's keys on every log line: cold start and the Lambda context, named as Powertools'
        `inject_lambda_context` names them (the function's never change; the request id does)."""
        self.logger.append_keys(
            cold_start=cold_start,
            function_name=getattr(context, "function_name", None),
            function_memory_size=getattr(context, "memory_limit_in_mb", None),
            function_arn=getattr(context, "invoked_function_arn", None),
            function_request_id=getattr(context, "aws_request_id", None),
        )

    def request_line(self, level: int, fields: dict[str, Any]) -> None:
        """The access log line of a request: the record `logger.log(level, "request", extra=fields)` writes
        (the same keys in the same order: level, location, message, timestamp, the logger's persistent keys
        such as service, cold start, Lambda context and correlation id, then `fields`; None values left out),
        put together directly. Every request writes it, and the logging module's general path (a LogRecord,
        a %-template per key, a datetime for the timestamp) cost more than all the rest of a cache hit."""
        if not self.logger.isEnabledFor(level):
            return
        record = dict(self.logger.get_current_keys())
        record.update(
            level=logging.getLevelName(level),
            location="request_line",
            message="request",
            timestamp=_now_rfc3339(),
        )
        record.update(fields)
        line = json.dumps(
            {k: v for k, v in record.items() if v is not None}, separators=(",", ":"), default=str
        )
        sys.stdout.write(line + "\n")

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
        timestamp = int(time.time() * 1000)
        for directives, values in self._documents(pending):
            sys.stdout.write(
                f'{{"_aws":{{"Timestamp":{timestamp},"CloudWatchMetrics":[{",".join(directives)}]}},'
                + json.dumps(values, separators=(",", ":"))[1:]
                + "\n"
            )

    def _documents(self, pending: dict[Dimensions, Values]) -> list[tuple[list[str], dict[str, Any]]]:
        """(directives as JSON, top-level values) of each document: a directive joins the first document
        whose values it can share (`_fits`)."""
        documents: list[tuple[list[str], dict[str, Any]]] = []
        for dimensions, metrics in pending.items():
            host = next((doc for doc in documents if _fits(doc[1], dimensions, metrics)), None)
            if host is None:
                host = ([], {"service": self.service})
                documents.append(host)
            host[0].append(self._directive(dimensions, metrics))
            host[1].update(dimensions)
            for name, (_, values) in metrics.items():
                host[1][name] = values[0] if len(values) == 1 else values[:_MAX_VALUES]
        return documents

    def _directive(self, dimensions: Dimensions, metrics: Values) -> str:
        """A directive's JSON, made once per shape (requests of a kind name the same metrics)."""
        shape = (
            self.namespace,
            tuple(name for name, _ in dimensions),
            tuple((name, unit) for name, (unit, _) in metrics.items()),
        )
        found = _DIRECTIVES.get(shape)
        if found is None:
            directive = {
                "Namespace": self.namespace,
                "Dimensions": [["service", *shape[1]]],
                "Metrics": [{"Name": name, "Unit": unit} for name, unit in shape[2]],
            }
            found = json.dumps(directive, separators=(",", ":"))
            if len(_DIRECTIVES) < _MAX_SHAPES:
                _DIRECTIVES[shape] = found
        return found


_DIRECTIVES: dict[tuple[Any, ...], str] = {}
_MAX_SHAPES = 1024


def _now_rfc3339() -> str:
    """Now as Powertools writes it with `use_rfc3339` in Lambda (UTC): 2026-01-01T00:00:00.000+00:00."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}+00:00"


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
