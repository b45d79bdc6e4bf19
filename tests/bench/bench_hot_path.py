"""`make bench` (hot path), all through `lambda_handler` with a text of about 1,000 characters:

- a cache hit next to a bare FastAPI + Mangum route (`baseline_route`: the same body into the same
  request model, the same response model), with the memory backend and with Redis on a single node
  (the warm path: the in-process tier answers, Redis holds the rate limit and the counters), by a key
  record with a daily token budget (its warm record is in the in-process key cache);
- a cache miss answered by the fake Gemini server at zero delay (memory backend), next to a direct
  google-genai `generate_content` call with the same prompt to the same fake: by a static key, and by
  the key record, whose budget reserves before the call and settles after it (in process here; in AWS
  each is one round of `UpdateItem`s to the keys table, the periods' at once).

Each round times every contender once, in turn, so load that changes during the run weighs on all of
them alike; the figures are medians over the rounds. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[2]
for folder in ("layers/shared", "functions/public_api", "infra/local", "tests", "tests/bench"):
    sys.path.insert(0, str(ROOT / folder))

import baseline_route  # noqa: E402
from targets import Target, finish, load_average, report_stream  # noqa: E402

from fakes.apigw_events import build_http_event  # noqa: E402
from fakes.gemini_server import FakeGeminiServer, Reply  # noqa: E402
from fakes.lambda_context import FakeLambdaContext  # noqa: E402
from fakes.services import redis_server  # noqa: E402
from public_api.config import PublicApiSettings  # noqa: E402
from public_api.main import create_app  # noqa: E402
from public_api.services.prompts import build_ai_request  # noqa: E402
from textapi_shared.ai.provider import Operation  # noqa: E402
from textapi_shared.tenancy.admin import KeyAdmin  # noqa: E402
from textapi_shared.tenancy.records import TokenBudget  # noqa: E402
from textapi_shared.web.lambda_handler import build_lambda_handler  # noqa: E402

# A key of its own per run: its cache scope and rate-limit budget start empty in the shared Redis,
# whatever an earlier run left there (say, entries stored under other guard rules).
KEY = f"bench-key-{uuid.uuid4().hex}"
PATH = "/v1/text_processing/process"
TEXT = (
    "Serverless platforms bill per request and scale to zero when idle. Cold starts are the price of "
    "that elasticity, so teams keep their handlers small and import heavy libraries lazily. Caches in "
    "front of expensive calls pay for themselves quickly: a repeated question costs a lookup instead of "
    "a model call, and a shared store lets every instance of a function benefit from the answers any "
    "other instance has already paid for. Rate limits protect the budget of each tenant, and circuit "
    "breakers stop a fleet from hammering a dependency that is already struggling. Each of these adds "
    "work to every request, which is why the hot path deserves measurement rather than assumption: "
    "what a user waits for is the sum of many small costs, and the small costs are where regressions hide. "
    "Measure in the same run, take medians, and name the machine's load next to every figure you report. "
    "A benchmark that cannot fail is only a printout, so every target here is checked when the run ends."
)
ANSWER = "Serverless trades cold starts for elasticity; caches and limits help."  # the fake Gemini's


class Function(NamedTuple):
    handler: Callable[[dict, Any], dict]
    secret: str  # of a key record with a daily token budget
    services: Any


def handler_for(**overrides: object) -> Function:
    """The public function's handler (static key `KEY`), with a key record that has a daily budget."""
    settings = PublicApiSettings(stage="dev", api_key=KEY, rate_limit_per_minute=100_000, **overrides)
    app = create_app(settings)
    _, secret = asyncio.get_event_loop().run_until_complete(
        KeyAdmin(app.state.services.keys).create(
            {"name": "bench", "token_budget": TokenBudget(daily=10**12), "rate_limit_per_minute": 100_000}
        )
    )
    services = app.state.services
    return Function(build_lambda_handler(app, services.observability), secret, services)


def medians(contenders: dict[str, object], rounds: int, warmup: int = 50, between=None) -> dict[str, float]:
    """Median seconds per call of each contender, taken in turn each round; `between()` runs before each
    call, off the clock."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for index in range(warmup + rounds):
        for name, call in contenders.items():
            if between is not None:
                between()
            started = time.perf_counter()
            call()
            if index >= warmup:
                samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(taken) for name, taken in samples.items()}


class Invocations:
    """What a contender's handler is called with, each time: an event built before the clock starts (the
    handler may change the one it is given) and a new Lambda context, as Lambda gives every invocation
    (its deadline starts when it is made: one context for the whole run would run out on a slow host).
    `ready()` makes the next pair off the clock; `medians` calls it before every call."""

    def __init__(self, events: list[dict]) -> None:
        self._events = iter(events)
        self._next: tuple[dict, FakeLambdaContext] | None = None

    @classmethod
    def copies(cls, body: bytes | str, headers: dict[str, str], count: int) -> Invocations:
        template = build_http_event("POST", PATH, headers=headers, body=body)
        return cls([copy.deepcopy(template) for _ in range(count)])

    def ready(self) -> None:
        if self._next is None:
            self._next = (next(self._events), FakeLambdaContext())

    def call(self, handler) -> dict:
        self.ready()
        (event, context), self._next = self._next, None
        return handler(event, context)


def miss_invocations(count: int, key: str) -> Invocations:
    """`count` summarize requests by `key`, each with a text of its own: every one misses the cache."""
    return Invocations(
        [
            build_http_event(
                "POST",
                PATH,
                headers={"x-api-key": key},
                body=json.dumps({"text": f"{TEXT} Run {uuid.uuid4().hex}.", "operation": "summarize"}),
            )
            for _ in range(count)
        ]
    )


def settle(loop: asyncio.AbstractEventLoop) -> None:
    """Run what the last call left on the loop (a connection's close, which the fake's HTTP/1.0 answer
    starts), off the clock: or the next call would pay for it."""
    for _ in range(3):
        loop.run_until_complete(asyncio.sleep(0))


def direct_client(gemini: FakeGeminiServer):
    """A google-genai client of the fake, configured as the provider's (no SDK retries): the direct call
    a miss is compared with."""
    from google import genai
    from google.genai import types

    return genai.Client(
        api_key=gemini.api_key,
        http_options=types.HttpOptions(
            base_url=gemini.base_url,
            api_version="v1beta",
            timeout=25_000,
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    ).aio


def ready_all(*streams: Invocations):
    def ready() -> None:
        for stream in streams:
            stream.ready()

    return ready


def round_trip(redis_url: str):
    """The Redis hit's one round trip by itself: the rate-limit spend with a hit's five counters, through
    the product's own script, on the loop every invocation runs on. What a round trip costs on the
    machine, for reading the Redis figure."""
    from textapi_shared.config import SharedSettings
    from textapi_shared.fleet.redis_state import RedisFleetState

    settings = SharedSettings(cache_backend="redis", redis_url=redis_url, redis_cluster_mode="off")
    counters = RedisFleetState(settings, namespace=f"bench:{uuid.uuid4().hex[:8]}:")
    loop = asyncio.get_event_loop()
    counts = {f"stats:{{stats:sentiment}}:{field}": 1 for field in ("hits", "get_us", "requests", "us", "le")}
    ttls = dict.fromkeys(counts, 3600)

    def run() -> None:
        loop.run_until_complete(
            counters.admit(
                "ratelimit:bench", 4, limit=10**9, window_s=60, now=time.time(), counts=counts, ttls=ttls
            )
        )

    return run


def bench_hits(redis_url: str, rounds: int) -> tuple[list[str], list[Target]]:
    body = json.dumps({"text": TEXT, "operation": "sentiment"}).encode()
    built = {
        "memory": handler_for(ai_provider="local"),
        "redis": handler_for(
            ai_provider="local", cache_backend="redis", redis_url=redis_url, redis_cluster_mode="off"
        ),
    }
    handlers = {name: function.handler for name, function in built.items()}
    auth = {name: {"x-api-key": function.secret} for name, function in built.items()}
    for name, handler in handlers.items():  # the first call fills the cache; the second must hit it
        for _ in range(2):
            response = Invocations.copies(body, auth[name], 1).call(handler)
            assert response["statusCode"] == 200, response
        assert json.loads(response["body"])["cache_hit"] is True
        assert response["headers"]["x-tokens-billed"] == "0"
    gc.freeze()  # as `finish_cold_start` does at the end of init: what init built is not collected again
    count = rounds + 60
    keyed = {name: Invocations.copies(body, auth[name], count) for name in handlers}
    bare = Invocations.copies(body, {}, count)

    def call(handler, stream: Invocations):
        def run() -> None:
            response = stream.call(handler)
            assert response["statusCode"] == 200, response

        return run

    taken = medians(
        {
            "bare": call(baseline_route.lambda_handler, bare),
            **{name: call(handler, keyed[name]) for name, handler in handlers.items()},
            "round trip": round_trip(redis_url),
        },
        rounds,
        between=ready_all(bare, *keyed.values()),
    )
    base = taken["bare"]
    lines = [
        f"cache hit, {len(TEXT)}-character text, key record with a budget, through lambda_handler, "
        f"{rounds} rounds, medians:",
        f"  bare FastAPI+Mangum route (same models):  {base * 1e6:7.0f} µs",
        f"  hit, memory backend:                      {taken['memory'] * 1e6:7.0f} µs   ratio "
        f"{taken['memory'] / base:.2f}",
        f"  hit, Redis single node (in-process tier): {taken['redis'] * 1e6:7.0f} µs   ratio "
        f"{taken['redis'] / base:.2f}",
        f"  (its one round trip alone, the same script through redis-py on the same loop: "
        f"{taken['round trip'] * 1e6:.0f} µs = {taken['round trip'] / base:.2f} x the bare route)",
    ]
    targets = [
        Target("cache hit (memory) / bare route", taken["memory"] / base, 2.0),
        Target("cache hit (Redis, single node) / bare route", taken["redis"] / base, 3.0),
    ]
    return lines, targets


def bench_miss(rounds: int) -> tuple[list[str], list[Target]]:
    from google.genai import types

    with FakeGeminiServer() as gemini:
        gemini.default = Reply(text=ANSWER)
        handler, secret, services = handler_for(
            ai_provider="gemini", gemini_api_key=gemini.api_key, gemini_base_url=gemini.base_url
        )
        loop = asyncio.get_event_loop()  # the loop Mangum runs every invocation on
        client = direct_client(gemini)
        prompt = build_ai_request(
            Operation.SUMMARIZE,
            TEXT,
            question=None,
            options={"max_length": 100},
            temperature=0.7,
            timeout_s=25,
        )
        static = miss_invocations(rounds + 60, KEY)
        budgeted = miss_invocations(rounds + 60, secret)

        def miss_by(invocations: Invocations):
            def miss() -> None:
                response = invocations.call(handler)
                assert response["statusCode"] == 200, response
                assert json.loads(response["body"])["cache_hit"] is False

            return miss

        async def generate() -> None:
            # What any caller does for a call: its config (the system instruction names the request's own
            # delimiter token, so it is made per call), the call, the answer's text.
            config = types.GenerateContentConfig(
                system_instruction=prompt.system_instruction, temperature=0.7
            )
            answer = await client.models.generate_content(
                model="gemini-2.5-flash", contents=prompt.prompt, config=config
            )
            assert answer.text
            # The connection's close, which the fake's HTTP/1.0 answer starts, runs on the loop after the
            # call returns: within the request, as it does inside the handler's invocation.
            for _ in range(3):
                await asyncio.sleep(0)

        def direct() -> None:
            loop.run_until_complete(generate())

        def between() -> None:
            # Whatever either left on the loop runs off the clock, or each contender would pay the other's.
            settle(loop)
            static.ready()
            budgeted.ready()

        miss_by(static)()  # the first Gemini call builds the client (imports the SDK): not a request's cost
        direct()
        store_calls = counted(services.meters.usage)
        miss_by(budgeted)()
        assert store_calls == {"reserve": 1, "settle": 1}, store_calls  # the budget's two store calls
        gc.freeze()
        taken = medians(
            {"direct": direct, "miss": miss_by(static), "budget": miss_by(budgeted)}, rounds, between=between
        )
    added_ms = (taken["miss"] - taken["direct"]) * 1000
    budget_ms = (taken["budget"] - taken["miss"]) * 1000
    lines = [
        f"cache miss, {len(TEXT)}-character text, memory backend, fake Gemini (no delay), {rounds} rounds:",
        f"  direct google-genai generate_content:     {taken['direct'] * 1e3:7.2f} ms",
        f"  miss through lambda_handler (static key): {taken['miss'] * 1e3:7.2f} ms   adds {added_ms:.2f} ms",
        f"  miss by a key record with a budget:       {taken['budget'] * 1e3:7.2f} ms   "
        f"adds {budget_ms:.2f} ms more in process; in AWS its reserve and settle are two round trips "
        "to the keys table (each the periods' UpdateItems at once)",
    ]
    return lines, [
        Target("cache miss, added over a direct generate_content call", added_ms, 1.5, " ms"),
        Target("cache miss with a budget, added in process over the same miss", budget_ms, 0.3, " ms"),
    ]


def counted(store: Any) -> dict[str, int]:
    """Counts the usage store's budget calls (a reserve, a settle) from now on."""
    calls = {"reserve": 0, "settle": 0}
    for name in calls:
        method = getattr(store, name)

        async def counting(*args, _method=method, _name=name, **kwargs):
            calls[_name] += 1
            return await _method(*args, **kwargs)

        setattr(store, name, counting)
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1500, help="rounds of the hit comparison")
    parser.add_argument("--miss-rounds", type=int, default=300, help="rounds of the miss comparison")
    args = parser.parse_args()
    report = report_stream()
    lines = [f"Python {sys.version.split()[0]}, load average {load_average()} (1, 5, 15 min)"]
    with redis_server() as redis_url:
        hit_lines, hit_targets = bench_hits(redis_url, args.rounds)
    miss_lines, miss_targets = bench_miss(args.miss_rounds)
    finish(lines + hit_lines + miss_lines, hit_targets + miss_targets, out=report)


if __name__ == "__main__":
    main()
