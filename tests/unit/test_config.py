"""Settings: typed, validated at cold start, one readable error for every bad variable."""

from __future__ import annotations

import pytest

from internal_api.config import InternalApiSettings
from public_api.config import PublicApiSettings
from textapi_shared.config import load_settings
from textapi_shared.errors import ConfigurationError


def test_lists_accept_commas_and_json():
    settings = PublicApiSettings(additional_api_keys="a, b,, c", cors_origins='["https://x.example"]')
    assert settings.additional_api_keys == ["a", "b", "c"]
    assert settings.cors_origins == ["https://x.example"]


def test_public_keys_merge_primary_and_additional_without_duplicates():
    settings = PublicApiSettings(api_key="k1", additional_api_keys=["k2", "k1", " "])
    assert settings.public_keys_from_env == ("k1", "k2")


def test_invalid_values_fail_with_one_readable_message():
    with pytest.raises(ConfigurationError) as caught:
        load_settings(PublicApiSettings, max_request_size="big", log_level="chatty")
    message = caught.value.message
    assert "MAX_REQUEST_SIZE" in message
    assert "LOG_LEVEL" in message


def test_wildcard_cors_is_refused_in_production():
    with pytest.raises(ConfigurationError, match="CORS_ORIGINS"):
        load_settings(PublicApiSettings, stage="prod", cors_origins=["*"])


def test_stage_is_normalised_and_production_detected():
    assert PublicApiSettings(stage=" PROD ").is_production
    assert not PublicApiSettings(stage="dev").is_production


def test_keys_never_appear_in_repr():
    settings = InternalApiSettings(api_key="hunter2-public", internal_api_keys=["hunter2-admin"])
    assert "hunter2" not in repr(settings)


def test_each_function_names_its_service():
    assert PublicApiSettings().service_name == "textapi-public"
    assert InternalApiSettings().service_name == "textapi-internal"


def test_max_request_size_is_capped_below_lambdas_event_limit():
    """Over 4 MiB the base64-encoded event could pass 6 MB before the app could answer 413."""
    from public_api.config import PublicApiSettings
    from textapi_shared.config import load_settings
    from textapi_shared.errors import ConfigurationError

    assert load_settings(PublicApiSettings, max_request_size=4 * 1024 * 1024).max_request_size == 4_194_304
    with pytest.raises(ConfigurationError, match="MAX_REQUEST_SIZE"):
        load_settings(PublicApiSettings, max_request_size=4 * 1024 * 1024 + 1)


@pytest.mark.parametrize(("value", "scope"), [("key", "key"), ("SHARED", "shared")])
def test_cache_scope_is_key_by_default_and_shared_only_when_asked(value, scope):
    from public_api.config import PublicApiSettings
    from textapi_shared.config import load_settings

    assert load_settings(PublicApiSettings).cache_scope == "key"
    assert load_settings(PublicApiSettings, cache_scope=value).cache_scope == scope


@pytest.mark.parametrize(
    "url",
    [
        "http://cache.example:6379",
        "rediss://user:hunter2-redis@cache.example:99999",
        "redis://:hunter2-redis@",
        "cache.example:6379",
        "rediss://user:hunter2-redis@cache.example:port",
    ],
)
def test_an_unusable_redis_url_fails_the_cold_start_without_echoing_it(url):
    with pytest.raises(ConfigurationError) as caught:
        load_settings(PublicApiSettings, cache_backend="redis", redis_url=url)
    assert caught.value.message.startswith("Invalid configuration: REDIS_URL: ")
    assert "hunter2" not in caught.value.message
    assert "hunter2" not in str(caught.value.__cause__)  # nor the chained pydantic error in the traceback
    assert "cache.example" not in caught.value.message


def test_redis_url_is_checked_only_when_redis_is_the_backend():
    assert load_settings(PublicApiSettings, cache_backend="dynamodb", redis_url="").redis_url == ""
    tls = load_settings(PublicApiSettings, cache_backend="redis", redis_url="rediss://cache.example:6380")
    assert tls.redis_tls
    assert not load_settings(PublicApiSettings, cache_backend="redis", redis_url="redis://[::1]").redis_tls


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"redis_url": "rediss://app:pw@cache.example", "redis_username": "app"}, "REDIS_URL"),
        ({"redis_password": "pw", "redis_password_ssm_parameter": "/textapi/redis"}, "REDIS_PASSWORD_SSM"),
        ({"redis_url": "redis://cache.example", "redis_tls_ca_file": "/ca.pem"}, "REDIS_TLS_CA_FILE"),
        ({"redis_cluster_mode": "sometimes"}, "REDIS_CLUSTER_MODE"),
    ],
)
def test_contradictory_redis_settings_fail_with_the_variables_named(overrides, named):
    with pytest.raises(ConfigurationError, match=named):
        load_settings(PublicApiSettings, cache_backend="redis", **overrides)


def test_redis_cluster_mode_is_case_insensitive_and_defaults_to_asking_the_server():
    assert PublicApiSettings().redis_cluster_mode == "auto"
    assert PublicApiSettings(redis_cluster_mode=" ON ").redis_cluster_mode == "on"
