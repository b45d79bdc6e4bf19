"""What the functions write to stdout must survive Lambda's JSON log filter (LoggingConfig: JSON, an
ApplicationLogLevel): Lambda reads `level` with its own names and `timestamp` as RFC 3339, and treats
lines without a level (EMF metric documents) as INFO. Every server error is an ERROR line with its code.

The handlers run in a fresh interpreter whose real stdout is read: exactly what Lambda would receive.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE_PATH = os.pathsep.join(
    str(ROOT / p)
    for p in ("layers/shared", "functions/public_api", "functions/internal_api", "infra/local", "tests")
)
LAMBDA_LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
RFC_3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")

INVOKE = """
import json, sys
from fakes.apigw_events import build_http_event
from fakes.lambda_context import FakeLambdaContext
from public_api.main import lambda_handler
for method, path, headers in json.loads(sys.argv[1]):
    lambda_handler(build_http_event(method, path, headers=headers), FakeLambdaContext())
"""


def _stdout_lines(calls: list[tuple[str, str, dict]], **env: str) -> list[dict]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": CODE_PATH, **env}
    result = subprocess.run(
        [sys.executable, "-c", INVOKE, json.dumps(calls)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_every_line_parses_under_lambdas_json_log_rules():
    lines = _stdout_lines(
        [
            ("GET", "/v1/health", {}),
            ("GET", "/v1/auth/status", {"X-API-Key": "wrong-key-0000"}),
            ("GET", "/v1/nope", {}),
        ],
        STAGE="dev",
        API_KEY="pk-live-0123456789abcdef",
    )
    documents = [line for line in lines if "_aws" in line]
    records = [line for line in lines if "_aws" not in line]
    assert documents, "EMF metric documents"
    assert records, "log records"
    assert all("level" not in document for document in documents)
    for record in records:
        assert record["level"] in LAMBDA_LEVELS, record
        assert RFC_3339.match(record["timestamp"]), record["timestamp"]


def test_log_level_filters_in_powertools_and_warnings_say_warn():
    lines = _stdout_lines([("GET", "/v1/auth/status", {})], STAGE="dev", LOG_LEVEL="WARNING")
    records = [line for line in lines if "_aws" not in line]
    assert [record["level"] for record in records] == ["WARN"], "the open-mode warning, nothing at INFO"
    assert any("_aws" in line for line in lines), "metrics are never filtered out"


def test_server_errors_are_error_lines_and_client_errors_info_lines_with_their_code():
    lines = _stdout_lines(
        [("GET", "/v1/auth/status", {}), ("GET", "/v1/nope", {})],
        STAGE="prod",
        API_KEY="",
        AI_PROVIDER="local",
    )
    access = [
        (line["level"], line["status"], line["error_code"])
        for line in lines
        if line.get("message") == "request"
    ]
    assert access == [("ERROR", 500, "CONFIGURATION_ERROR"), ("INFO", 404, "NOT_FOUND")]
