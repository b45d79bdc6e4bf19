"""A first deploy without its SecureString parameters (moto): fail closed with a generic 503, say why
in the admin health only, and ask SSM once per retry period instead of once per request."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY, assert_error_shape
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from public_api.config import PublicApiSettings
from public_api.main import create_app as create_public_app
from textapi_shared.aws import aws_client

TEXT = "The museum reopened after a long renovation with a new wing for modern sculpture."


@pytest.fixture
def missing(moto_endpoint):
    """Parameter names no test created."""
    prefix = f"/textapi-{uuid.uuid4().hex[:8]}"
    return {"keys": f"{prefix}/api-keys", "gemini": f"{prefix}/gemini-api-key"}


def process(client: LambdaClient):
    return client.request(
        "POST",
        "/v1/text_processing/process",
        json_body={"text": TEXT, "operation": "summarize"},
        headers={"X-API-Key": PUBLIC_KEY},
    )


def ssm_calls(settings, operation: str) -> list[str]:
    """Every `operation` the function's own (cached) SSM client sends from now on."""
    calls: list[str] = []
    aws_client(settings, "ssm").meta.events.register(
        f"provide-client-params.ssm.{operation}", lambda params, **_: calls.append(params["Name"])
    )
    return calls


def test_missing_key_parameter_is_a_generic_503_and_one_ssm_call_per_period(moto_endpoint, missing):
    settings = PublicApiSettings(
        stage="prod",
        ai_provider="local",
        aws_endpoint_url=moto_endpoint,
        api_keys_ssm_parameter=missing["keys"],
    )
    client = LambdaClient(create_public_app(settings))
    calls = ssm_calls(settings, "GetParameter")
    for _ in range(5):
        response = process(client)
        assert response.status_code == 503
        assert_error_shape(response.json(), "SERVICE_UNAVAILABLE")
        assert missing["keys"] not in response.text
        assert int(response.headers["retry-after"]) >= 1
    health = client.request("GET", "/v1/health")
    assert health.json()["status"] == "unhealthy"
    assert missing["keys"] not in health.text
    assert calls == [missing["keys"]], "one read per SECRETS_RETRY_SECONDS, not one per request"


def test_the_failed_read_is_retried_after_the_retry_period(moto_endpoint, missing):
    settings = PublicApiSettings(
        stage="dev",
        aws_endpoint_url=moto_endpoint,
        api_keys_ssm_parameter=missing["keys"],
        secrets_retry_seconds=1,
    )
    client = LambdaClient(create_public_app(settings))
    calls = ssm_calls(settings, "GetParameter")
    assert client.request("GET", "/v1/auth/status", headers={"X-API-Key": PUBLIC_KEY}).status_code == 503
    boto3.client("ssm", endpoint_url=moto_endpoint, region_name="us-east-1").put_parameter(
        Name=missing["keys"], Value=PUBLIC_KEY, Type="SecureString"
    )
    assert client.request("GET", "/v1/auth/status", headers={"X-API-Key": PUBLIC_KEY}).status_code == 503
    time.sleep(1.1)
    assert client.request("GET", "/v1/auth/status", headers={"X-API-Key": PUBLIC_KEY}).status_code == 200
    assert len(calls) == 2


def test_admin_health_names_the_missing_parameters_and_why(moto_endpoint, missing):
    settings = InternalApiSettings(
        stage="dev",
        aws_endpoint_url=moto_endpoint,
        internal_api_keys=[ADMIN_KEY],
        api_keys_ssm_parameter=missing["keys"],
        gemini_api_key_ssm_parameter=missing["gemini"],
    )
    client = LambdaClient(create_internal_app(settings))
    response = client.request("GET", "/internal/monitoring/health", headers={"X-API-Key": ADMIN_KEY})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "unhealthy"
    auth, ai = body["components"]["authentication"], body["components"]["ai"]
    assert auth["status"] == "unhealthy"
    assert missing["keys"] in auth["detail"]
    assert "ParameterNotFound" in auth["detail"]
    assert ai["status"] == "unhealthy"
    assert missing["gemini"] in ai["detail"]
    assert "ParameterNotFound" in ai["detail"]


def test_unreadable_gemini_key_makes_public_health_unhealthy_and_calls_503(moto_endpoint, missing):
    settings = PublicApiSettings(
        stage="dev",
        api_key=PUBLIC_KEY,
        aws_endpoint_url=moto_endpoint,
        ai_provider="gemini",
        gemini_api_key_ssm_parameter=missing["gemini"],
        resilience_custom_config=json.dumps({"retry_attempts": 1}),
    )
    client = LambdaClient(create_public_app(settings))
    assert client.request("GET", "/v1/health").json()["status"] == "unhealthy"
    response = process(client)
    assert response.status_code == 503
    assert_error_shape(response.json(), "SERVICE_UNAVAILABLE")
    assert missing["gemini"] not in response.text
