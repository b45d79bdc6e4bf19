"""A secret that was read once and cannot be read again (SSM throttled, unreachable, a grant that stopped
working) keeps serving its last value, with a WARN line and a metric; only a parameter never read, or one
SSM says no longer exists, fails closed. SSM here is a moto server of the test's own, stopped mid-test:
the read then fails as an outage does, with a connection error."""

from __future__ import annotations

import io
import json
import logging
import uuid
from contextlib import ExitStack, redirect_stdout

import boto3
import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import PUBLIC_KEY
from fakes.services import moto_server
from public_api.config import PublicApiSettings
from public_api.main import create_app
from textapi_shared.aws import SecretUnavailableError, SecureParameters
from textapi_shared.monitoring.metric_names import MetricName
from textapi_shared.monitoring.observability import build_observability


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def ssm_outage():
    """`(endpoint, stop)`: a moto server holding a fresh key parameter, and a way to take it down."""
    with ExitStack() as stack:
        endpoint = stack.enter_context(moto_server())
        name = f"/textapi-{uuid.uuid4().hex[:8]}/api-keys"
        ssm = boto3.client("ssm", endpoint_url=endpoint, region_name="us-east-1")
        ssm.put_parameter(Name=name, Value=PUBLIC_KEY, Type="SecureString")
        yield endpoint, name, stack.close


def settings_for(endpoint: str, name: str, **overrides: object) -> PublicApiSettings:
    # Cache age 0: every read asks SSM, so the second read is the one that meets the outage.
    values = {
        "stage": "prod",
        "ai_provider": "local",
        "aws_endpoint_url": endpoint,
        "api_keys_ssm_parameter": name,
        "secrets_cache_seconds": 0,
        "aws_connect_timeout": 0.5,
        "aws_read_timeout": 0.5,
        **overrides,
    }
    return PublicApiSettings(**values)


def test_a_failed_re_read_keeps_the_last_value_with_a_warning_and_a_metric(ssm_outage):
    endpoint, name, stop = ssm_outage
    settings = settings_for(endpoint, name)
    observability = build_observability(settings)
    records = _Records()
    logger = logging.getLogger(f"test.secrets.{uuid.uuid4().hex}")
    logger.addHandler(records)
    secrets = SecureParameters(settings, logger=logger, metrics=observability)
    assert secrets.get(name) == PUBLIC_KEY
    stop()
    assert secrets.get(name) == PUBLIC_KEY, "the last value read, not a 503"
    assert secrets.get(name) == PUBLIC_KEY, "and within the retry period without asking SSM"
    [warning] = records.records
    assert warning.levelno == logging.WARNING
    assert warning.parameter == name
    assert warning.reason.startswith("SSM unreachable")
    assert secrets.failure(name) == warning.reason
    out = io.StringIO()
    with redirect_stdout(out):
        observability.flush_metrics()
    [document] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert document[MetricName.SECRET_REFRESH_FAILED] == 1, "counted once per failed read, not per use"
    assert document["service"] == settings.service_name


def test_a_parameter_never_read_still_fails_closed(ssm_outage):
    endpoint, name, stop = ssm_outage
    stop()
    secrets = SecureParameters(settings_for(endpoint, name))
    with pytest.raises(SecretUnavailableError) as caught:
        secrets.get(name)
    assert caught.value.reason.startswith("SSM unreachable")


def test_a_deleted_parameter_is_not_served_from_memory(moto_endpoint):
    """Deleting a key parameter is deliberate (no key may be used): it fails closed at once."""
    name = f"/textapi-{uuid.uuid4().hex[:8]}/api-keys"
    ssm = boto3.client("ssm", endpoint_url=moto_endpoint, region_name="us-east-1")
    ssm.put_parameter(Name=name, Value=PUBLIC_KEY, Type="SecureString")
    secrets = SecureParameters(settings_for(moto_endpoint, name))
    assert secrets.get(name) == PUBLIC_KEY
    ssm.delete_parameter(Name=name)
    with pytest.raises(SecretUnavailableError) as caught:
        secrets.get(name)
    assert caught.value.reason == "ParameterNotFound"


def test_the_api_keeps_answering_with_the_last_keys_through_an_ssm_outage(ssm_outage, capsys, caplog):
    endpoint, name, stop = ssm_outage
    client = LambdaClient(create_app(settings_for(endpoint, name)))
    auth = {"X-API-Key": PUBLIC_KEY}
    assert client.request("GET", "/v1/auth/status", headers=auth).status_code == 200
    stop()
    capsys.readouterr()
    during = [client.request("GET", "/v1/auth/status", headers=auth).status_code for _ in range(3)]
    assert during == [200, 200, 200], "keys already read keep working; nothing answers 503"
    warnings = [r for r in caplog.records if r.getMessage().startswith("secure parameter cannot")]
    assert [(r.levelno, r.parameter) for r in warnings] == [(logging.WARNING, name)]
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert sum(document.get(MetricName.SECRET_REFRESH_FAILED, 0) for document in documents) == 1
