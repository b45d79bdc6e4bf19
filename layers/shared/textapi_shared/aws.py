"""boto3 clients: built lazily, once per execution environment, with explicit timeouts.

boto3 is imported here only when a client is first needed, never at cold start.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from textapi_shared.errors import ServiceUnavailableError
from textapi_shared.monitoring.metric_names import MetricName

if TYPE_CHECKING:
    from collections.abc import Callable

    from textapi_shared.config import SharedSettings
    from textapi_shared.monitoring.observability import Observability


# botocore writes every request's parameters and every response's body at DEBUG: user text (job items on
# their way to SQS, texts sent to Comprehend for names) and secrets (SSM SecureStrings). With LOG_LEVEL=DEBUG
# Lambda's log filter lets DEBUG through, so these two are held at INFO; botocore's other DEBUG lines stay.
_WIRE_LOGGERS = ("botocore.endpoint", "botocore.parsers")


@cache
def _client(
    service: str, region: str, endpoint_url: str | None, connect_timeout: float, read_timeout: float
) -> Any:
    import boto3
    from botocore.config import Config

    for name in _WIRE_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
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


_BATCH_GET_KEYS = 100  # DynamoDB's limit per BatchGetItem
_BATCH_ATTEMPTS = 5
# Where a batch operation's response holds the requests DynamoDB did not process (to send again).
_UNPROCESSED = {"batch_get_item": "UnprocessedKeys", "batch_write_item": "UnprocessedItems"}


class DynamoDBTable:
    """One DynamoDB table through the low-level client. Every call runs in a worker thread, and so does
    the client's first build (boto3's import and session take tens of milliseconds the event loop must
    not wait for); `client` is an injected one, else the execution environment's."""

    __slots__ = ("_client", "_settings", "name")

    def __init__(self, settings: SharedSettings, name: str, client: Any | None = None) -> None:
        self._settings = settings
        self.name = name
        self._client = client

    async def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """`method` (put_item, query, ...) on this table."""
        return await asyncio.to_thread(self._invoke, method, {"TableName": self.name, **kwargs})

    async def call_batch(self, method: str, request_items: dict[str, Any]) -> list[dict[str, Any]]:
        """A batch operation (`RequestItems`, keyed by table name), with what DynamoDB leaves unprocessed
        sent again after a short back-off: the response of every attempt."""
        leftover = _UNPROCESSED[method]
        responses: list[dict[str, Any]] = []
        for attempt in range(_BATCH_ATTEMPTS):
            response = await asyncio.to_thread(self._invoke, method, {"RequestItems": request_items})
            responses.append(response)
            request_items = response.get(leftover) or {}
            if not request_items:
                return responses
            await asyncio.sleep(0.02 * 2**attempt)
        raise RuntimeError(f"DynamoDB left items unprocessed after {_BATCH_ATTEMPTS} attempts ({method})")

    async def batch_get(
        self, keys: list[dict[str, Any]], *, projection: str, names: dict[str, str]
    ) -> list[dict[str, Any]]:
        """The items at `keys` (consistent reads; missing ones are absent), 100 keys a request."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), _BATCH_GET_KEYS):
            request = {
                self.name: {
                    "Keys": keys[start : start + _BATCH_GET_KEYS],
                    "ConsistentRead": True,
                    "ProjectionExpression": projection,
                    "ExpressionAttributeNames": names,
                }
            }
            for response in await self.call_batch("batch_get_item", request):
                found.extend(response.get("Responses", {}).get(self.name, []))
        return found

    async def items_by_pk(
        self, pks: list[str], *, projection: str, names: dict[str, str]
    ) -> dict[str, dict[str, Any]]:
        """`batch_get` for a table keyed by `pk` alone: the items found, by pk."""
        keys = [{"pk": {"S": pk}} for pk in dict.fromkeys(pks)]
        items = await self.batch_get(keys, projection=projection, names=names)
        return {item["pk"]["S"]: item for item in items}

    def _invoke(self, method: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        client = self._client if self._client is not None else aws_client(self._settings, "dynamodb")
        return getattr(client, method)(**kwargs)


def aws_error_code(exc: BaseException | None) -> str | None:
    """The AWS error code (`ParameterNotFound`, ...) of a botocore ClientError in `exc`'s chain."""
    while exc is not None:
        response = getattr(exc, "response", None)
        if isinstance(response, dict) and "Error" in response:
            return response["Error"].get("Code")
        exc = exc.__cause__ or exc.__context__
    return None


class SecretUnavailableError(ServiceUnavailableError):
    """A secret that cannot be read now. Clients get a generic 503; the parameter's name and the reason
    are in `parameter` and `reason`, for the log line and the admin health check only."""

    default_message = "The service cannot read its credentials right now; retry shortly."

    def __init__(self, parameter: str, reason: str, *, retry_after: float) -> None:
        super().__init__(retry_after=math.ceil(max(1.0, retry_after)))
        self.parameter = parameter
        self.reason = reason


# SSM's answer that the parameter does not exist: a deletion is meant, so its last value is not kept.
_GONE = frozenset({"ParameterNotFound"})


class _Failure(NamedTuple):
    until: float
    reason: str


@cache
def _ssm_provider(client: Any) -> Any:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=client)


class SecureParameters:
    """SecureString values through Powertools Parameters, one reader per execution environment.

    A value is cached for `SECRETS_CACHE_SECONDS`. When it is read again and that read fails (SSM
    throttling, an outage, a grant or key that stopped working), the last value read stays in use: a WARN
    log line names the parameter and the reason, `SecretRefreshFailed` is counted, and SSM is asked again
    after `SECRETS_RETRY_SECONDS`. A parameter never read, or deleted since (SSM says it does not exist:
    deliberate, not a failure to read), fails closed: `SecretUnavailableError` (503, generic message), the
    failure kept for `SECRETS_RETRY_SECONDS`, so a missing parameter costs one SSM call (and one ERROR log
    line naming it) per period, not one per request. Blocking: call it from a worker thread on the
    request path.
    """

    def __init__(
        self,
        settings: SharedSettings,
        *,
        client: Any | None = None,
        logger: Any | None = None,
        metrics: Observability | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._client = client
        self._logger = logger or logging.getLogger("textapi.secrets")
        self._metrics = metrics
        self._clock = clock
        self._failures: dict[str, _Failure] = {}
        self._last_read: dict[str, str] = {}  # the value of each parameter's last successful read

    def get(self, name: str, *, force: bool = False) -> str:
        """The parameter's value; `force` reads SSM now (the admin health check)."""
        failure = self._failures.get(name)
        if failure is not None and not force and self._clock() < failure.until:
            if name in self._last_read:
                return self._last_read[name]
            raise self._error(name, failure)
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        provider = _ssm_provider(self._client or aws_client(self._settings, "ssm"))
        try:
            value = provider.get(
                name, decrypt=True, max_age=self._settings.secrets_cache_seconds, force_fetch=force
            )
        except GetParameterError as exc:
            code = aws_error_code(exc)
            reason = code or f"SSM unreachable ({type(exc.__cause__ or exc).__name__})"
            retry_s = self._settings.secrets_retry_seconds
            failure = self._failures[name] = _Failure(self._clock() + retry_s, reason)
            extra = {"parameter": name, "reason": reason, "retry_in_s": retry_s}
            if code in _GONE:
                self._last_read.pop(name, None)
            if name in self._last_read:
                self._logger.warning(
                    "secure parameter cannot be read again; its last value stays in use", extra=extra
                )
                if self._metrics is not None:
                    self._metrics.count(MetricName.SECRET_REFRESH_FAILED)
                return self._last_read[name]
            self._logger.error("secure parameter cannot be read", extra=extra)
            raise self._error(name, failure) from exc
        self._failures.pop(name, None)
        self._last_read[name] = value = str(value)
        return value

    def failure(self, name: str) -> str | None:
        """Why `name` could not be read at the last attempt, while that result is kept (also while its
        last value stays in use)."""
        failure = self._failures.get(name)
        return failure.reason if failure is not None and self._clock() < failure.until else None

    def _error(self, name: str, failure: _Failure) -> SecretUnavailableError:
        return SecretUnavailableError(name, failure.reason, retry_after=failure.until - self._clock())
