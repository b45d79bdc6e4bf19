"""Sentiment for the offline provider: VADER scores of sentences and clauses, read as one verdict.

VADER (`vaderSentiment`, lexicon shipped inside the package) is imported on first use and built once
per process. Its lexicon was made for social media, so it is adapted for reviews, tickets, news and
business prose; names and e-mail formulas are masked before scoring ("Great Lakes", "Kind regards").
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textapi_shared.ai.text_analysis import RIGHT_QUOTE, STOPWORDS, split_sentences, word_set

if TYPE_CHECKING:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# Compound scores: beyond +-0.05 a unit leans; beyond +-0.45 it is a strong statement.
_LEAN = 0.05
_STRONG = 0.45
# Mean sentence compound needed to call a text positive or negative rather than neutral.
_POLAR_MEAN = 0.15
# Mixed: strong units on both sides, the weaker side carrying at least this share of the stronger.
_MIXED_BALANCE = 0.5
# A verdict needs this many distinct cue words on its side, unless most sentences lean that way.
_MIN_CUES = 2
# Lexicon valence of a word that counts as a clear cue; milder words only appear in explanations.
_CUE_VALENCE = 1.0
_MILD_CUE_VALENCE = 0.5
_MAX_UNIT_WORDS = 50

# Mostly topical in this kind of prose: "interest rates", "customer support", "on the other hand",
# "cooling fan", "saved files", "energy prices".
_TOPICAL_WORDS = word_set(
    "hand fan share shares shared interest interests pressure pressures lower energy number play plays "
    "demand save saved rescue rescued emergency credit credits care support crush crushes dear"
)
_DAMPED_WORDS = {"like": 0.4, "please": 0.3, "thanks": 0.6, "thank": 0.6, "kindly": 0.3, "sincerely": 0.3}
# Product, service and support vocabulary that VADER lacks, on VADER's -4..4 scale.
_ADDED_WORDS = {
    **dict.fromkeys(word_set("crashes crashed crashing buggy unresponsive malfunction malfunctioning"), -1.8),
    **dict.fromkeys(word_set("bug bugs glitch glitches outdated cracked slow"), -1.0),
    **dict.fromkeys(word_set("glitchy laggy overheats overheating overpriced flimsy understaffed"), -1.6),
    **dict.fromkeys(word_set("freezes froze leaks leaking stained cheaply overcrowded impossible"), -1.2),
    **dict.fromkeys(word_set("uninstall uninstalled uninstalling sluggish"), -1.4),
    **{"unusable": -2.3, "unreliable": -1.9, "overcharged": -2.0, "poorly": -2.0, "smelly": -1.8},
    **{"ripoff": -2.5, "refund": -0.8, "loud": -0.6},
    **dict.fromkeys(word_set("reliable seamless seamlessly intuitive user-friendly well-made"), 1.8),
    **{"well-built": 1.8},
    **dict.fromkeys(word_set("smooth smoothly sturdy affordable speedy well-designed well-organised"), 1.4),
    **{"fast": 1.0, "faster": 0.9, "quick": 0.9, "gem": 2.0, "flawlessly": 2.3, "well-organized": 1.4},
}
_ADVERB_BASES = ("ing", "ful", "ous", "ive", "ant", "ent", "less", "ed", "al", "ic")

_CLAUSE_SPLIT_RE = re.compile(
    r"[;:]\s+|,?\s+(?=(?:but|however|although|though|whereas|yet|while)\b)|\s+[-\u2013\u2014]\s+",
    re.IGNORECASE,
)
_FORMULA_RE = re.compile(
    r"\b(?:(?:kind|kindest|best|warm|warmest)\s+(?:regards|wishes)|many thanks|thanks in advance|"
    r"thank you in advance|yours (?:sincerely|faithfully|truly)|"
    r"have a (?:nice|good|great) (?:day|weekend))\b",
    re.IGNORECASE,
)
_NAME_WORD_RE = re.compile(r"^[\"'\u201c\u2018(]?[A-Z][a-z]+(?:['\u2019]s)?([\"'\u201d\u2019),.;:!?]*)$")
_CUE_WORD_RE = re.compile(r"[a-z]+(?:['-][a-z]+)?")
_NEGATIONS = word_set(
    "not no never none nobody nothing neither nor without cannot can't don't doesn't didn't isn't "
    "wasn't aren't weren't won't wouldn't shouldn't couldn't hasn't haven't hadn't"
)


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    lexicon: dict[str, float] = analyzer.lexicon
    for word, valence in list(lexicon.items()):
        # Adverbs carry their adjective's valence: "annoyingly", "terribly", "happily".
        if abs(valence) >= 1.0 and word.isalpha():
            for adverb in _adverbs(word):
                lexicon.setdefault(adverb, round(valence * 0.9, 2))
    for word in _TOPICAL_WORDS:
        lexicon.pop(word, None)
    lexicon.update(_DAMPED_WORDS)
    lexicon.update(_ADDED_WORDS)
    return analyzer


def _adverbs(word: str) -> list[str]:
    if word.endswith("le"):
        return [word[:-1] + "y"]
    if word.endswith("y") and len(word) > 3:
        return [word[:-1] + "ily"]
    if word.endswith("ic"):
        return [word + "ally"]
    return [word + "ly"] if word.endswith(_ADVERB_BASES) else []


@dataclass
class _Unit:
    text: str
    compound: float


def analyse_sentiment(text: str) -> dict[str, Any]:
    """`{sentiment, confidence, explanation}` for `text`.

    Sentences give the overall lean (VADER itself weighs the clauses around "but"); clauses reveal
    strong opinions on both sides that a sentence score averages away, which is what "mixed" means.
    """
    analyzer = _analyzer()
    pieces = [
        window for sentence in split_sentences(text) for window in _windows(_masked(sentence.text))
    ] or [text]
    sentences = [_Unit(piece, analyzer.polarity_scores(piece)["compound"]) for piece in pieces]
    clauses = [
        _Unit(clause, analyzer.polarity_scores(clause)["compound"])
        for piece in pieces
        for clause in _CLAUSE_SPLIT_RE.split(piece)
        if clause and clause.strip()
    ]
    mean = sum(unit.compound for unit in sentences) / len(sentences)
    positive = sum(u.compound for u in clauses if u.compound >= _LEAN)
    negative = -sum(u.compound for u in clauses if u.compound <= -_LEAN)
    strong_both = any(u.compound >= _STRONG for u in clauses) and any(u.compound <= -_STRONG for u in clauses)
    balance = min(positive, negative) / max(positive, negative) if positive and negative else 0.0
    cues, mild_cues = _cue_words(analyzer, pieces)
    side = "positive" if mean > 0 else "negative"
    leaning = [u for u in sentences if (u.compound >= _LEAN if mean > 0 else u.compound <= -_LEAN)]
    enough_evidence = len(cues[side]) >= _MIN_CUES or len(leaning) * 2 > len(sentences)

    if strong_both and balance >= _MIXED_BALANCE and all(cues.values()):
        label = "mixed"
        confidence = 0.5 + 0.35 * balance
        explanation = (
            f"Mixed: positive cues {_quote(cues['positive'])} against negative cues "
            f"{_quote(cues['negative'])}."
        )
    elif abs(mean) >= _POLAR_MEAN and enough_evidence:
        label, other = side, "negative" if side == "positive" else "positive"
        agreement = max(positive, negative) / (positive + negative) if positive + negative else 1.0
        confidence = 0.5 + 0.45 * min(1.0, abs(mean) / 0.6) * agreement
        noun = "sentence" if len(sentences) == 1 else "sentences"
        explanation = (
            f"{label.capitalize()} overall ({len(leaning)} of {len(sentences)} {noun} {label}): "
            f"{_quote(cues[label] or mild_cues[label])}."
        )
        contrary = [u for u in clauses if (u.compound <= -_STRONG if mean > 0 else u.compound >= _STRONG)]
        if contrary and cues[other]:
            remark = f"one {other} remark" if len(contrary) == 1 else f"{len(contrary)} {other} remarks"
            explanation += f" Also {remark}: {_quote(cues[other])}."
    else:
        label = "neutral"
        polarity = (positive + negative) / max(1, len(clauses))
        confidence = 0.5 + 0.45 * max(0.0, 1 - polarity / 0.5)
        weak = (cues["positive"] or mild_cues["positive"])[:2] + (cues["negative"] or mild_cues["negative"])[
            :2
        ]
        explanation = (
            f"Neutral: only weak or balancing cues ({_quote(weak)})."
            if weak
            else "Neutral: factual or descriptive language without sentiment cues."
        )
    return {
        "sentiment": label,
        "confidence": round(min(1.0, max(0.0, confidence)), 2),
        "explanation": explanation,
    }


def _windows(sentence: str) -> list[str]:
    """Over-long "sentences" (lists, unpunctuated text) in windows: VADER is quadratic in length."""
    words = sentence.split()
    if len(words) <= _MAX_UNIT_WORDS:
        return [sentence]
    return [" ".join(words[i : i + _MAX_UNIT_WORDS]) for i in range(0, len(words), _MAX_UNIT_WORDS)]


def _masked(sentence: str) -> str:
    """The sentence without e-mail formulas and capitalised names (VADER lower-cases "Great Lakes")."""
    words = _FORMULA_RE.sub("", sentence).split()
    if not words or sum(word[:1].isupper() for word in words) * 2 > len(words):
        return " ".join(words)
    kept = [words[0]]
    for word in words[1:]:
        name = _NAME_WORD_RE.match(word)
        kept.append(name.group(1) if name else word)
    return " ".join(part for part in kept if part)


def _cue_words(
    analyzer: SentimentIntensityAnalyzer, pieces: list[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Distinct lexicon words on each side, strongest first, as (clear cues, mild cues).

    Negated words count for the other side and are shown with their negation ("not good").
    """
    totals: dict[str, float] = {}
    strength: dict[str, float] = {}
    for piece in pieces:
        words = _CUE_WORD_RE.findall(piece.lower().replace(RIGHT_QUOTE, "'"))
        for position, word in enumerate(words):
            valence = analyzer.lexicon.get(word)
            if valence is None or word in STOPWORDS or abs(valence) < _MILD_CUE_VALENCE:
                continue
            window = words[max(0, position - 3) : position]
            negator = next((i for i in range(len(window) - 1, -1, -1) if window[i] in _NEGATIONS), None)
            cue = word
            if negator is not None:
                cue, valence = " ".join([*window[negator:], word]), -valence
            totals[cue] = totals.get(cue, 0.0) + valence
            strength[cue] = max(strength.get(cue, 0.0), abs(valence))
    ordered = sorted(totals.items(), key=lambda item: (-abs(item[1]), item[0]))
    clear = [(cue, value) for cue, value in ordered if strength[cue] >= _CUE_VALENCE]
    return (
        {"positive": [c for c, v in clear if v > 0], "negative": [c for c, v in clear if v < 0]},
        {"positive": [c for c, v in ordered if v > 0], "negative": [c for c, v in ordered if v < 0]},
    )


def _quote(words: list[str]) -> str:
    return ", ".join(f"'{word}'" for word in words[:3]) if words else "no single dominant word"
