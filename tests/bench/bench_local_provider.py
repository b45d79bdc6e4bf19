"""`make bench`: cost of the offline provider on a 10,000-character text (the API's maximum).

Runs in a fresh interpreter with the layer on the path, as in Lambda: reports the import of the
provider, the first sentiment call (VADER loads its lexicon once per process) and the median of
repeated calls for each operation. The provider runs inline on the event loop, so these are the
milliseconds a request spends in it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE_PATH = [ROOT / "layers/shared", ROOT / "tests"]
MARK = "BENCH_RESULT "
TEXT_CHARS = 10_000

PROBE = """
import asyncio, json, statistics, sys, time
started = time.perf_counter()
from textapi_shared.ai.local_provider import LocalProvider
from textapi_shared.ai.provider import AIRequest, Operation
imported = time.perf_counter()
from unit.local_provider_data import SUMMARY_CASES

text = "\\n\\n".join(case.text for case in SUMMARY_CASES * 4)
text = text[: text.rindex(" ", 0, {chars} + 1)]
provider = LocalProvider()
requests = {{
    "summarize": AIRequest(Operation.SUMMARIZE, "", "", text, options={{"max_length": 100}}),
    "sentiment": AIRequest(Operation.SENTIMENT, "", "", text),
    "key_points": AIRequest(Operation.KEY_POINTS, "", "", text, options={{"max_points": 5}}),
    "questions": AIRequest(Operation.QUESTIONS, "", "", text, options={{"num_questions": 5}}),
    "qa": AIRequest(Operation.QA, "", "", text, question="How much did the river rise?"),
}}


async def run():
    t = time.perf_counter()
    await provider.generate(requests["sentiment"])
    first = time.perf_counter() - t
    medians = {{}}
    for name, request in requests.items():
        runs = []
        for _ in range({repeat}):
            t = time.perf_counter()
            await provider.generate(request)
            runs.append(time.perf_counter() - t)
        medians[name] = statistics.median(runs) * 1000
    return first, medians


first_sentiment, medians = asyncio.run(run())
sys.stderr.write({mark!r} + json.dumps({{
    "chars": len(text),
    "import_ms": (imported - started) * 1000,
    "first_sentiment_ms": first_sentiment * 1000,
    "median_ms": medians,
}}) + "\\n")
"""


def measure(repeat: int) -> dict:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(p) for p in CODE_PATH),
        "PYTHONDONTWRITEBYTECODE": "0",
    }
    code = PROBE.format(chars=TEXT_CHARS, repeat=repeat, mark=MARK)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    for line in result.stderr.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    raise SystemExit(f"probe failed:\n{result.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="calls per operation (median reported)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    figures = measure(args.repeat)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"Offline provider, {figures['chars']:,}-character text, median of {args.repeat} calls")
    print(f"  import of local_provider     {figures['import_ms']:7.1f} ms")
    print(f"  first sentiment (loads VADER){figures['first_sentiment_ms']:7.1f} ms")
    for name, value in figures["median_ms"].items():
        print(f"  {name:<28} {value:7.1f} ms")


if __name__ == "__main__":
    main()
