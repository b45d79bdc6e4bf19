"""Typed settings, read from the environment once per execution environment.

This is the only module that reads the environment. Each function subclasses `SharedSettings`
and exposes a cached getter, so a misconfiguration fails the cold start with a clear message.
"""

import json
import re
from typing import Annotated, Literal, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from textapi_shared import __version__
from textapi_shared.errors import ConfigurationError

PRODUCTION_STAGES = frozenset({"prod", "production"})

CommaList = Annotated[list[str], NoDecode]
# Gemini model ids (also the second half of a breaker's name, `operation@model`).
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def json_object(value: object, example: str) -> object:
    """A JSON object setting given as text (an empty one is `{}`); a clear message with an `example`
    when the text is not JSON."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value or "{}")
    except ValueError:
        raise ValueError(f"must be a JSON object: {example}") from None


def split_list(value: object) -> object:
    """Accept `a,b` or a JSON list; blank items are dropped."""
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else text.split(",")
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return value


class SharedSettings(BaseSettings):
    """Settings both functions share. Field names map to upper-case environment variables."""

    # defer_build: a function instantiates only its subclass, so its cold start builds that schema alone.
    # hide_input_in_errors: a validation error's text (and the traceback of the cold start it fails) must
    # never echo a value such as a key or a password-bearing REDIS_URL.
    model_config = SettingsConfigDict(
        case_sensitive=False,
        extra="ignore",
        frozen=True,
        validate_by_name=True,
        defer_build=True,
        hide_input_in_errors=True,
    )

    stage: str = Field("local", description="Deployment stage; `prod`/`production` never runs open.")
    service_name: str = "textapi"
    version: str = Field(__version__, validation_alias="APP_VERSION")
    debug: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    metrics_namespace: str = "TextApi"
    tracing_enabled: bool = False

    api_key: str = Field("", repr=False)
    additional_api_keys: CommaList = Field([], repr=False)
    internal_api_keys: CommaList = Field([], repr=False)
    api_keys_ssm_parameter: str = ""
    internal_api_keys_ssm_parameter: str = ""
    secrets_cache_seconds: int = Field(300, ge=0, le=86_400)
    # A parameter that could not be read is not asked for again before this (one SSM call per period).
    secrets_retry_seconds: int = Field(30, ge=1, le=3600)

    cors_origins: CommaList = []
    # API Gateway refuses an event over 6 MB (6,000,000 bytes counted conservatively), and the event
    # carries the body base64-encoded (4 characters per 3 bytes) beside headers, cookies and the request
    # context (HTTP API headers are capped at 10 KB; 64 KiB kept for all of it):
    # (6,000,000 - 65,536) x 3/4 = 4,450,848 bytes. The cap, 4 MiB (4,194,304), stays below that, so a
    # body the app can refuse with its own 413 always reaches the app.
    max_request_size: int = Field(2 * 1024 * 1024, ge=1024, le=4 * 1024 * 1024)

    ai_provider: Literal["auto", "gemini", "local"] = "auto"
    gemini_api_key: str = Field("", repr=False)
    gemini_api_key_ssm_parameter: str = ""
    gemini_base_url: str | None = None
    gemini_api_version: str = "v1beta"
    ai_model: str = "gemini-2.5-flash"
    # Tried in order when the model before answers 429/5xx, times out or has its breaker open.
    ai_fallback_models: CommaList = []
    ai_temperature: float = Field(0.7, ge=0.0, le=2.0)
    ai_timeout_seconds: float = Field(25.0, gt=0, le=300)

    cache_backend: Literal["memory", "redis", "dynamodb"] = "memory"
    redis_url: str = Field("redis://127.0.0.1:6379", repr=False)
    redis_connect_timeout: float = Field(0.5, gt=0, le=10)
    redis_socket_timeout: float = Field(0.5, gt=0, le=10)
    # ElastiCache Serverless is cluster-mode only; `auto` asks the server once (INFO cluster).
    redis_cluster_mode: Literal["auto", "on", "off"] = "auto"
    redis_tls_ca_file: str = ""
    redis_username: str = ""
    redis_password: str = Field("", repr=False)
    redis_password_ssm_parameter: str = ""
    # Cache gets only (a stale read there is harmless); counters and breaker state always read primaries.
    redis_read_from_replicas: bool = False
    cache_table_name: str = "textapi-cache"
    cache_default_ttl: int = Field(3600, ge=1, le=30 * 86_400)
    cache_compression_threshold: int = Field(1000, ge=0)
    cache_stale_grace_seconds: int = Field(86_400, ge=0, le=30 * 86_400)
    cache_memory_max_entries: int = Field(1000, ge=1)
    cache_memory_max_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    cache_failure_threshold: int = Field(3, ge=1, le=100)
    cache_cooldown_seconds: float = Field(30.0, ge=0.1, le=3600)
    # `key`: entries are per API key, so no tenant learns from `cache_hit` what another one sent;
    # `shared`: one cache for all keys (more hits, for single-tenant deployments only).
    cache_scope: Literal["key", "shared"] = "key"

    # API keys as records (`/internal/keys`) and billed usage: DynamoDB `KEYS_TABLE_NAME` in AWS, whatever the
    # cache backend; memory for `make run` and tests (per execution environment).
    keys_backend: Literal["memory", "dynamodb"] = "memory"
    keys_table_name: str = "textapi-keys"
    # A change to a key record reaches every instance within this many seconds (the in-process lookup cache).
    key_cache_seconds: float = Field(30.0, ge=0, le=300)
    # {model: {"input_per_million": USD, "output_per_million": USD}}: the estimated cost of billed tokens.
    ai_model_prices: Annotated[dict[str, dict[str, float]], NoDecode] = {}
    # The deployment's callback secret: each key's Standard Webhooks secret is derived from it (the public
    # function signs job callbacks, the internal one shows a new key its secret).
    job_callback_secret: str = Field("", repr=False)
    job_callback_secret_ssm_parameter: str = ""

    resilience_preset: Literal["simple", "development", "production"] = "simple"
    resilience_custom_config: str = ""
    resilience_preset_ssm_parameter: str = ""
    resilience_custom_config_ssm_parameter: str = ""
    resilience_presets_ssm_parameter: str = ""
    resilience_config_max_age: int = Field(60, ge=0, le=3600)

    # Time kept back from the invocation's remaining time so the response still goes out.
    deadline_reserve_seconds: float = Field(1.0, ge=0, le=10)
    # Outside Lambda there is no invocation deadline; this stands in for one.
    local_request_timeout_seconds: float = Field(29.0, gt=0, le=900)

    aws_region: str = Field("us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    aws_endpoint_url: str | None = None
    aws_connect_timeout: float = Field(2.0, gt=0, le=30)
    aws_read_timeout: float = Field(5.0, gt=0, le=60)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Constructor overrides and the environment only: a Lambda has no .env file or secrets directory,
        # and reading for them would only cost cold-start time. Secrets come from SSM (see `aws`).
        return (init_settings, env_settings)

    @field_validator(
        "additional_api_keys", "internal_api_keys", "cors_origins", "ai_fallback_models", mode="before"
    )
    @classmethod
    def _lists(cls, value: object) -> object:
        return split_list(value)

    @field_validator("ai_model_prices", mode="before")
    @classmethod
    def _prices_json(cls, value: object) -> object:
        return json_object(value, '{"<model>": {"input_per_million": 0.3, "output_per_million": 2.5}}')

    @field_validator("ai_model_prices")
    @classmethod
    def _prices(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for model, price in value.items():
            if set(price) != {"input_per_million", "output_per_million"} or min(price.values()) < 0:
                raise ValueError(f"{model!r}: give input_per_million and output_per_million, both >= 0")
        return value

    @field_validator("ai_model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not _MODEL_NAME.fullmatch(value):
            raise ValueError("must be a model name such as gemini-2.5-flash (letters, digits, . _ -)")
        return value

    @field_validator("ai_fallback_models")
    @classmethod
    def _fallback_names(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if not _MODEL_NAME.fullmatch(name)]
        if bad:
            raise ValueError("model names are letters, digits, . _ - (e.g. gemini-2.5-flash-lite)")
        if len(set(value)) != len(value):
            raise ValueError("a model is listed twice")
        return value

    @model_validator(mode="after")
    def _fallbacks_differ_from_the_model(self) -> Self:
        if self.ai_model in self.ai_fallback_models:
            raise ValueError("AI_FALLBACK_MODELS must not repeat AI_MODEL")
        return self

    @field_validator(
        "ai_provider",
        "log_level",
        "cache_backend",
        "keys_backend",
        "cache_scope",
        "resilience_preset",
        "redis_cluster_mode",
        mode="before",
    )
    @classmethod
    def _normalise_case(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "log_level" else value.strip().lower()

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str) -> str:
        return value.strip().lower() or "local"

    @field_validator("api_key", "additional_api_keys", "internal_api_keys")
    @classmethod
    def _presentable_keys(cls, value: str | list[str], info: ValidationInfo) -> str | list[str]:
        keys = [value.strip()] if isinstance(value, str) and value.strip() else value
        bad = unusable_keys(keys) if isinstance(keys, list) else []
        if bad:
            positions = ", ".join(str(i + 1) for i in bad)
            raise ValueError(f"key {positions} can never be presented (whitespace or non-ASCII characters)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str, info: ValidationInfo) -> str:
        """With the Redis backend, a URL the client could not use fails the cold start (never echoed:
        it may carry a password)."""
        if info.data.get("cache_backend") == "redis" and not _usable_redis_url(value):
            raise ValueError(
                "must be redis://[user:password@]host[:port] or rediss://... (TLS), "
                "with a host and a numeric port"
            )
        return value

    @model_validator(mode="after")
    def _redis_credentials(self) -> Self:
        if self.cache_backend != "redis":
            return self
        separate = (self.redis_username, self.redis_password, self.redis_password_ssm_parameter)
        url = urlsplit(self.redis_url.strip())
        if (url.username or url.password) and any(separate):
            raise ValueError(
                "credentials go in REDIS_URL or in REDIS_USERNAME / REDIS_PASSWORD[_SSM_PARAMETER], not both"
            )
        if self.redis_password and self.redis_password_ssm_parameter:
            raise ValueError("set REDIS_PASSWORD or REDIS_PASSWORD_SSM_PARAMETER, not both")
        if self.redis_tls_ca_file and not self.redis_tls:
            raise ValueError("REDIS_TLS_CA_FILE applies to rediss:// only, but REDIS_URL is redis://")
        return self

    @model_validator(mode="after")
    def _no_wildcard_origin_in_production(self) -> Self:
        if self.is_production and "*" in self.cors_origins:
            raise ValueError("CORS_ORIGINS may not contain '*' in a production stage")
        if self.ai_provider == "gemini" and not self.gemini_configured:
            raise ValueError("AI_PROVIDER=gemini needs GEMINI_API_KEY or GEMINI_API_KEY_SSM_PARAMETER")
        return self

    @property
    def redis_tls(self) -> bool:
        return self.redis_url.strip().lower().startswith("rediss://")

    @property
    def job_callbacks_enabled(self) -> bool:
        return bool(self.job_callback_secret or self.job_callback_secret_ssm_parameter)

    @property
    def is_production(self) -> bool:
        return self.stage in PRODUCTION_STAGES

    @property
    def ai_models(self) -> tuple[str, ...]:
        """The models an AI call may use, in order: `AI_MODEL`, then `AI_FALLBACK_MODELS`."""
        return (self.ai_model, *self.ai_fallback_models)

    @property
    def gemini_configured(self) -> bool:
        return bool(self.gemini_api_key or self.gemini_api_key_ssm_parameter)

    @property
    def ssm_parameters(self) -> dict[str, str]:
        """The SSM parameters this function reads, by variable name (empty ones left out)."""
        names = {
            "API_KEYS_SSM_PARAMETER": self.api_keys_ssm_parameter,
            "INTERNAL_API_KEYS_SSM_PARAMETER": self.internal_api_keys_ssm_parameter,
            "GEMINI_API_KEY_SSM_PARAMETER": self.gemini_api_key_ssm_parameter,
            "RESILIENCE_PRESET_SSM_PARAMETER": self.resilience_preset_ssm_parameter,
            "RESILIENCE_CUSTOM_CONFIG_SSM_PARAMETER": self.resilience_custom_config_ssm_parameter,
            "RESILIENCE_PRESETS_SSM_PARAMETER": self.resilience_presets_ssm_parameter,
        }
        return {variable: name for variable, name in names.items() if name}

    @property
    def public_keys_from_env(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(k for k in (self.api_key.strip(), *self.additional_api_keys) if k))


def unusable_keys(keys: list[str]) -> list[int]:
    """Positions of keys no request could ever present: empty, non-ASCII, or holding whitespace or
    control characters (a header value is stripped, and such keys are almost always a paste error)."""
    return [
        index
        for index, key in enumerate(keys)
        if not key or not key.isascii() or not key.isprintable() or any(c.isspace() for c in key)
    ]


def _usable_redis_url(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError when not a number in range
    except ValueError:
        return False
    return parts.scheme.lower() in ("redis", "rediss") and bool(parts.hostname) and port != 0


SettingsT = TypeVar("SettingsT", bound=SharedSettings)


def require_installed(module: str, distribution: str, variables: str) -> None:
    """Fail the cold start when the settings choose a backend whose package this deployment lacks.

    Looks the module up without importing it, so the check costs no import time.
    """
    from importlib.util import find_spec

    try:
        found = find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing too
        found = False
    if not found:
        raise ConfigurationError(
            f"The settings ({variables}) need the {distribution} package, which is not installed in "
            "this deployment: add it to layers/shared/requirements.txt."
        )


def load_settings(cls: type[SettingsT], **overrides: object) -> SettingsT:
    """Build settings, turning pydantic's error into one readable `ConfigurationError`."""
    from pydantic import ValidationError

    try:
        return cls(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"Invalid configuration: {problems}") from exc
