"""`make bench`: cold start and warm per-request cost of each function next to a bare
FastAPI + Mangum handler, measured in the same run, in fresh processes.

Cold start = import of the handler module + first invocation with a real v2 event, timed inside
a fresh interpreter (interpreter start-up itself is the same for all and excluded).

`--instructions` counts CPU instructions instead (valgrind's callgrind, one run per target): the
count does not move with machine load, so it shows a change that wall-clock noise would hide. The
interpreter's start-up and the harness's imports, counted in a run that imports no handler, are
subtracted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from targets import Target, finish

ROOT = Path(__file__).resolve().parents[2]
CODE_PATH = [ROOT / "layers/shared", ROOT / "functions/public_api", ROOT / "functions/internal_api"]
HARNESS_PATH = [ROOT / "infra/local", ROOT / "tests", ROOT / "tests/bench"]
MARK = "BENCH_RESULT "

TARGETS = {
    "baseline (FastAPI+Mangum)": ("baseline_app", "/v1/health"),
    "public_api": ("public_api.main", "/v1/health"),
    "internal_api": ("internal_api.main", "/internal"),
}

PROBE = """
import json, sys, time
from fakes.apigw_events import build_http_event
from fakes.lambda_context import FakeLambdaContext
event, context = build_http_event("GET", {path!r}), FakeLambdaContext()
started = time.perf_counter()
if not {module!r}:  # the reference run of --instructions: harness only
    sys.exit(0)
__import__({module!r})
target = sys.modules[{module!r}]
imported = time.perf_counter()
status = target.lambda_handler(event, context)["statusCode"]
first = time.perf_counter()
warm = []
for _ in range({warm}):
    t = time.perf_counter()
    target.lambda_handler(build_http_event("GET", {path!r}), context)
    warm.append(time.perf_counter() - t)
warm.sort()
sys.stderr.write({mark!r} + json.dumps({{
    "status": status,
    "import_ms": (imported - started) * 1000,
    "cold_ms": (first - started) * 1000,
    "warm_us": warm[len(warm) // 2] * 1e6 if warm else 0.0,
}}) + "\\n")
"""


def run_probe(module: str, path: str, warm: int, wrapper: tuple[str, ...] = ()) -> str:
    """Run the probe in a fresh interpreter; its stderr."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(p) for p in CODE_PATH + HARNESS_PATH),
        "STAGE": "dev",
        "PYTHONDONTWRITEBYTECODE": "0",
    }
    code = PROBE.format(module=module, path=path, warm=warm, mark=MARK)
    result = subprocess.run(
        [*wrapper, sys.executable, "-c", code],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise SystemExit(f"probe of {module or 'the harness'} failed:\n{result.stderr[-2000:]}")
    return result.stderr


def probe(module: str, path: str, warm: int) -> dict[str, float]:
    stderr = run_probe(module, path, warm)
    line = next((ln for ln in stderr.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        raise SystemExit(f"probe of {module} printed no result:\n{stderr[-2000:]}")
    data = json.loads(line.removeprefix(MARK))
    if data["status"] != 200:
        raise SystemExit(f"{module} answered {data['status']} to GET {path}")
    return data


def instructions(module: str, path: str) -> int:
    """CPU instructions of one fresh run (import + first invocation + interpreter start-up)."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    stderr = run_probe(module, path, 0, ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"))
    match = re.search(r"Collected : (\d+)", stderr)
    if match is None:
        raise SystemExit(f"callgrind printed no count for {module}:\n{stderr[-2000:]}")
    return int(match.group(1))


def report_instructions() -> None:
    harness = instructions("", "/v1/health")
    counts = {name: instructions(module, path) - harness for name, (module, path) in TARGETS.items()}
    base = counts[next(iter(TARGETS))]
    print(f"Python {sys.version.split()[0]}, CPU instructions (callgrind), import + first invocation")
    print(f"{'target':28} {'instructions':>14} {'ratio':>6}")
    for name, count in counts.items():
        print(f"{name:28} {count / 1e6:13.0f}M {count / base:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=21, help="fresh processes per target")
    parser.add_argument("--warm", type=int, default=300, help="warm invocations per process")
    parser.add_argument("--instructions", action="store_true", help="count instructions (valgrind)")
    args = parser.parse_args()
    if args.instructions:
        report_instructions()
        return

    for module, path in TARGETS.values():  # compile bytecode once so every round is alike
        probe(module, path, 0)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in TARGETS}
    for _ in range(args.rounds):  # interleaved, so drift in machine load hits every target alike
        for name, (module, path) in TARGETS.items():
            samples[name].append(probe(module, path, args.warm))

    def median(name: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[name])

    base = next(iter(TARGETS))
    lines = [
        f"Python {sys.version.split()[0]}, {args.rounds} fresh processes per target, medians",
        f"{'target':28} {'import ms':>10} {'cold start ms':>14} {'ratio':>6} {'warm µs/req':>12} "
        f"{'ratio':>6}",
    ]
    targets = []
    for name in TARGETS:
        cold, warm = median(name, "cold_ms"), median(name, "warm_us")
        ratio = cold / median(base, "cold_ms")
        lines.append(
            f"{name:28} {median(name, 'import_ms'):10.1f} {cold:14.1f} {ratio:6.2f}"
            f" {warm:12.0f} {warm / median(base, 'warm_us'):6.2f}"
        )
        if name != base:
            targets.append(Target(f"cold start of {name} / bare handler", ratio, COLD_START_TARGET))
    finish(lines, targets)


# The cold start of either function against the bare FastAPI + Mangum handler, in wall clock.
COLD_START_TARGET = 1.3

if __name__ == "__main__":
    main()
