"""The prompt guard on its held-out corpus (issue 11 item 14), by attack family.

Measured with `pytest -s tests/unit/test_prompt_guard_heldout.py`:
- before the issue-11 rule change: detection 28.0% (21/75), false positives 0.0% (0/104); by family:
  role_play 1/15, fake_turns 5/15, encoded 5/15, system_markers 6/15, authority 4/15
- after it: detection 90.7% (68/75), false positives 0.0% (0/104); by family: role_play 13/15,
  fake_turns 13/15, encoded 14/15, system_markers 15/15, authority 13/15
The corpus is held out: it was written before the change, and the rules were changed looking only at
`prompt_guard_corpus_tuning.py`. Do not tune on it; write a new tuning set instead.
"""

from __future__ import annotations

from unit import prompt_guard_corpus_heldout as heldout

from textapi_shared.security.prompt_guard import PromptGuard

MIN_DETECTION = 0.90
MAX_FALSE_POSITIVES = 0.03
FAMILIES = {
    "role_play": heldout.ROLE_PLAY,
    "fake_turns": heldout.FAKE_TURNS,
    "encoded": heldout.ENCODED,
    "system_markers": heldout.SYSTEM_MARKERS,
    "authority": heldout.AUTHORITY,
}


def test_heldout_corpus_detection_and_false_positives():
    guard = PromptGuard()
    per_family = {
        name: sum(guard.inspect(text).flagged for text in texts) for name, texts in FAMILIES.items()
    }
    caught = sum(per_family.values())
    false_positives = sum(guard.inspect(text).flagged for text in heldout.BENIGN)
    detection, fp_rate = caught / len(heldout.ATTACKS), false_positives / len(heldout.BENIGN)
    figures = (
        f"prompt guard held-out corpus: detection {detection:.1%} ({caught}/{len(heldout.ATTACKS)}), "
        f"false positives {fp_rate:.1%} ({false_positives}/{len(heldout.BENIGN)}); by family: "
        + ", ".join(f"{name} {count}/{len(FAMILIES[name])}" for name, count in per_family.items())
    )
    print(figures)
    assert len(heldout.BENIGN) >= 100
    assert detection >= MIN_DETECTION, figures
    assert fp_rate <= MAX_FALSE_POSITIVES, figures
