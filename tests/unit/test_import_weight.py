"""Cold start: importing either entry point loads no heavy client library the config doesn't need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE_PATH = os.pathsep.join(
    str(ROOT / p) for p in ("layers/shared", "functions/public_api", "functions/internal_api")
)
# Powertools imports the bare `botocore` package (0.4 ms) to tag its user agent; the heavy part
# of the AWS SDK is botocore's session and client machinery, which must stay unloaded.
HEAVY = ("google.genai", "boto3", "botocore.session", "botocore.client", "redis", "httpx", "aws_xray_sdk")


@pytest.mark.parametrize("module", ["public_api.main", "internal_api.main"])
def test_entry_point_import_loads_no_heavy_clients(module):
    script = f"import sys, json, {module}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": CODE_PATH, "STAGE": "dev"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [], f"{module} imported {loaded} at cold start"
