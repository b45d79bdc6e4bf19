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
