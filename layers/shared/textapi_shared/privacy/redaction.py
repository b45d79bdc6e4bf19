"""Redaction: personal data replaced by typed, numbered placeholders before a text reaches the model,
and the originals put back in the model's answer.

- A placeholder is ``[TYPE_N]`` (``[EMAIL_1]``, ``[PHONE_2]``): numbered per type from 1, in order of
  first appearance across all the texts of one request (`redact_all`: the text, then the question).
  The same value gets the same placeholder: numbers compare by their digits ("+1 415-555-2671" and
  "+1 (415) 555 2671" are one phone), e-mail addresses and IBANs without case or spaces; the first
  form seen is the one restored.
- Redaction is deterministic: the same texts give the same redacted texts, so a cache keyed on them
  serves an answer stored with placeholders to any request with the same shape, restored with that
  request's own values.
- Text that already looks like a placeholder (a user pasting a redacted document): the numbers it
  uses are skipped, so a placeholder this redaction issues is never equal to text the user sent.
  `restore` replaces issued placeholders only; a look-alike from the user passes through untouched
  and counts neither as lost nor as invented.
- `restore` counts issued placeholders missing from the whole answer (``lost``: a summary may drop a
  detail, or the model may have mangled one) and placeholder-shaped tokens it never issued
  (``invented``). Invented ones are left as the model wrote them: removing them would garble the
  sentence, and guessing a value would put data where it does not belong.
- Restore structured answers after parsing them (`restore_value`): an original value put back into
  raw JSON text could break its quoting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from textapi_shared.privacy.entities import PiiSpan, PiiType

# What the prompt tells the model when its input carries placeholders.
PLACEHOLDER_INSTRUCTION = (
    "Personal data in the text was replaced by placeholders in square brackets, such as [EMAIL_1], "
    "[PHONE_2] or [NAME_1]. Copy a placeholder exactly as written, brackets and number included, "
    "wherever your answer refers to what it stands for. Never guess what a placeholder stands for, "
    "never alter its spelling, and never write a placeholder that is not in the text."
)

PLACEHOLDER = re.compile(r"\[(" + "|".join(kind.value for kind in PiiType) + r")_([1-9][0-9]{0,5})\]")


@dataclass(frozen=True, slots=True)
class Redaction:
    """The redacted texts of one request and what is needed to restore an answer to them."""

    texts: tuple[str, ...]
    values: Mapping[str, str]  # placeholder -> the original text it replaced
    counts: Mapping[str, int]  # type -> occurrences replaced (`metadata.pii_redacted`)
    literals: frozenset[str] = frozenset()  # placeholder-shaped text already in the input

    @property
    def text(self) -> str:
        """The first (usually the only) redacted text."""
        return self.texts[0]

    @property
    def redacted(self) -> bool:
        return bool(self.values)


class Restored(NamedTuple):
    """An answer with the originals back; `lost` and `invented` count placeholders (see the module)."""

    text: str
    lost: int
    invented: int


class RestoredValue(NamedTuple):
    """A structured answer (`restore_value`) with the originals back in every string."""

    value: Any
    lost: int
    invented: int


def redact(text: str, *, extra_spans: Iterable[PiiSpan] = ()) -> Redaction:
    """`text` with its structured PII (and `extra_spans`, e.g. names found by Comprehend) replaced."""
    return redact_all([text], extra_spans=[extra_spans])


def redact_all(texts: Sequence[str], *, extra_spans: Sequence[Iterable[PiiSpan]] = ()) -> Redaction:
    """Several texts of one request with one numbering (the text and the question of a `qa`): the
    same value in both gets the same placeholder. `extra_spans[i]` adds spans found in `texts[i]`."""
    from textapi_shared.privacy.detectors import detect, resolve

    literals = frozenset(m.group() for text in texts for m in PLACEHOLDER.finditer(text))
    numbering = _Numbering(literals)
    redacted = []
    for index, text in enumerate(texts):
        extra = list(extra_spans[index]) if index < len(extra_spans) else []
        spans = resolve([*detect(text), *extra]) if extra else detect(text)
        parts, position = [], 0
        for span in spans:
            parts.append(text[position : span.start])
            parts.append(numbering.placeholder(span.type, text[span.start : span.end]))
            position = span.end
        parts.append(text[position:])
        redacted.append("".join(parts))
    return Redaction(tuple(redacted), numbering.values, numbering.counts, literals)


class _Numbering:
    __slots__ = ("_by_value", "_next", "counts", "literals", "values")

    def __init__(self, literals: frozenset[str]) -> None:
        self.literals = literals
        self.values: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self._by_value: dict[tuple[PiiType, str], str] = {}
        self._next: dict[PiiType, int] = {}

    def placeholder(self, kind: PiiType, value: str) -> str:
        self.counts[kind.value] = self.counts.get(kind.value, 0) + 1
        key = (kind, _canonical(kind, value))
        placeholder = self._by_value.get(key)
        if placeholder is None:
            number = self._next.get(kind, 1)
            while (placeholder := f"[{kind.value}_{number}]") in self.literals:
                number += 1
            self._next[kind] = number + 1
            self._by_value[key] = placeholder
            self.values[placeholder] = value
        return placeholder


_NUMERIC = frozenset({PiiType.PHONE, PiiType.CARD, PiiType.SSN})


def _canonical(kind: PiiType, value: str) -> str:
    if kind in _NUMERIC:
        return "".join(c for c in value if c.isdigit())
    if kind in (PiiType.EMAIL, PiiType.IBAN):
        return value.replace(" ", "").lower()
    return value


def restore(output: str, redaction: Redaction) -> Restored:
    """`output` with every placeholder of `redaction` replaced by its original text."""
    return Restored(*restore_value(output, redaction))


def restore_value(value: Any, redaction: Redaction) -> RestoredValue:
    """Every string in a JSON-like `value` (dicts, lists, tuples, strings; dict keys are names and stay)
    restored; `lost` counts issued placeholders found in none of them."""
    state = _Restoring(redaction)
    restored = state.walk(value)
    lost = sum(placeholder not in state.seen for placeholder in redaction.values)
    return RestoredValue(restored, lost, state.invented)


class _Restoring:
    __slots__ = ("invented", "redaction", "seen")

    def __init__(self, redaction: Redaction) -> None:
        self.redaction = redaction
        self.seen: set[str] = set()
        self.invented = 0

    def walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return PLACEHOLDER.sub(self._substitute, value) if "[" in value else value
        if isinstance(value, Mapping):
            return {key: self.walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.walk(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.walk(item) for item in value)
        return value

    def _substitute(self, match: re.Match[str]) -> str:
        token = match.group()
        original = self.redaction.values.get(token)
        if original is not None:
            self.seen.add(token)
            return original
        if token not in self.redaction.literals:
            self.invented += 1
        return token
