"""The prompt guard's labelled corpora, read from `tests/data/prompt_guard/<name>.jsonl`.

Each line is one text: `{"text": ..., "label": "attack" | "benign", "family": ...}`, the family only
where one is known. What each file is, and which are held out, is in that folder's README.md.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import NamedTuple

FOLDER = Path(__file__).resolve().parents[1] / "data" / "prompt_guard"


class Entry(NamedTuple):
    text: str
    label: str
    family: str | None = None


@cache
def entries(name: str) -> tuple[Entry, ...]:
    """Every text of corpus `name`, in file order."""
    with (FOLDER / f"{name}.jsonl").open(encoding="utf-8") as lines:
        return tuple(Entry(**json.loads(line)) for line in lines if line.strip())


def attacks(name: str, family: str | None = None) -> list[str]:
    """The attack texts of corpus `name` (of one family if given)."""
    return [e.text for e in entries(name) if e.label == "attack" and family in (None, e.family)]


def benign(name: str) -> list[str]:
    """The benign texts of corpus `name`."""
    return [e.text for e in entries(name) if e.label == "benign"]


def names() -> list[str]:
    """Every corpus in the folder, sorted."""
    return sorted(path.stem for path in FOLDER.glob("*.jsonl"))
