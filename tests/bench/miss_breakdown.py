"""Where a cache miss's time goes (a diagnostic beside `make bench`, not one of its targets):
`python tests/bench/miss_breakdown.py` (`make bench-miss-breakdown`).

- The miss of `bench_hot_path` (memory backend, fake Gemini at zero delay, through `lambda_handler`),
  timed in segments: the handler's start to `TextProcessor.process` (event, ASGI stack, access gate,
  body validation), the prompt guard, the rest up to the google-genai call, the call itself, back to
  the end of `process` (answer check, response, cache write, counters), and on to the handler's
  return (response, access log line, metrics). Medians per segment; they need not add up to the
  median whole.
- The bare FastAPI + Mangum route twice: right after another bare call, and right after a direct
  `generate_content` call, which leaves the CPU caches full of the SDK's code and data. Everything
  a miss runs besides the SDK runs in that second state.

The timestamps come from wrappers put around those methods in this process only.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for folder in ("layers/shared", "functions/public_api", "infra/local", "tests", "tests/bench"):
    sys.path.insert(0, str(ROOT / folder))

import baseline_route  # noqa: E402
import bench_hot_path as hot  # noqa: E402
from google.genai.models import AsyncModels  # noqa: E402
from targets import load_average, report_stream  # noqa: E402

from fakes.gemini_server import FakeGeminiServer, Reply  # noqa: E402
from public_api.services.text_processor import TextProcessor  # noqa: E402
from textapi_shared.security.prompt_guard import PromptGuard  # noqa: E402

ROUNDS = 400
_marks: dict[str, float] = {}


def _marked(owner: type, name: str, label: str) -> None:
    """Record when `owner.name` is entered and left (async methods awaited, plain ones called)."""
    original = getattr(owner, name)
    if asyncio.iscoroutinefunction(original):

        @functools.wraps(original)
        async def wrapper(*args, **kwargs):
            _marks[f"{label} in"] = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                _marks[f"{label} out"] = time.perf_counter()

    else:

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            _marks[f"{label} in"] = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                _marks[f"{label} out"] = time.perf_counter()

    setattr(owner, name, wrapper)


SEGMENTS = (
    ("handler to process (event, ASGI stack, gate, body)", "start", "process in"),
    ("prompt guard", "guard in", "guard out"),
    ("guard to the SDK call (counters, lease, prompt)", "guard out", "sdk in"),
    ("google-genai generate_content", "sdk in", "sdk out"),
    ("SDK call to end of process (answer, cache write)", "sdk out", "process out"),
    ("process to handler return (response, log, EMF)", "process out", "end"),
)


def breakdown(gemini: FakeGeminiServer) -> list[str]:
    _marked(TextProcessor, "process", "process")
    _marked(PromptGuard, "enforce", "guard")
    _marked(AsyncModels, "generate_content", "sdk")
    handler = hot.handler_for(
        ai_provider="gemini", gemini_api_key=gemini.api_key, gemini_base_url=gemini.base_url
    ).handler
    invocations = hot.miss_invocations(ROUNDS + 50, hot.KEY)
    loop = asyncio.get_event_loop()
    taken: dict[str, list[float]] = {name: [] for name, _, _ in SEGMENTS}
    whole: list[float] = []
    for index in range(ROUNDS + 50):
        hot.settle(loop)
        invocations.ready()
        _marks.clear()
        _marks["start"] = time.perf_counter()
        response = invocations.call(handler)
        _marks["end"] = time.perf_counter()
        assert response["statusCode"] == 200, response
        if index == 0:
            gc.freeze()
        if index >= 50:
            whole.append(_marks["end"] - _marks["start"])
            for name, begin, finish in SEGMENTS:
                taken[name].append(_marks[finish] - _marks[begin])
    lines = [f"cache miss through lambda_handler, {ROUNDS} rounds, medians:"]
    lines += [f"  {name:52s} {statistics.median(values) * 1e6:6.0f} µs" for name, values in taken.items()]
    lines.append(f"  {'whole miss':52s} {statistics.median(whole) * 1e6:6.0f} µs")
    return lines


def bare_after_sdk(gemini: FakeGeminiServer) -> list[str]:
    client = hot.direct_client(gemini)
    loop = asyncio.get_event_loop()

    async def generate() -> None:
        answer = await client.models.generate_content(model="gemini-2.5-flash", contents=hot.TEXT)
        assert answer.text

    body = json.dumps({"text": hot.TEXT, "operation": "sentiment"})
    bare = hot.Invocations.copies(body, {}, 3 * (ROUNDS + 50))

    def timed() -> float:
        bare.ready()
        started = time.perf_counter()
        assert bare.call(baseline_route.lambda_handler)["statusCode"] == 200
        return time.perf_counter() - started

    warm: list[float] = []
    cold: list[float] = []
    for index in range(ROUNDS + 50):
        timed()
        after_bare = timed()
        loop.run_until_complete(generate())
        after_sdk = timed()
        if index >= 50:
            warm.append(after_bare)
            cold.append(after_sdk)
    return [
        "bare FastAPI+Mangum route, medians:",
        f"  right after another bare call:            {statistics.median(warm) * 1e6:6.0f} µs",
        f"  right after a direct generate_content:    {statistics.median(cold) * 1e6:6.0f} µs",
    ]


def main() -> None:
    report = report_stream()
    with FakeGeminiServer() as gemini:
        gemini.default = Reply(text=hot.ANSWER)
        lines = [
            f"Python {sys.version.split()[0]}, load average {load_average()}",
            *bare_after_sdk(gemini),
            *breakdown(gemini),
        ]
    report.write("\n".join(lines) + "\n")
    report.flush()


if __name__ == "__main__":
    main()
