"""The targets `make bench` holds the code to: each script reports its figures and its targets, and
exits 1 when one is missed, so `make bench` fails (it runs every script first, then fails)."""

from __future__ import annotations

import os
import sys
from typing import NamedTuple, TextIO


def report_stream() -> TextIO:
    """Where a bench reports: a copy of stdout, with fd 1 itself sent to /dev/null, since Powertools (and
    the events) write JSON logs and EMF there."""
    report = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    return report


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load, to print beside timings."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


class Target(NamedTuple):
    name: str
    value: float
    limit: float
    unit: str = "x"

    @property
    def met(self) -> bool:
        return self.value <= self.limit

    def line(self) -> str:
        verdict = "met" if self.met else "MISSED"
        return f"target {self.name}: {self.value:.2f}{self.unit} <= {self.limit:g}{self.unit}: {verdict}"


def finish(lines: list[str], targets: list[Target], *, out=None) -> None:
    """Print the figures and the targets; exit 1 if any target was missed."""
    out = out or sys.stdout
    out.write("\n".join([*lines, *(target.line() for target in targets)]) + "\n")
    out.flush()
    if not all(target.met for target in targets):
        sys.exit(1)
