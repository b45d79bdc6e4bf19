"""The offline provider's labelled examples, read from `tests/data/local_provider/<name>.jsonl`.

What each file is, and which sets are held out, is in that folder's README.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

FOLDER = Path(__file__).resolve().parents[1] / "data" / "local_provider"


class SentimentCase(NamedTuple):
    domain: str
    text: str
    label: str


class QACase(NamedTuple):
    text: str
    question: str
    fact: str = ""  # empty for a question the text cannot answer


class SummaryCase(NamedTuple):
    name: str
    text: str
    central: str


def _rows(name: str) -> list[dict[str, str]]:
    with (FOLDER / f"{name}.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


SENTIMENT_CASES = [SentimentCase(**row) for row in _rows("sentiment_tuning")]
HELDOUT_SENTIMENT_CASES = [SentimentCase(**row) for row in _rows("sentiment_heldout")]
BLIND_SENTIMENT_CASES = [SentimentCase(**row) for row in _rows("sentiment_blind")]
QA_CASES = [QACase(**row) for row in _rows("qa")]
UNANSWERABLE_QA_CASES = [QACase(**row) for row in _rows("qa_unanswerable")]
SUMMARY_CASES = [SummaryCase(**row) for row in _rows("summaries")]
