"""Extractive question answering for the offline provider: the sentences that best match a question.

Sentences are scored by the content terms they share with the question, each weighted by how rare it
is in the text (a term found in every sentence says little), plus a small bonus when the sentence holds
the kind of value the question asks for (a number for "how many", a date for "when", a name for "who").
"""

from __future__ import annotations

import math
import re
from collections import Counter

from textapi_shared.ai.text_analysis import (
    Sentence,
    content_stems,
    split_sentences,
    stem,
    tokenize,
    word_set,
)

NO_ANSWER = "The text does not contain information that answers this question."

# Words of the question that describe the asking, not the thing asked about.
_QUESTION_FILLER = frozenset(
    stem(word)
    for word in word_set(
        "text article passage document author mention mentioned say says said according describe "
        "described tell explain state stated name list give"
    )
)
_MONTHS = "january february march april may june july august september october november december"
_DATE_RE = re.compile(
    r"\b(?:1[0-9]{3}|20[0-9]{2})\b|\b\d{1,2}:\d{2}\b|\b(?:" + _MONTHS.replace(" ", "|") + r"|monday|"
    r"tuesday|wednesday|thursday|friday|saturday|sunday|century|today|yesterday|tomorrow)\b",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(
    r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|half|quarter|third|dozen|percent)\b",
    re.IGNORECASE,
)
_NAME_RE = re.compile(r"(?<=\s)[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_PLACE_RE = re.compile(r"\b(?:in|at|from|on|near|to)\s+(?:the\s+)?([A-Z][a-z]+)")
_SECOND_SENTENCE_RATIO = 0.6


def answer_question(text: str, question: str) -> str:
    """The best one or two sentences for `question`, or `NO_ANSWER` when nothing in the text matches."""
    sentences = split_sentences(text)
    asked = set(content_stems(question)) - _QUESTION_FILLER or set(content_stems(question))
    if not sentences or not asked:
        return NO_ANSWER
    spread = Counter(term for sentence in sentences for term in set(sentence.stems))
    rarity = {term: math.log(1 + len(sentences) / count) for term, count in spread.items()}
    wants = _expected_value(question)

    scored: list[tuple[float, Sentence, set[str]]] = []
    for sentence in sentences:
        matched = asked & set(sentence.stems)
        if not matched:
            continue
        score = sum(rarity[term] for term in sorted(matched))
        if wants and _holds(sentence, wants, question):
            score += 0.5 * max(rarity.values())
        if sentence.is_question:
            score *= 0.5
        scored.append((score, sentence, matched))
    if not scored:
        return NO_ANSWER
    scored.sort(key=lambda item: (-item[0], item[1].index))
    best_score, best, best_terms = scored[0]
    answer = [best]
    for score, sentence, matched in scored[1:]:
        if score >= _SECOND_SENTENCE_RATIO * best_score and matched - best_terms:
            answer.append(sentence)
            break
    return " ".join(sentence.text for sentence in sorted(answer, key=lambda s: s.index))


def _expected_value(question: str) -> str | None:
    words = tokenize(question)
    joined = " ".join(words)
    if re.search(r"\bhow (?:many|much|long|old|far|often|big|large|high)\b", joined):
        return "number"
    if "when" in words or re.search(r"\bwhat (?:year|date|time|day|month)\b", joined):
        return "date"
    if "who" in words or "whom" in words or "whose" in words:
        return "name"
    if "where" in words:
        return "place"
    return None


def _holds(sentence: Sentence, wants: str, question: str) -> bool:
    text = sentence.text
    if wants == "number":
        return bool(_NUMBER_RE.search(text))
    if wants == "date":
        return bool(_DATE_RE.search(text))
    asked_words = set(tokenize(question))
    if wants == "name":
        return any(not set(tokenize(name)) <= asked_words for name in _NAME_RE.findall(text))
    return any(place.lower() not in asked_words for place in _PLACE_RE.findall(text))
