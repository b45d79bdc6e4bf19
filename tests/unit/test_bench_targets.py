"""`make bench` fails when a target is missed: each script's `targets.finish` exits 1 on a miss, and the
Makefile runs every script before it fails, naming those that missed."""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "bench"))

from targets import Target, finish  # noqa: E402

pytestmark = pytest.mark.slow  # each case runs make


def test_finish_prints_the_figures_and_returns_when_every_target_is_met():
    out = io.StringIO()
    finish(["figure 1"], [Target("ratio", 1.9, 2.0), Target("added", 1.5, 1.5, " ms")], out=out)
    assert out.getvalue().splitlines() == [
        "figure 1",
        "target ratio: 1.90x <= 2x: met",
        "target added: 1.50 ms <= 1.5 ms: met",
    ]


def test_finish_exits_1_after_printing_every_target_when_one_is_missed():
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        finish([], [Target("added", 1.68, 1.5, " ms"), Target("ratio", 1.2, 2.0)], out=out)
    assert exited.value.code == 1
    assert out.getvalue().splitlines() == [
        "target added: 1.68 ms <= 1.5 ms: MISSED",
        "target ratio: 1.20x <= 2x: met",
    ]


def _make_bench(failing: str) -> subprocess.CompletedProcess[str]:
    # Each "script" stands in for a bench script: it exits 1 (a missed target) when its name is `failing`.
    script = f"import sys; sys.exit(sys.argv[1] == 'tests/bench/{failing}.py')"
    python = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"
    # Run as a user would, not as a sub-make of `make test` (whose flags would add directory lines).
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    return subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "-C",
            str(ROOT),
            "bench",
            "BENCH_SCRIPTS=first second third",
            f"PY={python}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_make_bench_runs_every_script_then_fails_naming_the_one_that_missed():
    run = _make_bench("second")
    assert run.returncode != 0
    assert run.stdout.splitlines() == [
        "== first",
        "== second",
        "== third",
        "make bench: a target was missed in: second",
    ]


def test_make_bench_succeeds_when_every_script_meets_its_targets():
    run = _make_bench("none")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines() == ["== first", "== second", "== third"]
