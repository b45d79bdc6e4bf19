"""boto3 clients: built lazily, once per execution environment, with explicit timeouts.

boto3 is imported here only when a client is first needed, never at cold start.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from textapi_shared.errors import ConfigurationError, ServiceUnavailableError

if TYPE_CHECKING:
    from textapi_shared.config import SharedSettings


@cache
def _client(
    service: str, region: str, endpoint_url: str | None, connect_timeout: float, read_timeout: float
) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": 2, "mode": "standard"},
    )
    return boto3.session.Session().client(
        service, region_name=region, endpoint_url=endpoint_url, config=config
    )


def aws_client(settings: SharedSettings, service: str) -> Any:
    """The cached client for `service`, pointed at `AWS_ENDPOINT_URL` when set (moto in tests)."""
    return _client(
        service,
        settings.aws_region,
        settings.aws_endpoint_url,
        settings.aws_connect_timeout,
        settings.aws_read_timeout,
    )


def aws_error_code(exc: BaseException | None) -> str | None:
    """The AWS error code (`ParameterNotFound`, ...) of a botocore ClientError in `exc`'s chain."""
    while exc is not None:
        response = getattr(exc, "response", None)
        if isinstance(response, dict) and "Error" in response:
            return response["Error"].get("Code")
        exc = exc.__cause__ or exc.__context__
    return None


_PERMANENT_SSM_CODES = frozenset({"ParameterNotFound", "AccessDeniedException", "ValidationException"})


@cache
def _ssm_provider(client: Any) -> Any:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=client)


def read_secure_parameter(
    settings: SharedSettings, name: str, *, force: bool = False, client: Any | None = None
) -> str:
    """A SecureString's value through Powertools Parameters, cached for `SECRETS_CACHE_SECONDS`.

    A parameter that is missing or forbidden is a `ConfigurationError`; anything else (throttling,
    timeouts, an unreachable endpoint) is transient: `ServiceUnavailableError`.
    """
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    provider = _ssm_provider(client or aws_client(settings, "ssm"))
    try:
        value = provider.get(name, decrypt=True, max_age=settings.secrets_cache_seconds, force_fetch=force)
    except GetParameterError as exc:
        if aws_error_code(exc) in _PERMANENT_SSM_CODES:
            raise ConfigurationError(f"The SSM parameter {name} cannot be read.") from exc
        raise ServiceUnavailableError("A secret could not be loaded; retry shortly.", retry_after=5) from exc
    return str(value)
