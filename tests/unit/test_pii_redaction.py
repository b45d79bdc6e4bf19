"""Redaction and restoration: typed placeholders numbered per request, the same value kept to one
placeholder, originals put back in nested answers, lost and invented placeholders counted, and user
text that looks like a placeholder never replaced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from textapi_shared.privacy.entities import PiiSpan, PiiType
from textapi_shared.privacy.redaction import (
    PLACEHOLDER,
    Redaction,
    Restored,
    RestoredValue,
    redact,
    redact_all,
    restore,
    restore_value,
)

ROOT = Path(__file__).resolve().parents[2]


def test_placeholders_are_typed_and_numbered_per_type_in_order_of_appearance():
    redaction = redact(
        "Mail bob@example.com or ann@example.org, call +1 415-555-2671;"
        " card 4111 1111 1111 1111 from 10.0.0.7."
    )
    assert redaction.text == ("Mail [EMAIL_1] or [EMAIL_2], call [PHONE_1]; card [CARD_1] from [IP_1].")
    assert redaction.values == {
        "[EMAIL_1]": "bob@example.com",
        "[EMAIL_2]": "ann@example.org",
        "[PHONE_1]": "+1 415-555-2671",
        "[CARD_1]": "4111 1111 1111 1111",
        "[IP_1]": "10.0.0.7",
    }
    assert redaction.counts == {"EMAIL": 2, "PHONE": 1, "CARD": 1, "IP": 1}
    assert redaction.redacted


def test_the_same_value_gets_the_same_placeholder_and_each_occurrence_is_counted():
    redaction = redact(
        "Bob@Example.com wrote; reply to bob@example.com. Card 4111-1111-1111-1111, i.e. 4111 1111 1111 1111."
    )
    assert redaction.text == "[EMAIL_1] wrote; reply to [EMAIL_1]. Card [CARD_1], i.e. [CARD_1]."
    assert redaction.values == {"[EMAIL_1]": "Bob@Example.com", "[CARD_1]": "4111-1111-1111-1111"}
    assert redaction.counts == {"EMAIL": 2, "CARD": 2}


def test_text_and_question_share_one_numbering():
    redaction = redact_all(
        [
            "Ann is ann@example.org, Bob is bob@example.com.",
            "What is the address after bob@example.com and x@y.io?",
        ]
    )
    assert redaction.texts == (
        "Ann is [EMAIL_1], Bob is [EMAIL_2].",
        "What is the address after [EMAIL_2] and [EMAIL_3]?",
    )
    assert redaction.text == redaction.texts[0]
    assert redaction.counts == {"EMAIL": 4}


def test_redaction_is_deterministic_so_a_cache_can_key_on_it():
    text = "Call 020 7946 0958 or mail jane@example.com about IBAN DE89 3704 0044 0532 0130 00."
    assert redact(text) == redact(text)
    other = redact(text.replace("jane@example.com", "someone.else@example.net"))
    assert other.text == redact(text).text  # same shape, same redacted text
    assert other.values != redact(text).values


def test_extra_spans_are_redacted_with_the_structured_ones():
    text = "Jane Doe lives at 221B Baker Street, London; mail jane@example.com."
    names = [PiiSpan(0, 8, PiiType.NAME), PiiSpan(18, 43, PiiType.ADDRESS)]
    redaction = redact(text, extra_spans=names)
    assert redaction.text == "[NAME_1] lives at [ADDRESS_1]; mail [EMAIL_1]."
    assert redaction.counts == {"NAME": 1, "ADDRESS": 1, "EMAIL": 1}


def test_an_extra_span_partly_over_a_structured_one_widens_it():
    text = "Contact Jane jane@example.com today"
    redaction = redact(text, extra_spans=[PiiSpan(8, 17, PiiType.NAME)])  # "Jane jane" (a bad entity)
    assert redaction.text == "Contact [EMAIL_1] today"
    assert redaction.values == {"[EMAIL_1]": "Jane jane@example.com"}


def test_text_without_pii_is_unchanged():
    redaction = redact("Nothing personal here: version 1.2.3.4, order #123456, 2024-01-15.")
    assert redaction.text == "Nothing personal here: version 1.2.3.4, order #123456, 2024-01-15."
    assert not redaction.redacted
    assert redaction.counts == {}


def test_offsets_hold_with_characters_outside_the_basic_plane():
    redaction = redact("🙂🙂 écrivez à marie@example.fr 👋")
    assert redaction.text == "🙂🙂 écrivez à [EMAIL_1] 👋"


def test_restore_puts_every_original_back():
    redaction = redact("Mail bob@example.com, call (415) 555-2671.")
    restored = restore("Bob ([EMAIL_1], [PHONE_1]) asked twice: [EMAIL_1].", redaction)
    assert restored == Restored("Bob (bob@example.com, (415) 555-2671) asked twice: bob@example.com.", 0, 0)


def test_restore_counts_lost_and_invented_placeholders_and_leaves_invented_ones():
    redaction = redact("Mail bob@example.com or ann@example.org, call (415) 555-2671.")
    restored = restore("Write to [EMAIL_2]; [CARD_1] and [EMAIL_9] were never there.", redaction)
    assert restored.text == "Write to ann@example.org; [CARD_1] and [EMAIL_9] were never there."
    assert restored.lost == 2  # [EMAIL_1] and [PHONE_1]
    assert restored.invented == 2


def test_restore_is_one_pass_so_an_original_is_never_read_as_a_placeholder():
    redaction = Redaction(
        ("[TOKEN_1] [TOKEN_2]",), {"[TOKEN_1]": "[TOKEN_2]", "[TOKEN_2]": "x"}, {"TOKEN": 2}
    )
    assert restore("[TOKEN_1] [TOKEN_2]", redaction).text == "[TOKEN_2] x"


def test_restore_value_restores_every_string_of_a_nested_answer():
    redaction = redact_all(["Ann: ann@example.org, 10.1.2.3", "Where is 10.1.2.3?"])
    answer = {
        "result": "Ann wrote from [EMAIL_1].",
        "key_points": ["[IP_1] is the server", "no data"],
        "sentiment": {"sentiment": "neutral", "confidence": 0.8, "explanation": "about [EMAIL_1]"},
        "pair": ("[IP_1]", 3),
        "[EMAIL_1]": None,
    }
    restored = restore_value(answer, redaction)
    assert restored == RestoredValue(
        {
            "result": "Ann wrote from ann@example.org.",
            "key_points": ["10.1.2.3 is the server", "no data"],
            "sentiment": {"sentiment": "neutral", "confidence": 0.8, "explanation": "about ann@example.org"},
            "pair": ("10.1.2.3", 3),
            "[EMAIL_1]": None,  # keys are field names, not text
        },
        0,
        0,
    )


def test_lost_counts_a_placeholder_missing_from_every_field():
    redaction = redact("a@example.com and b@example.com")
    restored = restore_value({"summary": "[EMAIL_1]", "points": ["nothing"]}, redaction)
    assert (restored.lost, restored.invented) == (1, 0)


def test_a_placeholder_the_user_wrote_keeps_its_number_and_is_never_replaced():
    text = "The redacted log said [EMAIL_1] and [PHONE_2]; the real one is eve@example.com, tel 415-555-2671."
    redaction = redact(text)
    assert redaction.text == (
        "The redacted log said [EMAIL_1] and [PHONE_2]; the real one is [EMAIL_2], tel [PHONE_1]."
    )
    assert redaction.literals == {"[EMAIL_1]", "[PHONE_2]"}
    restored = restore("They compare [EMAIL_1] with [EMAIL_2] and [PHONE_2] with [PHONE_1].", redaction)
    assert restored.text == "They compare [EMAIL_1] with eve@example.com and [PHONE_2] with 415-555-2671."
    assert (restored.lost, restored.invented) == (0, 0)


def test_user_placeholders_in_the_question_are_skipped_too():
    redaction = redact_all(["Mail x@example.com.", "Is [EMAIL_1] the same as [EMAIL_2]?"])
    assert redaction.texts == ("Mail [EMAIL_3].", "Is [EMAIL_1] the same as [EMAIL_2]?")


def test_placeholder_pattern_matches_the_issued_shape_only():
    assert PLACEHOLDER.fullmatch("[EMAIL_12]")
    assert PLACEHOLDER.fullmatch("[URL_SECRET_3]")
    for other in ("[EMAIL_0]", "[email_1]", "[EMAIL 1]", "EMAIL_1", "[EMAIL_01]", "[SECRET_1]"):
        assert not PLACEHOLDER.fullmatch(other)


def test_importing_redaction_and_the_comprehend_adapter_loads_neither_boto3_nor_the_detectors():
    script = (
        "import sys, json\n"
        "import textapi_shared.privacy.redaction, textapi_shared.privacy.comprehend\n"
        "heavy = ('boto3', 'botocore', 'textapi_shared.privacy.detectors')\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))"
    )
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "layers" / "shared")}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
