"""boto3 clients: built lazily, once per execution environment, with explicit timeouts.

boto3 is imported here only when a client is first needed, never at cold start.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

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
