"""Metrics as EMF documents (one a request, as few as EMF allows) and the access line written directly
in the logger's own format."""

from __future__ import annotations

import io
import json
import logging
from contextlib import redirect_stdout

from fakes.lambda_context import FakeLambdaContext
from textapi_shared.config import SharedSettings
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.monitoring.observability import build_observability


def documents(observability) -> list[dict]:
    out = io.StringIO()
    with redirect_stdout(out):
        observability.flush_metrics()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def directives(document: dict) -> dict[tuple[str, ...], list[str]]:
    return {
        tuple(d["Dimensions"][0]): [m["Name"] for m in d["Metrics"]]
        for d in document["_aws"]["CloudWatchMetrics"]
    }


def test_a_requests_metrics_at_both_levels_are_one_document():
    obs = build_observability(SharedSettings(service_name="svc", metrics_namespace="Ns"))
    obs.count_for("summarize", MetricName.CACHE_HITS)
    obs.milliseconds_for("summarize", MetricName.OPERATION_LATENCY, 12.5)
    obs.count(MetricName.REQUESTS)
    obs.milliseconds(MetricName.LATENCY, 20.0)
    obs.cold_start("fn")
    (document,) = documents(obs)
    assert directives(document) == {
        ("service", "operation"): ["CacheHits", "OperationLatency"],
        ("service",): ["Requests", "Latency"],
        ("service", "function_name"): ["ColdStart"],
    }
    assert (document["service"], document["operation"], document["function_name"]) == (
        "svc",
        "summarize",
        "fn",
    )
    assert (document["CacheHits"], document["OperationLatency"], document["Requests"]) == (1, 12.5, 1)
    assert all(d["Namespace"] == "Ns" for d in document["_aws"]["CloudWatchMetrics"])
    assert documents(obs) == []  # flushed: nothing is written twice


def test_what_cannot_share_a_document_gets_its_own():
    obs = build_observability(SharedSettings(service_name="svc"))
    obs.count_for("summarize", MetricName.CACHE_MISSES)
    obs.count_for("qa", MetricName.CACHE_MISSES)  # a batch: a second value of `operation`
    obs.count_for("qa", MetricName.CACHE_MISSES)
    obs.count(MetricName.REQUESTS)
    found = documents(obs)
    assert len(found) == 2
    by_operation = {d["operation"]: d for d in found}
    assert by_operation["qa"]["CacheMisses"] == [1, 1]  # two samples of one metric: an EMF value array
    assert "Requests" in by_operation["summarize"]


def test_a_metric_counted_at_both_levels_shares_the_document_only_with_equal_values():
    obs = build_observability(SharedSettings(service_name="svc"))
    obs.count_for("qa", MetricName.BREAKER_OPENED)
    obs.count(MetricName.BREAKER_OPENED)  # the alarm's dimension-less copy: the same value
    assert len(documents(obs)) == 1
    obs.count_for("qa", MetricName.AI_PROMPT_TOKENS, 10)
    obs.count(MetricName.AI_PROMPT_TOKENS, 3)  # different values under one key: cannot share
    assert len(documents(obs)) == 2


def test_the_access_line_is_what_the_logger_would_write():
    settings = SharedSettings(service_name="svc", log_level="INFO")
    fast, slow = build_observability(settings), build_observability(settings)
    for obs in (fast, slow):
        obs.lambda_context(FakeLambdaContext(), cold_start=False)
        obs.logger.set_correlation_id("req-1=")
    fields = {"method": "POST", "path": "/v1/x", "status": 200, "error_code": None, "duration_ms": 1.5}
    out = io.StringIO()
    slow.logger.registered_handler.setStream(out)
    slow.logger.info("request", extra=fields)
    expected = json.loads(out.getvalue())
    out = io.StringIO()
    with redirect_stdout(out):
        fast.request_line(logging.INFO, fields)
    written = json.loads(out.getvalue())
    assert list(written) == [key for key in expected if key not in ("taskName",)]
    for key in (
        "level",
        "message",
        "service",
        "cold_start",
        "function_request_id",
        "correlation_id",
        "status",
    ):
        assert written[key] == expected[key]
    assert written["timestamp"][:16] == expected["timestamp"][:16]
    assert "error_code" not in written  # None values are left out, as Powertools does


def test_the_access_line_respects_the_log_level_and_says_error_for_server_errors():
    obs = build_observability(SharedSettings(service_name="svc-warnings-only", log_level="WARNING"))
    out = io.StringIO()
    with redirect_stdout(out):
        obs.request_line(logging.INFO, {"status": 200})
        obs.request_line(logging.ERROR, {"status": 503})
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert (line["level"], line["status"]) == ("ERROR", 503)


def test_the_queue_worker_handler_is_traced_only_when_enabled():
    from textapi_shared.sqs_handler import build_sqs_handler

    def record_handler_for(context):
        raise AssertionError("not invoked here")

    traced = build_sqs_handler(
        build_observability(SharedSettings(service_name="svc-worker", tracing_enabled=True)),
        record_handler_for,
    )
    plain = build_sqs_handler(
        build_observability(SharedSettings(service_name="svc-worker")), record_handler_for
    )
    assert hasattr(traced, "__wrapped__")
    assert not hasattr(plain, "__wrapped__")
