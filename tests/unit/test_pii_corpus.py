"""The PII corpus is what its generator makes (so anyone can rebuild and extend it), is large and varied
enough to measure with, and the detectors meet their targets on it (the figures of `make pii-quality`)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "quality"))

import pii_corpus  # noqa: E402
import pii_quality  # noqa: E402

from textapi_shared.privacy.entities import STRUCTURED_TYPES  # noqa: E402

SETS = {name: pii_corpus.DATA / f"{name}.jsonl" for name in ("tuning", "heldout", "fresh")}


@pytest.fixture(scope="module")
def built():
    return pii_corpus.build()


@pytest.mark.parametrize("name", SETS)
def test_committed_corpus_is_the_generators_output(built, name):
    assert pii_quality.load(SETS[name]) == built[name], "run: python tests/quality/pii_corpus.py"


@pytest.mark.parametrize("name", SETS)
def test_corpus_covers_every_structured_type_and_has_look_alikes(built, name):
    records = built[name]
    values = Counter(span["type"] for record in records for span in record["spans"])
    assert set(values) == {kind.value for kind in STRUCTURED_TYPES}
    assert min(values.values()) >= 25
    assert sum(record["kind"] == "lookalike" for record in records) >= 150
    assert len(records) >= 300


def test_the_sets_share_no_text(built):
    texts = [{record["text"] for record in records} for records in built.values()]
    assert sum(len(each) for each in texts) == len(set().union(*texts))


@pytest.mark.parametrize("name", SETS)
def test_labelled_spans_hold_values_and_look_alike_texts_hold_none(built, name):
    for record in built[name]:
        assert (record["kind"] == "lookalike") == (not record["spans"])
        for span in record["spans"]:
            value = record["text"][span["start"] : span["end"]]
            assert value, record["id"]
            assert value == value.strip(), record["id"]


@pytest.mark.parametrize("name", SETS)
def test_detectors_meet_the_quality_targets(name):
    measure = pii_quality.Measure(pii_quality.load(SETS[name]))
    assert measure.failures(name) == []
