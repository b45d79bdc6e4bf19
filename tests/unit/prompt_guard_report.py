"""`make guard-report`: the prompt guard's detection and false positives on every corpus, as a table.

    python tests/unit/prompt_guard_report.py [--families] [--without-heldout]

One row per corpus of tests/data/prompt_guard (attacks caught, benign texts flagged), and with
`--families` one more per family. `--without-heldout` leaves out the held-out corpora: the view to
tune with, since a held-out corpus is measured once before a rule change and once after it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "layers/shared"), str(ROOT / "tests")]

from unit.prompt_guard_data import entries, names  # noqa: E402

from textapi_shared.security.prompt_guard import RULES_VERSION, PromptGuard  # noqa: E402


def cell(hits: int, total: int) -> str:
    return f"{hits / total:6.1%} ({hits}/{total})" if total else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", action="store_true", help="a row per family too")
    parser.add_argument("--without-heldout", action="store_true", help="leave out the held-out corpora")
    args = parser.parse_args()
    guard = PromptGuard()
    print(f"Prompt guard, rules {RULES_VERSION}\n")
    print(f"| {'Corpus':<34} | {'Attacks detected':<18} | {'Benign flagged':<18} |")
    print(f"|{'-' * 36}|{'-' * 20}|{'-' * 20}|")
    for name in names():
        if args.without_heldout and name.endswith("heldout"):
            continue
        rows: dict[str, list[int]] = {name: [0, 0, 0, 0]}
        for entry in entries(name):
            flagged = guard.inspect(entry.text).flagged
            keys = [name] + ([f"  {entry.label} {entry.family}"] if args.families and entry.family else [])
            for key in keys:
                counts = rows.setdefault(key, [0, 0, 0, 0])
                column = 0 if entry.label == "attack" else 2
                counts[column] += flagged
                counts[column + 1] += 1
        for key, (caught, attacks, flagged, benign) in rows.items():
            print(f"| {key:<34} | {cell(caught, attacks):<18} | {cell(flagged, benign):<18} |")


if __name__ == "__main__":
    main()
