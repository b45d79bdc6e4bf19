"""Lambda handlers built exactly as each `main.py` builds them, with settings chosen per test."""

from __future__ import annotations

import pytest

from fakes.api_clients import AsgiClient, LambdaClient
from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY, SECOND_PUBLIC_KEY
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from public_api.config import PublicApiSettings
from public_api.main import create_app as create_public_app
from textapi_shared.web.lambda_handler import build_lambda_handler

KEYED = {
    "stage": "dev",
    "api_key": PUBLIC_KEY,
    "additional_api_keys": [SECOND_PUBLIC_KEY],
    "internal_api_keys": [ADMIN_KEY],
}


def _handler_factory(create_app, settings_class):
    def build(**overrides):
        app = create_app(settings_class(**{**KEYED, **overrides}))
        return build_lambda_handler(app, app.state.services.observability)

    return build


@pytest.fixture
def public_handler():
    """`public_handler(**settings)` → the real lambda_handler of the public function."""
    return _handler_factory(create_public_app, PublicApiSettings)


@pytest.fixture
def internal_handler():
    return _handler_factory(create_internal_app, InternalApiSettings)


@pytest.fixture(params=["testclient", "lambda"])
def public_api_client(request):
    """`public_api_client(**settings)` → a client of the public app through TestClient or lambda_handler."""
    door = {"testclient": AsgiClient, "lambda": LambdaClient}[request.param]

    def build(timeout_ms: int = 29_000, **overrides):
        app = create_public_app(PublicApiSettings(**{**KEYED, **overrides}))
        return door(app) if door is AsgiClient else LambdaClient(app, timeout_ms=timeout_ms)

    return build


@pytest.fixture
def deployment():
    """`deployment(**settings)` → both functions' lambda_handlers on shared key, usage and fleet stores
    (see fakes.tenants.Deployment)."""
    from fakes.tenants import Deployment

    return Deployment


@pytest.fixture
def gemini_deployment(fake_gemini):
    """`gemini_deployment(**settings)` → a `Deployment` whose public function calls the fake Gemini."""
    from fakes.tenants import Deployment, gemini_settings

    def build(*, public: dict | None = None, **shared: object) -> Deployment:
        return Deployment(public=gemini_settings(fake_gemini, **(public or {})), **shared)

    return build


@pytest.fixture
def keys_table(moto_endpoint):
    """A fresh keys table on the moto server, as template.yaml's `KeysTable` declares it: its name and a
    DynamoDB client."""
    import uuid

    import boto3

    from fakes.aws_tables import create_keys_table

    client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    name = f"textapi-keys-{uuid.uuid4().hex[:12]}"
    create_keys_table(client, name)
    return name, client


@pytest.fixture(params=["memory", "dynamodb"])
def keys_backend(request):
    """The settings of the key-record and usage stores: in memory, or DynamoDB on the moto server (a fresh
    keys table; writes atomic, as DynamoDB applies them)."""
    if request.param == "memory":
        return {"keys_backend": "memory"}
    request.getfixturevalue("atomic_moto_updates")
    name, _ = request.getfixturevalue("keys_table")
    endpoint = request.getfixturevalue("moto_endpoint")
    return {"keys_backend": "dynamodb", "keys_table_name": name, "aws_endpoint_url": endpoint}
