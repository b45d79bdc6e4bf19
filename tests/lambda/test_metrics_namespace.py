"""Stages apart, and alarms watching what the code writes: for each stage of samconfig.toml, the functions
run with the environment template.yaml gives them there, and the EMF documents they print name the
namespace and dimensions that the template's alarms and dashboard read. Each stage (each stack) has a
namespace of its own, so a breaker opening in dev never sets off prod's alarm.

The API functions run in a fresh interpreter (their real `lambda_handler`, stdout read as Lambda would);
the worker's metrics come from its settings as the template resolves them, through the emitters the code
uses (`Observability` and its resilience events).
"""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
import sys
import tomllib
from contextlib import redirect_stdout
from functools import cache

import pytest

from fakes.cfn_resolve import TemplateResolver
from fakes.cfn_template import REPO_ROOT, load_template
from internal_api.config import InternalApiSettings
from public_api.config import PublicApiSettings
from textapi_shared.config import load_settings
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.monitoring.observability import build_observability
from textapi_shared.resilience.events import ResilienceEvents

pytestmark = pytest.mark.slow  # every stage's handlers built from the template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
SAMCONFIG = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
STAGES = {"dev": "default", "staging": "staging", "prod": "prod"}
SETTINGS = {
    "PublicApiFunction": PublicApiSettings,
    "PublicApiWorkerFunction": PublicApiSettings,
    "InternalApiFunction": InternalApiSettings,
}
CODE_PATH = os.pathsep.join(
    str(REPO_ROOT / p)
    for p in ("layers/shared", "functions/public_api", "functions/internal_api", "infra/local", "tests")
)
# One request each that the function answers 5xx on a fresh deployment: its key parameter is not in SSM
# yet (503), so it writes Requests and ServerErrors, what its 5xx-rate alarm divides.
INVOKE = """
import importlib, json, sys
from fakes.apigw_events import build_http_event
from fakes.lambda_context import FakeLambdaContext
module, path = sys.argv[1:3]
handler = importlib.import_module(module).lambda_handler
event = build_http_event("GET", path, headers={"X-API-Key": "a-key-no-one-stored"})
response = handler(event, FakeLambdaContext())
print(json.dumps({"status": response["statusCode"]}), file=sys.stderr)
"""
HANDLERS = {
    "PublicApiFunction": ("public_api.main", "/v1/auth/status"),
    "InternalApiFunction": ("internal_api.main", "/internal/monitoring/health"),
}


def stage_resolver(stage: str) -> TemplateResolver:
    """template.yaml as `make deploy ENV=<stage>` deploys it: samconfig's stack name and parameters."""
    env = SAMCONFIG[STAGES[stage]]
    words = shlex.split(env["deploy"]["parameters"]["parameter_overrides"])
    parameters = dict(word.split("=", 1) for word in words)
    if stage == "prod":
        parameters["AlarmEmail"] = "ops@example.com"  # required in prod (the template's rule)
    return TemplateResolver(
        TEMPLATE,
        parameters=parameters,
        stack_name=env["global"]["parameters"]["stack_name"],
        attributes={"JobsQueue.QueueName": "jobs", "JobsDeadLetterQueue.QueueName": "dead-letters"},
    )


def function_environment(resolver: TemplateResolver, function: str) -> dict[str, str]:
    variables = {
        **TEMPLATE["Globals"]["Function"]["Environment"]["Variables"],
        **RESOURCES[function]["Properties"]["Environment"]["Variables"],
    }
    return {name: str(value) for name, value in resolver.resolve(variables).items()}


Series = tuple[str, str, frozenset[tuple[str, str]]]  # namespace, metric, dimensions


def emf_series(lines: str) -> set[Series]:
    """Every (namespace, metric, dimension values) the EMF documents among `lines` write."""
    found = set()
    for line in lines.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = frozenset((name, document[name]) for name in dimension_set)
                for metric in directive["Metrics"]:
                    found.add((directive["Namespace"], metric["Name"], dimensions))
    return found


def watched_series(resolver: TemplateResolver) -> dict[str, set[Series]]:
    """What each alarm and the dashboard read, outside the AWS/ namespaces: the code's own metrics."""
    watched: dict[str, set[Series]] = {}
    for name, resource in RESOURCES.items():
        if resource["Type"] != "AWS::CloudWatch::Alarm" or not resolver.exists(name):
            continue
        properties = resource["Properties"]
        metrics = [m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m]
        metrics += [properties] if "MetricName" in properties else []
        for metric in metrics:
            namespace = resolver.resolve(metric["Namespace"])
            if namespace.startswith("AWS/"):
                continue
            dimensions = frozenset((d["Name"], resolver.resolve(d["Value"])) for d in metric["Dimensions"])
            watched.setdefault(name, set()).add((namespace, metric["MetricName"], dimensions))
    body = json.loads(resolver.resolve(RESOURCES["Dashboard"]["Properties"]["DashboardBody"]))
    for widget in body["widgets"]:
        previous: list[str] = []
        for row in widget["properties"].get("metrics", []):
            # A dashboard row repeats the row above where it says "." ("..." for all of it), options last.
            values = [v for v in row if isinstance(v, str)]
            values = previous if values == ["..."] else values
            values = [previous[i] if v == "." and i < len(previous) else v for i, v in enumerate(values)]
            previous = values
            namespace, metric, *pairs = values
            if not namespace.startswith("AWS/"):
                dimensions = frozenset(zip(pairs[::2], pairs[1::2], strict=True))
                watched.setdefault("Dashboard", set()).add((namespace, metric, dimensions))
    return watched


@cache
def emitted(stage: str, moto_endpoint: str) -> set[Series]:
    """What the three functions print under the stage's environment."""
    resolver = stage_resolver(stage)
    series: set[Series] = set()
    for function, (module, path) in HANDLERS.items():
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": CODE_PATH,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            **function_environment(resolver, function),
            "AWS_ENDPOINT_URL": moto_endpoint,  # an account where nothing was stored yet
        }
        run = subprocess.run(
            [sys.executable, "-c", INVOKE, module, path],
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        assert '{"status": 503}' in run.stderr, run.stderr[-3000:]
        series |= emf_series(run.stdout)
    for function in SETTINGS:
        series |= _every_metric_through_the_emitters(function, resolver)
    return series


# What each function counts at its own level besides its requests: the job worker records items and sends
# callbacks, the API submits jobs, both call the AI through the cache and read secrets.
COUNTED_BY = {
    "PublicApiFunction": (
        MetricName.JOBS_SUBMITTED,
        MetricName.CACHE_ERRORS,
        MetricName.AI_MODEL_FALLBACKS,
        MetricName.SECRET_REFRESH_FAILED,
    ),
    "PublicApiWorkerFunction": (
        MetricName.JOB_MESSAGES,
        MetricName.JOB_ITEMS_COMPLETED,
        MetricName.JOB_ITEMS_FAILED,
        MetricName.JOB_ITEMS_RETRIED,
        MetricName.JOBS_FINISHED,
        MetricName.JOB_CALLBACKS_FAILED,
        MetricName.CACHE_ERRORS,
        MetricName.AI_MODEL_FALLBACKS,
        MetricName.SECRET_REFRESH_FAILED,
    ),
    "InternalApiFunction": (MetricName.SECRET_REFRESH_FAILED,),
}
OPENS_BREAKERS = ("PublicApiFunction", "PublicApiWorkerFunction")


def _every_metric_through_the_emitters(function: str, resolver: TemplateResolver) -> set[Series]:
    environment = function_environment(resolver, function)
    settings = load_settings(
        SETTINGS[function], **{name.lower(): value for name, value in environment.items()}
    )
    observability = build_observability(settings)
    if function in OPENS_BREAKERS:  # at both levels, as the resilience layer reports a transition
        ResilienceEvents(observability).breaker_transition("summarize", "closed", "open")
    for name in COUNTED_BY[function]:
        observability.count(name)
    out = io.StringIO()
    with redirect_stdout(out):
        observability.flush_metrics()
    return emf_series(out.getvalue())


@pytest.mark.parametrize("stage", list(STAGES))
def test_alarms_and_dashboard_read_the_namespace_and_dimensions_the_functions_write(stage, moto_endpoint):
    written = emitted(stage, moto_endpoint)
    watched = watched_series(stage_resolver(stage))
    assert {"BreakerOpenAlarm", "PublicApiServerErrorRateAlarm", "JobItemsFailedAlarm", "Dashboard"} <= set(
        watched
    )
    for name, series in watched.items():
        assert series <= written, f"{name} reads what no function writes: {sorted(series - written)}"


@pytest.mark.parametrize("stage", list(STAGES))
def test_the_api_handlers_write_their_5xx_rate_under_their_own_service(stage, moto_endpoint):
    written = emitted(stage, moto_endpoint)
    namespace = stage_resolver(stage).resolve(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])[
        "METRICS_NAMESPACE"
    ]
    for service in ("textapi-public", "textapi-internal"):
        for metric in (MetricName.REQUESTS, MetricName.SERVER_ERRORS):
            assert (namespace, metric, frozenset({("service", service)})) in written


def test_every_stage_writes_and_watches_a_namespace_of_its_own(moto_endpoint):
    namespaces = {}
    for stage in STAGES:
        written = {namespace for namespace, _, _ in emitted(stage, moto_endpoint)}
        watched = {s[0] for series in watched_series(stage_resolver(stage)).values() for s in series}
        assert len(written) == 1, written
        assert watched == written, (stage, watched, written)
        namespaces[stage] = written.pop()
    assert len(set(namespaces.values())) == len(STAGES), f"stages share a namespace: {namespaces}"


def test_breakers_the_worker_opens_set_off_the_alarm_too():
    resolver = stage_resolver("prod")
    services = {service for _, _, dims in watched_series(resolver)["BreakerOpenAlarm"] for _, service in dims}
    worker = function_environment(resolver, "PublicApiWorkerFunction")["SERVICE_NAME"]
    public = function_environment(resolver, "PublicApiFunction")["SERVICE_NAME"]
    assert services == {public, worker}
