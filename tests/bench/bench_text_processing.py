"""`make bench` (text processing): warm `process` latency through lambda_handler with the local
provider next to the bare FastAPI+Mangum handler, and a 20-item batch against the fake Gemini server
(200 ms per call, concurrency 5) as a ratio to the ideal 4 × 200 ms."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for folder in ("layers/shared", "functions/public_api", "infra/local", "tests", "tests/bench"):
    sys.path.insert(0, str(ROOT / folder))

import baseline_app  # noqa: E402
from targets import Target, finish, report_stream  # noqa: E402

from fakes.apigw_events import build_http_event  # noqa: E402
from fakes.gemini_server import Delay, FakeGeminiServer, Reply  # noqa: E402
from fakes.lambda_context import FakeLambdaContext  # noqa: E402
from public_api.config import PublicApiSettings  # noqa: E402
from public_api.main import create_app  # noqa: E402
from textapi_shared.web.lambda_handler import build_lambda_handler  # noqa: E402

KEY = "bench-key-0123456789"
TEXT = (
    "Serverless platforms bill per request and scale to zero when idle. Cold starts are the price of that "
    "elasticity, so teams keep their handlers small and import heavy libraries lazily. "
) * 4


def handler_for(settings: PublicApiSettings):
    app = create_app(settings)
    return build_lambda_handler(app, app.state.services.observability)


def median_us(call, rounds: int) -> float:
    for _ in range(20):
        call()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def bench_process(rounds: int) -> list[str]:
    context = FakeLambdaContext()
    handler = handler_for(
        PublicApiSettings(stage="dev", api_key=KEY, ai_provider="local", rate_limit_per_minute=10**5)
    )
    body = json.dumps({"text": TEXT, "operation": "sentiment"}).encode()
    # no-cache: measure the operation itself, not a cache hit
    headers = {"x-api-key": KEY, "cache-control": "no-cache"}

    def process() -> None:
        response = handler(
            build_http_event("POST", "/v1/text_processing/process", headers=headers, body=body), context
        )
        assert response["statusCode"] == 200, response

    def baseline() -> None:
        assert (
            baseline_app.lambda_handler(build_http_event("GET", "/v1/health"), context)["statusCode"] == 200
        )

    base, ours = median_us(baseline, rounds), median_us(process, rounds)
    return [
        f"warm process (sentiment, local, {len(TEXT)} chars) via lambda_handler: "
        f"{ours:8.0f} µs  ratio {ours / base:.2f}",
        f"warm bare FastAPI+Mangum hello handler:                      {base:8.0f} µs",
    ]


def bench_batch(repeats: int) -> tuple[list[str], list[Target]]:
    with FakeGeminiServer() as gemini:
        gemini.default = Delay(
            0.2, then=Reply(json={"sentiment": "neutral", "confidence": 0.5, "explanation": "x"})
        )
        settings = PublicApiSettings(
            stage="dev",
            api_key=KEY,
            ai_provider="gemini",
            gemini_api_key=gemini.api_key,
            gemini_base_url=gemini.base_url,
            batch_ai_concurrency_limit=5,
            rate_limit_per_minute=10**5,
        )
        handler = handler_for(settings)
        runs = iter(range(1000))

        def run() -> float:
            # Distinct texts on every run, so each call reaches the fake Gemini server (no cache hits).
            batch = next(runs)
            items = [{"text": f"{TEXT} Run {batch} item {i}.", "operation": "sentiment"} for i in range(20)]
            body = json.dumps({"requests": items}).encode()
            event = build_http_event(
                "POST", "/v1/text_processing/batch_process", headers={"x-api-key": KEY}, body=body
            )
            started = time.perf_counter()
            response = handler(event, FakeLambdaContext())
            elapsed = time.perf_counter() - started
            assert response["statusCode"] == 200, response
            return elapsed

        run()  # SDK import and client construction happen once per execution environment
        elapsed = statistics.median(run() for _ in range(repeats))
    ideal = 4 * 0.2
    lines = [
        f"batch of 20 on fake Gemini (200 ms, concurrency 5): {elapsed * 1000:6.0f} ms, "
        f"ideal {ideal * 1000:.0f} ms, ratio {elapsed / ideal:.2f}"
    ]
    return lines, [Target("batch of 20 / ideal 4 x 200 ms", elapsed / ideal, 1.25)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    report = report_stream()
    batch_lines, targets = bench_batch(args.batches)
    finish(bench_process(args.rounds) + batch_lines, targets, out=report)


if __name__ == "__main__":
    main()
