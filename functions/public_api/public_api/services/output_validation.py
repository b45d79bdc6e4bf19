"""Checks a model's answer before it becomes a response: the right structure for the operation,
non-empty, no leaked instructions, no refusal dressed up as a result. Anything else is
`AIInvalidOutputError` (the service retries once, then answers 502).
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from public_api.services.prompts import LEAK_PHRASE, LEAK_SENTINEL
from textapi_shared.ai.provider import Operation
from textapi_shared.errors import AIInvalidOutputError

_REFUSAL = re.compile(
    r"^\s*(?:i'?m sorry|i am sorry|sorry,|i apologi[sz]e|i cannot|i can'?t|i am unable|i'?m unable|"
    r"as an ai\b|unfortunately,? i (?:cannot|can'?t|am unable))",
    re.IGNORECASE,
)
# Fragments of the system instruction long enough that prose would not contain them by chance.
_LEAK_FRAGMENTS = (LEAK_SENTINEL.lower(), LEAK_PHRASE.lower())
_SENTIMENTS = frozenset({"positive", "negative", "neutral", "mixed"})


class ParsedOutput(NamedTuple):
    result: str | None = None
    sentiment: dict[str, Any] | None = None
    key_points: list[str] | None = None
    questions: list[str] | None = None


def _invalid(reason: str) -> AIInvalidOutputError:
    return AIInvalidOutputError(details={"reason": reason})


def _squash(text: str) -> str:
    return " ".join(text.lower().split())


def _check_prose(text: str, source: str) -> str:
    text = text.strip()
    if not text:
        raise _invalid("empty")
    lowered = text.lower()
    if any(fragment in lowered for fragment in _LEAK_FRAGMENTS):
        raise _invalid("instruction_leak")
    # "Unfortunately, I cannot log in..." quoted from the user's own text is not a refusal.
    if _REFUSAL.match(text) and _squash(text)[:60] not in source:
        raise _invalid("refusal")
    return text


def _json_object(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _invalid("malformed_json") from exc
    if not isinstance(value, dict):
        raise _invalid("not_an_object")
    return value


def _string_list(value: dict[str, Any], field: str, limit: int, source: str) -> list[str]:
    items = value.get(field)
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise _invalid(f"{field}_not_a_list_of_strings")
    cleaned = list(dict.fromkeys(_check_prose(item, source) for item in items if item.strip()))
    if not cleaned:
        raise _invalid(f"{field}_empty")
    return cleaned[:limit]


def parse_output(operation: Operation, raw: str, options: dict[str, int], source_text: str) -> ParsedOutput:
    """The operation's result from the raw model text, or `AIInvalidOutputError`.

    `source_text` is the user's text: output that merely quotes it is never taken for a refusal.
    """
    source = _squash(source_text)
    match operation:
        case Operation.SUMMARIZE | Operation.QA:
            return ParsedOutput(result=_check_prose(raw, source))
        case Operation.SENTIMENT:
            value = _json_object(raw)
            label, confidence = value.get("sentiment"), value.get("confidence")
            if label not in _SENTIMENTS:
                raise _invalid("sentiment_label")
            if (
                isinstance(confidence, bool)
                or not isinstance(confidence, int | float)
                or not 0 <= confidence <= 1
            ):
                raise _invalid("sentiment_confidence")
            explanation = _check_prose(str(value.get("explanation") or ""), source)
            return ParsedOutput(
                sentiment={"sentiment": label, "confidence": float(confidence), "explanation": explanation}
            )
        case Operation.KEY_POINTS:
            return ParsedOutput(
                key_points=_string_list(_json_object(raw), "key_points", options["max_points"], source)
            )
        case Operation.QUESTIONS:
            questions = _string_list(_json_object(raw), "questions", options["num_questions"], source)
            return ParsedOutput(questions=[q if q.endswith("?") else q.rstrip(".!") + "?" for q in questions])
