"""The prompt guard on its held-out corpus, by attack family.

The corpus is held out: the rules were changed looking only at the `tuning` corpus, and its figures
before and after that change are in the README. Do not tune on it; write a new tuning set instead.
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
