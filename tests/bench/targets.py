"""The targets `make bench` holds the code to: each script reports its figures and its targets, and
exits 1 when one is missed, so `make bench` fails (it runs every script first, then fails)."""

from __future__ import annotations

import sys
from typing import NamedTuple


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
