"""Key extraction and checks, with keys from the environment (SSM is in tests/integration)."""

from __future__ import annotations

import asyncio

import pytest

from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY
from public_api.config import PublicApiSettings
from textapi_shared.errors import AuthenticationError, AuthorizationError, ConfigurationError
from textapi_shared.security.api_keys import ApiKeyAuthenticator, key_hash, presented_key


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"authorization": "Bearer abc"}, "abc"),
        ({"authorization": "bearer   abc  "}, "abc"),
        ({"x-api-key": " abc "}, "abc"),
        ({"authorization": "Basic abc", "x-api-key": "xyz"}, "xyz"),
        ({"authorization": "Bearer "}, None),
        ({}, None),
    ],
)
def test_presented_key_reads_bearer_or_x_api_key(headers, expected):
    assert presented_key(headers) == expected


def test_key_hash_is_short_and_stable():
    assert key_hash("abc") == key_hash("abc")
    assert len(key_hash("abc")) == 16
    assert "abc" not in key_hash("abc")


def authenticator(**overrides) -> ApiKeyAuthenticator:
    values = {"stage": "dev", "api_key": PUBLIC_KEY, "internal_api_keys": [ADMIN_KEY], **overrides}
    return ApiKeyAuthenticator(PublicApiSettings(**values))


def test_public_key_is_accepted_and_labelled_by_hash():
    principal = asyncio.run(authenticator().authenticate_public({"x-api-key": PUBLIC_KEY}))
    assert principal.key_hash == key_hash(PUBLIC_KEY)
    assert principal.key_prefix == PUBLIC_KEY[:8] + "..."
    assert not principal.is_admin


def test_optional_auth_lets_anonymous_through_but_not_wrong_keys():
    checker = authenticator()
    assert asyncio.run(checker.authenticate_public({}, required=False)) is None
    with pytest.raises(AuthenticationError):
        asyncio.run(checker.authenticate_public({"x-api-key": "nope"}, required=False))


def test_admin_endpoint_tells_public_key_from_unknown_key():
    checker = authenticator()
    assert asyncio.run(checker.authenticate_admin({"x-api-key": ADMIN_KEY})).is_admin
    with pytest.raises(AuthorizationError):
        asyncio.run(checker.authenticate_admin({"x-api-key": PUBLIC_KEY}))
    with pytest.raises(AuthenticationError):
        asyncio.run(checker.authenticate_admin({"x-api-key": "unknown"}))


def test_open_mode_warns_once_and_only_outside_production():
    warnings: list[str] = []
    checker = ApiKeyAuthenticator(PublicApiSettings(stage="dev"), on_open=warnings.append)
    assert asyncio.run(checker.authenticate_public({})).open_access
    assert asyncio.run(checker.authenticate_public({})).open_access
    assert warnings == ["API"]
    with pytest.raises(ConfigurationError):
        asyncio.run(ApiKeyAuthenticator(PublicApiSettings(stage="production")).authenticate_public({}))
