"""`make bench`: what the prompt guard costs a request whose text it must inspect (every cache miss, and a
hit stored under other rules), on benign prose of about 1,000 characters (the hot-path bench's text) and
of 10,000 (the API's maximum), medians of repeated calls in this process.

With `--against COMMIT` it also times the guard as it was at that commit, call for call alternating with
this tree's on the same texts, in microseconds: a change to the rules shows whether it made the guard
slower, which a difference of a few microseconds between separate runs on a shared host cannot.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for folder in ("layers/shared", "functions/public_api", "tests", "tests/bench"):
    sys.path.insert(0, str(ROOT / folder))

from bench_hot_path import TEXT  # noqa: E402
from unit.prompt_guard_data import benign  # noqa: E402

from textapi_shared.security import prompt_guard_text  # noqa: E402
from textapi_shared.security.prompt_guard import GuardMode, PromptGuard  # noqa: E402


def median_ms(guard: PromptGuard, text: str, repeat: int) -> float:
    guard.inspect(text)  # the rules compile on first use: not a request's cost
    taken = []
    for _ in range(repeat):
        started = time.perf_counter()
        verdict = guard.inspect(text)
        taken.append(time.perf_counter() - started)
        assert not verdict.flagged, verdict
    return statistics.median(taken) * 1000


def alternating_medians_us(then, now, text: str, repeat: int) -> tuple[float, float]:
    """Medians of `inspect_text` of two guard versions, each call of one followed by a call of the other."""
    assert then.inspect_text(text) == now.inspect_text(text) == set()
    taken: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for module, times in zip((then, now), taken, strict=True):
            started = time.perf_counter()
            module.inspect_text(text)
            times.append(time.perf_counter() - started)
    return statistics.median(taken[0]) * 1e6, statistics.median(taken[1]) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="calls per text (median reported)")
    parser.add_argument("--against", metavar="COMMIT", help="also time the guard at COMMIT, alternating")
    args = parser.parse_args()
    paragraph = " ".join(benign("first")[:3]) + " "  # as tests/unit/test_prompt_guard.py builds its long text
    long_text = paragraph * (10_000 // len(paragraph) + 1)
    long_text = long_text[: long_text.rindex(" ", 0, 10_000)]
    guard = PromptGuard(GuardMode.BLOCK)
    print(f"Prompt guard on benign prose, median of {args.repeat} calls")
    for text in (TEXT, long_text):
        print(f"  {len(text):>6,} characters   {median_ms(guard, text, args.repeat):6.2f} ms")
    if args.against:
        from unit.prompt_guard_equivalence import guard_at

        with tempfile.TemporaryDirectory() as folder:
            _, then = guard_at(args.against, Path(folder))
            print(f"At {args.against} and in this tree, alternating, median of {args.repeat} calls each")
            for text in (TEXT, long_text):
                before, after = alternating_medians_us(then, prompt_guard_text, text, args.repeat)
                ratio = after / before
                print(f"  {len(text):>6,} characters   {before:8.1f} µs   {after:8.1f} µs   {ratio:.3f}x")


if __name__ == "__main__":
    main()
