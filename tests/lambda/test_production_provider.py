"""A production stage never runs the offline provider by accident: without a Gemini key configured the
AI functions fail their cold start (a SnapStart version is then never published, and a canary rolls back),
naming the setting; `AI_PROVIDER=local` chooses the offline provider on purpose. The cold start is the real
one: the entry module imported in a fresh interpreter with only the given environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fakes.api_contract import ADMIN_KEY
from fakes.cfn_template import REPO_ROOT
from textapi_shared.config import PRODUCTION_STAGES

pytestmark = pytest.mark.slow  # each case starts an entry point in a fresh interpreter

CODE_PATH = os.pathsep.join(
    str(REPO_ROOT / p)
    for p in ("layers/shared", "functions/public_api", "functions/internal_api", "infra/local", "tests")
)
COLD_START = """
import importlib, json, sys
try:
    module = importlib.import_module(sys.argv[1])
except Exception as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
    sys.exit(0)
status = None
if sys.argv[1] == "public_api.main":
    from fakes.apigw_events import build_http_event
    from fakes.lambda_context import FakeLambdaContext
    status = module.lambda_handler(build_http_event("GET", "/v1/health"), FakeLambdaContext())["statusCode"]
print(json.dumps({"started": True, "status": status}))
"""
# The worker is fed by SQS: it starts only with its queue and table named (nothing connects at init).
WORKER = {"JOBS_BACKEND": "sqs", "JOBS_QUEUE_URL": "https://sqs.example/jobs", "JOBS_TABLE_NAME": "jobs"}
AI_FUNCTIONS = ("public_api.main", "public_api.worker")


def cold_start(module: str, **variables: str) -> dict:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": CODE_PATH,
        "AWS_REGION": "us-east-1",
        "API_KEY": "pk-live-0123456789abcdef",
        **(WORKER if module == "public_api.worker" else {}),
        **variables,
    }
    run = subprocess.run(
        [sys.executable, "-c", COLD_START, module],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("stage", sorted(PRODUCTION_STAGES))
@pytest.mark.parametrize("module", AI_FUNCTIONS)
def test_a_production_stage_without_a_gemini_key_fails_the_cold_start_naming_it(module, stage):
    failed = cold_start(module, STAGE=stage)
    assert failed["error"] == "ConfigurationError"
    assert "GEMINI_API_KEY_SSM_PARAMETER" in failed["message"]
    assert "GeminiApiKeyParameterName" in failed["message"]
    assert "AI_PROVIDER=local" in failed["message"]


@pytest.mark.parametrize("module", AI_FUNCTIONS)
def test_the_offline_provider_in_production_only_when_chosen(module):
    started = cold_start(module, STAGE="prod", AI_PROVIDER="local")
    assert started["started"] is True
    if module == "public_api.main":
        assert started["status"] == 200


@pytest.mark.parametrize("module", AI_FUNCTIONS)
def test_production_with_the_key_parameter_and_development_without_it_start(module):
    assert cold_start(module, STAGE="prod", GEMINI_API_KEY_SSM_PARAMETER="/textapi-prod/gemini-api-key")[
        "started"
    ]
    assert cold_start(module, STAGE="dev")["started"]


def test_the_internal_api_starts_and_its_health_says_why_the_ai_functions_do_not(
    internal_handler, http_event, lambda_context
):
    handler = internal_handler(stage="prod")
    response = handler(
        http_event("GET", "/internal/monitoring/health", headers={"X-API-Key": ADMIN_KEY}), lambda_context
    )
    body = json.loads(response["body"])
    ai = body["components"]["ai"]
    assert (body["status"], ai["status"]) == ("unhealthy", "unhealthy")
    assert "GEMINI_API_KEY_SSM_PARAMETER" in ai["detail"]
