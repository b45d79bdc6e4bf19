"""Cold start: importing either entry point loads no heavy client library the config doesn't need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each case imports an entry point in a fresh interpreter

ROOT = Path(__file__).resolve().parents[2]
CODE_PATH = os.pathsep.join(
    str(ROOT / p) for p in ("layers/shared", "functions/public_api", "functions/internal_api")
)
# Powertools imports the bare `botocore` package (0.4 ms) to tag its user agent; the heavy part
# of the AWS SDK is botocore's session and client machinery, which must stay unloaded.
HEAVY = ("google.genai", "boto3", "botocore.session", "botocore.client", "redis", "httpx", "aws_xray_sdk")


ENTRY_POINTS = ["public_api.main", "internal_api.main", "public_api.worker"]
# What each entry point needs to start at all (the worker consumes SQS: the template sets these).
ENTRY_ENVIRONMENT = {
    "public_api.worker": {
        "JOBS_BACKEND": "sqs",
        "JOBS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/textapi-jobs",
        "JOBS_TABLE_NAME": "textapi-jobs",
    }
}


def _after_import(module: str, expression: str, **env: str):
    """The JSON value of `expression` in a fresh interpreter after importing `module` (failure tolerated)."""
    script = "\n".join(
        [
            "import sys, json, gc",
            "try:",
            f"    import {module}",
            "except Exception as exc:",
            "    print(repr(exc), file=sys.stderr)",
            f"print(json.dumps({expression}))",
        ]
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": CODE_PATH,
        "STAGE": "dev",
        **ENTRY_ENVIRONMENT.get(module, {}),
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_entry_point_import_loads_no_heavy_clients(module):
    loaded, errors = _after_import(module, f"[m for m in {HEAVY!r} if m in sys.modules]")
    assert "Error" not in errors
    assert loaded == [], f"{module} imported {loaded} at cold start"


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_entry_point_resumes_garbage_collection_with_init_objects_frozen(module):
    (enabled, frozen), errors = _after_import(module, "[gc.isenabled(), gc.get_freeze_count()]")
    assert "Error" not in errors
    assert enabled is True
    assert frozen > 10_000, "the objects init built should sit in the permanent generation"


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_failed_init_still_resumes_garbage_collection(module):
    (enabled, frozen), errors = _after_import(
        module, "[gc.isenabled(), gc.get_freeze_count()]", LOG_LEVEL="LOUD"
    )
    assert "ConfigurationError" in errors
    assert "LOG_LEVEL" in errors
    assert enabled is True
    assert frozen == 0
