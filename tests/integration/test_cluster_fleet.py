"""The fleet on the three-primary TLS cluster: two OS processes, each one execution environment of both
functions (configured from the environment, cluster mode detected by itself), share one breaker state,
one set of rate-limit counters and one set of fleet metrics."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from fakes.api_contract import ADMIN_KEY
from fakes.gemini_server import Fail, Reply
from fakes.lambda_worker import WorkerProcess

TEXT = "The tram line to the university opens in spring, with a stop every four hundred metres."
RECOVERY_S = 30  # long enough that only a reset, not the recovery timeout, can close the breaker


@pytest.fixture
def fleet(redis_cluster, fake_gemini, tmp_path):
    """Two worker processes ("instances") on the cluster, with two public keys of this test alone."""
    inspector = redis_cluster.client()
    for pattern in ("textapi:counter:textapi:stats:*", "textapi:resilience:*"):  # fleet figures start at 0
        doomed = list(inspector.scan_iter(match=pattern, count=500))
        if doomed:
            inspector.delete(*doomed)
    inspector.close()
    public_key, second_key = f"pk-fleet-{uuid.uuid4().hex}", f"pk-fleet-{uuid.uuid4().hex}"
    environment = {
        **redis_cluster.environment(),
        "STAGE": "dev",
        "API_KEY": public_key,
        "ADDITIONAL_API_KEYS": second_key,
        "INTERNAL_API_KEYS": ADMIN_KEY,
        "AI_PROVIDER": "gemini",
        "GEMINI_API_KEY": fake_gemini.api_key,
        "GEMINI_BASE_URL": fake_gemini.base_url,
        "RATE_LIMIT_PER_MINUTE": "8",
        "RESILIENCE_CUSTOM_CONFIG": json.dumps(
            {"retry_attempts": 1, "circuit_breaker_threshold": 2, "recovery_timeout": RECOVERY_S}
        ),
    }
    workers = [WorkerProcess(environment, tmp_path / f"instance-{name}.log") for name in "ab"]
    try:
        yield (public_key, second_key), workers
    finally:
        for worker in workers:
            worker.close()


def process(worker, key, n):
    body = {"text": f"{TEXT} Note {n}.", "operation": "summarize"}
    return worker.request("POST", "/v1/text_processing/process", json_body=body, headers={"X-API-Key": key})


def admin(worker, method, path):
    return worker.request(method, path, headers={"X-API-Key": ADMIN_KEY})


def wait_for_a_quiet_minute(needed_s: float = 5.0) -> None:
    """Rate limits count per clock minute: do not let a count straddle two windows."""
    left = 60 - time.time() % 60
    if left < needed_s:
        time.sleep(left + 0.05)


def test_two_processes_share_breakers_rate_limits_and_fleet_metrics(fleet, fake_gemini):
    (key, second_key), (a, b) = fleet
    fake_gemini.default = Reply(text="A summary of the tram line.")
    assert process(b, key, 0).status_code == 200  # b is warm: its breaker closed, synced

    # A breaker opened through a is open for b.
    fake_gemini.default = Fail(503)
    assert [process(a, key, n).status_code for n in (1, 2)] == [503, 503]  # threshold 2
    view = admin(b, "GET", "/internal/resilience/circuit-breakers/summarize").json()
    assert (view["state"], view["fleet_wide"]) == ("open", True)
    first, second = process(b, key, 3), process(b, key, 4)  # b adopts it by its first call at the latest
    sent = fake_gemini.request_count
    assert second.status_code == 503
    assert second.json()["details"] == {"circuit_breaker": "open", "operation": "summarize"}
    assert process(b, key, 5).json()["details"]["circuit_breaker"] == "open"
    assert fake_gemini.request_count == sent  # refused without reaching the upstream
    assert first.status_code == 503

    # A reset through b closes it for a, well within a's recovery timeout.
    reset = admin(b, "POST", "/internal/resilience/circuit-breakers/summarize/reset")
    assert (reset.status_code, reset.json()["reset"]) == (200, True)
    fake_gemini.default = Reply(text="A summary of the tram line.")
    time.sleep(1.05)  # one sync interval (the Redis store's 1 s): a's next call pulls the shared state
    assert process(a, key, 6).status_code == 200
    assert admin(a, "GET", "/internal/resilience/circuit-breakers/summarize").json()["state"] == "closed"

    # Rate-limit counters are shared: a key's 8 a minute, counted across both processes.
    wait_for_a_quiet_minute()
    answers = [process(worker, second_key, 10 + n) for n, worker in enumerate([a, b] * 4)]
    assert [answer.status_code for answer in answers] == [200] * 8
    assert [int(answer.headers["x-ratelimit-remaining"]) for answer in answers] == [7, 6, 5, 4, 3, 2, 1, 0]
    limited = [process(worker, second_key, 20) for worker in (a, b)]
    assert [answer.status_code for answer in limited] == [429, 429]
    assert limited[1].json()["error_code"] == "RATE_LIMIT_EXCEEDED"

    # Fleet metrics: non-zero and the same from either process.
    views = {
        path: [admin(worker, "GET", path).json() for worker in (a, b)]
        for path in (
            "/internal/monitoring/metrics",
            "/internal/cache/metrics",
            "/internal/resilience/metrics",
        )
    }
    for path, (from_a, from_b) in views.items():
        from_a.pop("timestamp", None), from_b.pop("timestamp", None)
        assert from_a == from_b, path
    monitoring = views["/internal/monitoring/metrics"][0]
    assert monitoring["scope"] == "fleet"
    summarize = monitoring["operations"]["summarize"]
    assert summarize["requests"] >= 15  # 7 with the first key, 8 with the second (the 429s may not count)
    assert summarize["server_errors"] == 5  # the upstream's two failures, b's first call, two refusals
    assert views["/internal/cache/metrics"][0]["operations"]["summarize"]["misses"] >= 10
    assert views["/internal/resilience/metrics"][0]["scope"] == "fleet"
