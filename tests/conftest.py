"""Shared fixtures: real local services (Redis, moto server, fake Gemini) and Lambda plumbing.

Nothing here skips: a service that cannot be reached or started fails the run loudly.
"""

from __future__ import annotations

import os

# Credentials and region for boto3 against the moto server; set before anything imports boto3.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", "us-east-1")

import pytest

from fakes.apigw_events import build_http_event
from fakes.lambda_context import FakeLambdaContext
from fakes.services import moto_server, redis_server


@pytest.fixture(scope="session")
def redis_url():
    """A real Redis: REDIS_URL (default 127.0.0.1:6379) if it answers, else a throwaway redis-server."""
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    """A real three-primary, TLS-only Redis cluster for the whole run (see fakes.redis_cluster)."""
    from fakes.redis_cluster import RedisClusterProcess

    with RedisClusterProcess(tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def moto_endpoint():
    """A moto server on a free loopback port; boto3 reaches it through an explicit endpoint URL."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def fake_gemini():
    """A fresh fake Gemini REST server per test, scriptable and keeping a request log."""
    from fakes.gemini_server import FakeGeminiServer

    with FakeGeminiServer() as server:
        yield server


@pytest.fixture
def lambda_context():
    return FakeLambdaContext()


@pytest.fixture
def http_event():
    """Builder of API Gateway HTTP API (v2) events; see fakes.apigw_events.build_http_event."""
    return build_http_event


@pytest.fixture
def cache_table(moto_endpoint):
    """A fresh DynamoDB table on the moto server, built from template.yaml's `CacheTable`."""
    import uuid

    import boto3

    from fakes.aws_tables import create_cache_table

    name = f"textapi-cache-{uuid.uuid4().hex[:12]}"
    create_cache_table(boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1"), name)
    return name


@pytest.fixture
def jobs_table(moto_endpoint):
    """A fresh DynamoDB table on the moto server, built from template.yaml's `JobsTable`."""
    import uuid

    import boto3

    from fakes.aws_tables import create_jobs_table

    name = f"textapi-jobs-{uuid.uuid4().hex[:12]}"
    create_jobs_table(boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1"), name)
    return name


@pytest.fixture
def keys_table(moto_endpoint):
    """A fresh DynamoDB table on the moto server, built from template.yaml's `KeysTable` (and its index)."""
    import uuid

    import boto3

    from fakes.aws_tables import create_keys_table

    name = f"textapi-keys-{uuid.uuid4().hex[:12]}"
    create_keys_table(boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1"), name)
    return name


@pytest.fixture
def jobs_queue(moto_endpoint):
    """A fresh SQS queue with a dead-letter queue on the moto server (maxReceiveCount 3).

    Visibility timeout 0: a message the handler reports failed is visible again at once, so tests
    redeliver it without waiting (the worker's own back-off is 0 s in these tests too).
    """
    import json
    import uuid

    import boto3

    from fakes.sqs_events import JobsQueue

    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    suffix = uuid.uuid4().hex[:12]
    dead_letters = sqs.create_queue(QueueName=f"textapi-jobs-dlq-{suffix}")["QueueUrl"]
    dead_letters_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dead_letters_arn, "maxReceiveCount": JobsQueue.MAX_RECEIVE_COUNT}
    url = sqs.create_queue(
        QueueName=f"textapi-jobs-{suffix}",
        Attributes={"VisibilityTimeout": "0", "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    return JobsQueue(sqs, url, dead_letters)


@pytest.fixture
def atomic_moto_updates(monkeypatch):
    """DynamoDB writes applied atomically by the moto server, as by DynamoDB (see serialise_moto_writes)."""
    from fakes.services import serialise_moto_writes

    serialise_moto_writes(monkeypatch)
