"""The fleet: N separate OS processes, each one Lambda execution environment of both functions (the real
handlers, configured from the environment as in AWS), on one shared store (a real Redis, or DynamoDB on
the moto server) and one fake Gemini server, driven concurrently, one thread per instance.

One fleet per backend for the package's tests (starting it costs the processes' cold starts); each test
uses its own API key and operation, so caches, rate limits and breakers of one scenario never meet
another's. Key records and billed usage live in DynamoDB (moto) on both, as in AWS whatever the cache
backend; each instance caches records for `KEY_CACHE_SECONDS`, short here so a change shows within a test.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from fakes.api_contract import ADMIN_KEY
from fakes.gemini_server import FakeGeminiServer
from fakes.lambda_worker import WorkerProcess
from textapi_shared.security.api_keys import key_hash

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from fakes.api_clients import ApiResponse

INSTANCES = 4
PRIMARY, FALLBACK = "gemini-primary", "gemini-lite"
RATE_LIMIT = 30  # the rate-limit scenario's key: its own per-minute limit (RATE_LIMIT_OVERRIDES)
BREAKER = {"retry_attempts": 1, "circuit_breaker_threshold": 2, "recovery_timeout": 30}
KEY_CACHE_S = 2.0
SCENARIOS = ("texts", "rate", "breaker", "fallback", "batch")


class Fleet:
    """The instances, the fake Gemini they call, an API key per scenario, the breakers' sync interval."""

    def __init__(
        self, backend: str, workers: list[WorkerProcess], gemini: FakeGeminiServer, keys: dict[str, str]
    ) -> None:
        self.backend = backend
        self.workers = workers
        self.gemini = gemini
        self.keys = keys
        self.sync_interval_s = {"redis": 1.0, "dynamodb": 5.0}[backend]
        self._pool = ThreadPoolExecutor(max_workers=len(workers))

    def request(self, instance: int, method: str, path: str, key: str, body: Any = None) -> ApiResponse:
        return self.workers[instance].request(method, path, json_body=body, headers={"X-API-Key": key})

    def process(self, instance: int, key: str, text: str, operation: str = "summarize") -> ApiResponse:
        return self.request(
            instance, "POST", "/v1/text_processing/process", key, {"text": text, "operation": operation}
        )

    def each(self, work: Callable[[int], Any]) -> list[Any]:
        """`work(instance)` on every instance at once; the results in instance order."""
        return list(self._pool.map(work, range(len(self.workers))))

    def admin(self, instance: int, path: str, method: str = "GET", body: Any = None) -> ApiResponse:
        return self.request(instance, method, path, ADMIN_KEY, body)

    def close(self) -> None:
        self._pool.shutdown()
        for worker in self.workers:
            worker.close()


def _clear_resilience_keys(redis_url: str) -> None:
    """Breaker state of earlier runs (fleet-wide by design) must not open this run's breakers."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        doomed = list(client.scan_iter(match="textapi:resilience:*", count=500))
        if doomed:
            client.delete(*doomed)
    finally:
        client.close()


def _dynamodb(request) -> Any:
    import boto3

    endpoint = request.getfixturevalue("moto_endpoint")
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")


def _keys_table(request, patch: pytest.MonkeyPatch) -> dict[str, str]:
    """A keys table on the moto server, and the instances' settings for it: key records and billed usage
    are DynamoDB in AWS whatever the cache backend."""
    from fakes.aws_tables import create_keys_table
    from fakes.services import serialise_moto_writes

    # The moto server runs in this process: its DynamoDB writes (every table's) one at a time, as atomic
    # as DynamoDB's, so budgets are measured on the product's conditional ADDs, not on moto's race.
    serialise_moto_writes(patch)
    table = f"textapi-fleet-keys-{uuid.uuid4().hex[:12]}"
    create_keys_table(_dynamodb(request), table)
    return {
        "KEYS_BACKEND": "dynamodb",
        "KEYS_TABLE_NAME": table,
        "AWS_ENDPOINT_URL": request.getfixturevalue("moto_endpoint"),
        "AWS_READ_TIMEOUT": "10",
    }


@pytest.fixture(scope="package", params=["redis", "dynamodb"])
def fleet(request, tmp_path_factory) -> Iterator[Fleet]:
    keys = {scenario: f"pk-fleet-{scenario}-{uuid.uuid4().hex}" for scenario in SCENARIOS}
    environment = {
        "STAGE": "dev",
        "API_KEY": keys["texts"],
        "ADDITIONAL_API_KEYS": ",".join(keys[s] for s in SCENARIOS[1:]),
        "INTERNAL_API_KEYS": ADMIN_KEY,
        "AI_PROVIDER": "gemini",
        "AI_MODEL": PRIMARY,
        "AI_FALLBACK_MODELS": FALLBACK,
        "RATE_LIMIT_PER_MINUTE": "1000",
        "RATE_LIMIT_OVERRIDES": json.dumps({key_hash(keys["rate"]): RATE_LIMIT}),
        "RESILIENCE_CUSTOM_CONFIG": json.dumps(BREAKER),
        "KEY_CACHE_SECONDS": str(KEY_CACHE_S),
    }
    with pytest.MonkeyPatch.context() as patch:
        environment |= _keys_table(request, patch)
        if request.param == "redis":
            redis_url = request.getfixturevalue("redis_url")
            _clear_resilience_keys(redis_url)
            # Timeouts a busy shared machine cannot trip: a timed-out store call would be granted (lease)
            # or counted in-process (rate limit), which the scenarios would then see.
            environment |= {
                "CACHE_BACKEND": "redis",
                "REDIS_URL": redis_url,
                "REDIS_CLUSTER_MODE": "off",
                "REDIS_CONNECT_TIMEOUT": "2",
                "REDIS_SOCKET_TIMEOUT": "2",
            }
        else:
            from fakes.aws_tables import create_cache_table

            table = f"textapi-fleet-{uuid.uuid4().hex[:12]}"
            create_cache_table(_dynamodb(request), table)
            environment |= {"CACHE_BACKEND": "dynamodb", "CACHE_TABLE_NAME": table}
        with FakeGeminiServer() as gemini:
            environment |= {"GEMINI_API_KEY": gemini.api_key, "GEMINI_BASE_URL": gemini.base_url}
            logs = tmp_path_factory.mktemp(f"fleet-{request.param}")
            workers = [WorkerProcess(environment, logs / f"instance-{n}.log") for n in range(INSTANCES)]
            fleet = Fleet(request.param, workers, gemini, keys)
            try:
                # Cold starts (imports, the first Gemini client) before any scenario's clock starts.
                warm = fleet.each(
                    lambda n: fleet.process(n, keys["batch"], f"Warming up instance {n} of the fleet.")
                )
                assert [r.status_code for r in warm] == [200] * INSTANCES, [r.text for r in warm]
                gemini.reset()
                yield fleet
            finally:
                fleet.close()
