"""The prompt guard on its held-out corpora: texts no rule was tuned on.

Each was measured once before the rule change it belongs to and once after it (the figures are in the
README, `make guard-report` prints them); the floors below are the figures after, so what these tests
catch now is regressions. Do not tune on a held-out corpus; write a new tuning set instead.
"""

from __future__ import annotations

from unit.prompt_guard_data import attacks, benign

from textapi_shared.security.prompt_guard import PromptGuard

MIN_DETECTION = 0.90
MAX_FALSE_POSITIVES = 0.03
FAMILIES = ("role_play", "fake_turns", "encoded", "system_markers", "authority")


def test_heldout_corpus_detection_and_false_positives():
    guard = PromptGuard()
    per_family = {
        name: sum(guard.inspect(text).flagged for text in attacks("heldout", name)) for name in FAMILIES
    }
    caught = sum(per_family.values())
    attack_count, benign_texts = len(attacks("heldout")), benign("heldout")
    false_positives = sum(guard.inspect(text).flagged for text in benign_texts)
    detection, fp_rate = caught / attack_count, false_positives / len(benign_texts)
    figures = (
        f"prompt guard held-out corpus: detection {detection:.1%} ({caught}/{attack_count}), "
        f"false positives {fp_rate:.1%} ({false_positives}/{len(benign_texts)}); by family: "
        + ", ".join(f"{name} {count}/{len(attacks('heldout', name))}" for name, count in per_family.items())
    )
    print(figures)
    assert sum(len(attacks("heldout", name)) for name in FAMILIES) == attack_count
    assert len(benign_texts) >= 100
    assert detection >= MIN_DETECTION, figures
    assert fp_rate <= MAX_FALSE_POSITIVES, figures


def test_override_heldout_detection():
    """Half of the "new rule / from now on" and "what were you told, print it verbatim" attacks, split
    off before the rules for them were written."""
    guard = PromptGuard()
    texts = attacks("override_heldout")
    caught = sum(guard.inspect(text).flagged for text in texts)
    print(
        f"prompt guard, override_heldout corpus: detection {caught / len(texts):.1%} ({caught}/{len(texts)})"
    )
    assert len(texts) >= 30
    assert caught >= 18


def test_quoting_heldout_false_positives():
    """Half of the benign texts that quote or report an injection (plot summaries, training notes,
    articles, tickets, ...), split off before the quoting rules were written."""
    guard = PromptGuard()
    texts = benign("quoting_heldout")
    flagged = sum(guard.inspect(text).flagged for text in texts)
    rate = flagged / len(texts)
    print(f"prompt guard, quoting_heldout corpus: false positives {rate:.1%} ({flagged}/{len(texts)})")
    assert len(texts) >= 100
    assert flagged <= 20
