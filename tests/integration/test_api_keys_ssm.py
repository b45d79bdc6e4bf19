"""Keys from SSM SecureString parameters on a real moto server, through Powertools Parameters."""

from __future__ import annotations

import asyncio
import uuid

import boto3
import pytest

from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY, assert_error_shape
from fakes.apigw_events import response_json
from fakes.services import free_port
from public_api.config import PublicApiSettings
from public_api.main import create_app
from textapi_shared.aws import SecretUnavailableError
from textapi_shared.errors import ServiceUnavailableError
from textapi_shared.security.api_keys import ApiKeyAuthenticator
from textapi_shared.web.lambda_handler import build_lambda_handler


@pytest.fixture
def ssm(moto_endpoint):
    return boto3.client("ssm", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def parameter_names(ssm):
    """Fresh parameter names per test: public keys (two) and admin keys (one)."""
    prefix = f"/textapi/test-{uuid.uuid4().hex[:8]}"
    public, admin = f"{prefix}/api-keys", f"{prefix}/internal-api-keys"
    ssm.put_parameter(Name=public, Value=f"{PUBLIC_KEY}, second-key-from-ssm", Type="SecureString")
    ssm.put_parameter(Name=admin, Value=ADMIN_KEY, Type="SecureString")
    return public, admin


def settings_for(moto_endpoint: str, public: str, admin: str = "", **overrides) -> PublicApiSettings:
    return PublicApiSettings(
        stage="prod",
        ai_provider="local",  # the offline provider, chosen: a production stage has none by default
        aws_endpoint_url=moto_endpoint,
        api_keys_ssm_parameter=public,
        internal_api_keys_ssm_parameter=admin,
        **overrides,
    )


def test_keys_are_read_from_secure_string_parameters(moto_endpoint, parameter_names):
    public, admin = parameter_names
    checker = ApiKeyAuthenticator(settings_for(moto_endpoint, public, admin))
    assert (
        asyncio.run(checker.authenticate_public({"x-api-key": "second-key-from-ssm"})).key_prefix
        == "second-k..."
    )
    assert asyncio.run(checker.authenticate_admin({"authorization": f"Bearer {ADMIN_KEY}"})).is_admin
    health = asyncio.run(checker.health(force=True))
    assert (health.public_keys, health.admin_keys, health.source) == (2, 1, "ssm+env")


def test_parameters_are_cached_for_the_configured_age(moto_endpoint, parameter_names, ssm):
    public, _ = parameter_names
    checker = ApiKeyAuthenticator(settings_for(moto_endpoint, public, secrets_cache_seconds=300))
    assert asyncio.run(checker.authenticate_public({"x-api-key": PUBLIC_KEY}))
    ssm.put_parameter(Name=public, Value="rotated-key-0000", Type="SecureString", Overwrite=True)
    assert asyncio.run(checker.authenticate_public({"x-api-key": PUBLIC_KEY}))  # still the cached value
    assert asyncio.run(checker.public_keys(force=True)) == ("rotated-key-0000",)


def test_missing_parameter_fails_closed_with_a_generic_503(moto_endpoint):
    checker = ApiKeyAuthenticator(settings_for(moto_endpoint, "/textapi/does-not-exist"))
    with pytest.raises(SecretUnavailableError) as caught:
        asyncio.run(checker.authenticate_public({"x-api-key": PUBLIC_KEY}))
    assert caught.value.status_code == 503
    assert "/textapi/does-not-exist" not in caught.value.message
    assert (caught.value.parameter, caught.value.reason) == ("/textapi/does-not-exist", "ParameterNotFound")


@pytest.mark.parametrize("value", [" , ", ",", "key-one, key two", "kéy-ünicode"])
def test_parameter_without_usable_keys_fails_closed_for_both_apis(moto_endpoint, ssm, value):
    """Only an unset source may run open (and only outside production); a configured one never does."""
    name = f"/textapi/test-{uuid.uuid4().hex[:8]}/keys"
    ssm.put_parameter(Name=name, Value=value, Type="SecureString")
    checker = ApiKeyAuthenticator(
        PublicApiSettings(
            stage="staging",
            aws_endpoint_url=moto_endpoint,
            api_keys_ssm_parameter=name,
            internal_api_keys_ssm_parameter=name,
        )
    )
    for check in (checker.authenticate_public({}), checker.authenticate_admin({})):
        with pytest.raises(SecretUnavailableError):
            asyncio.run(check)
    health = asyncio.run(checker.health())
    assert (health.open_public, health.open_admin) == (False, False)
    assert any("holds no usable key" in problem for problem in health.problems)


def test_unreachable_ssm_is_service_unavailable_not_open():
    dead = f"http://127.0.0.1:{free_port()}"
    settings = settings_for(dead, "/textapi/keys", aws_connect_timeout=0.5, aws_read_timeout=0.5)
    checker = ApiKeyAuthenticator(settings)
    with pytest.raises(ServiceUnavailableError) as caught:
        asyncio.run(checker.authenticate_public({"x-api-key": PUBLIC_KEY}))
    assert caught.value.headers["Retry-After"]
    assert caught.value.reason.startswith("SSM unreachable")


def test_lambda_handler_authenticates_with_ssm_keys(
    moto_endpoint, parameter_names, http_event, lambda_context
):
    public, _ = parameter_names
    app = create_app(settings_for(moto_endpoint, public))
    handler = build_lambda_handler(app, app.state.services.observability)
    ok = handler(http_event("GET", "/v1/auth/status", headers={"X-API-Key": PUBLIC_KEY}), lambda_context)
    assert ok["statusCode"] == 200
    denied = handler(
        http_event("GET", "/v1/auth/status", headers={"X-API-Key": "x"}, request_id="r1"), lambda_context
    )
    assert denied["statusCode"] == 401
    assert_error_shape(response_json(denied), "AUTHENTICATION_ERROR", "r1")
    assert response_json(handler(http_event("GET", "/v1/health"), lambda_context))["status"] == "healthy"
