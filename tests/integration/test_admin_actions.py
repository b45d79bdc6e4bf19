"""Operator actions report what the shared store really did, through the internal lambda_handler: a
breaker reset, a metrics reset or an invalidation the store did not take is a 503 with `Retry-After`,
never a success; on a working store (here the TLS cluster) each happens fleet-wide and says so."""

from __future__ import annotations

import re
import uuid

import pytest

from fakes.api_clients import LambdaClient
from fakes.api_contract import ADMIN_KEY, PUBLIC_KEY, assert_error_shape
from fakes.services import free_port
from internal_api.config import InternalApiSettings
from internal_api.main import create_app as create_internal_app
from public_api.config import PublicApiSettings
from public_api.main import create_app as create_public_app

ADMIN = {"X-API-Key": ADMIN_KEY}
ACTIONS = [
    ("/internal/resilience/circuit-breakers/summarize/reset", None, "was not reset"),
    ("/internal/resilience/metrics/reset", None, "were not reset"),
    ("/internal/cache/invalidate", {"all": True}, "did not complete|nothing was invalidated"),
    ("/internal/cache/invalidate", {"operation": "summarize"}, "did not complete|nothing was invalidated"),
]


def common(**store) -> dict:
    return {"stage": "dev", "api_key": PUBLIC_KEY, "internal_api_keys": [ADMIN_KEY], **store}


@pytest.fixture(params=["redis", "dynamodb"])
def unusable_store(request):
    """Settings of a shared backend that fails every call: nothing listening, or a missing table."""
    if request.param == "redis":
        return {"cache_backend": "redis", "redis_url": f"redis://127.0.0.1:{free_port()}"}
    return {
        "cache_backend": "dynamodb",
        "cache_table_name": f"textapi-missing-{uuid.uuid4().hex[:8]}",
        "aws_endpoint_url": request.getfixturevalue("moto_endpoint"),
        "cache_failure_threshold": 1,
    }


@pytest.mark.parametrize(("path", "body", "said"), ACTIONS)
def test_an_action_the_store_did_not_take_is_a_503_not_a_success(unusable_store, path, body, said):
    internal = LambdaClient(create_internal_app(InternalApiSettings(**common(**unusable_store))))
    for _ in range(2):  # the first failure, then again while the store cools down: tried, never assumed
        response = internal.request("POST", path, json_body=body, headers=ADMIN)
        assert response.status_code == 503, response.text
        assert_error_shape(response.json(), "SERVICE_UNAVAILABLE")
        assert int(response.headers["retry-after"]) >= 1
        assert re.search(said, response.json()["error"]), response.json()["error"]


def test_on_the_cluster_each_action_happens_for_the_whole_fleet(redis_cluster):
    settings = common(**redis_cluster.settings(), rate_limit_per_minute=10_000)
    public = LambdaClient(create_public_app(PublicApiSettings(**settings)))
    internal = LambdaClient(create_internal_app(InternalApiSettings(**settings)))

    def post(path, body=None):
        response = internal.request("POST", path, json_body=body, headers=ADMIN)
        assert response.status_code == 200, response.text
        return response.json()

    post("/internal/cache/invalidate", {"all": True})  # earlier tests' entries: start from none
    for n in range(6):
        text = f"Note {uuid.uuid4().hex} {n}: the bridge closes for repairs at night next week."
        body = {"text": text, "operation": "summarize" if n % 2 else "sentiment"}
        answered = public.request(
            "POST", "/v1/text_processing/process", json_body=body, headers={"X-API-Key": PUBLIC_KEY}
        )
        assert answered.status_code == 200
    by_operation = post("/internal/cache/invalidate", {"operation": "summarize"})
    assert (by_operation["removed"], by_operation["method"]) == (3, "scan_unlink_every_primary")
    everything = post("/internal/cache/invalidate", {"all": True})
    assert everything["removed"] == 3
    assert "on 3 primaries" in everything["detail"]
    assert post("/internal/resilience/circuit-breakers/summarize/reset")["reset"] is True
    assert post("/internal/resilience/metrics/reset")["reset"] is True
