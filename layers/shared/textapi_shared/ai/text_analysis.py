"""Classical text analysis behind the offline provider: sentences, terms and sentence scoring.

Pure Python, deterministic, no downloads. Sentences keep the user's characters exactly; only runs of
whitespace (line breaks included) collapse to one space, and list markers (`-`, `*`, `1.`) are dropped.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field


def word_set(words: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated string (long word lists stay readable)."""
    return frozenset(words.split())


STOPWORDS = word_set(
    """
    a about above across after again against all almost along already also although always am amid
    among an and another any anyone anything are aren't around as at be became because become been
    before behind being below beside besides between beyond both but by can can't cannot could
    couldn't despite did didn't do does doesn't doing don't done down during each either else enough
    etc even ever every except few for from further get gets got had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's however i i'd
    i'll i'm i've if in inside into is isn't it it's its itself just least less let's like made make
    many may me might more most much must mustn't my myself near neither no nor not now of off often
    on once one only onto or other others otherwise ought our ours ourselves out outside over own
    per quite rather really same shall shan't she she'd she'll she's should shouldn't since so some
    such than that that's the their theirs them themselves then there there's therefore these they
    they'd they'll they're they've this those though through throughout thus to too toward towards
    under unless unlike until up upon us versus very via was wasn't we we'd we'll we're we've well
    were weren't what what's whatever when when's where where's whether which while who who's whom
    whose why why's will with within without won't would wouldn't yet you you'd you'll you're you've
    your yours yourself yourselves
    """
)

RIGHT_QUOTE = "\u2019"  # the typographic apostrophe
WORD_RE = re.compile(r"[^\W_]+(?:['\u2019.\-][^\W_]+)*")
_TERMINAL = ".!?\u2026"
CLOSERS = "\"'\u201d\u2019)]"
_OPENERS = "\"'\u201c\u2018([\u00bf\u00a1"
_BOUNDARY_RE = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+")
_BULLET_RE = re.compile(r"^\s*(?:[-*\u2022\u2023\u25aa\u25e6\u2013\u2014]+|\(?\d{1,3}[.)]|\(?[a-z][)])\s+")
# Never end a sentence: titles before names and Latin/reference abbreviations.
_ABBREVIATIONS = word_set(
    "mr mrs ms dr prof rev hon st mt sen rep gov gen col lt capt sgt cmdr e.g i.e cf vs viz approx "
    "ca fig figs no nos vol vols pp p ed eds al dept est jan feb apr jun jul aug sep sept oct nov dec"
)
# May end a sentence; they do when the next word is a typical sentence opener (a stopword).
_AMBIGUOUS_ABBREVIATIONS = word_set("etc inc ltd co corp jr sr llc plc bros")
_INITIALISM_RE = re.compile(r"^(?:[a-z]\.)+[a-z]$")
# Sentences scoring below this share of the best one do not fill up a summary's word budget.
_FILLER_SHARE = 0.35


@dataclass
class Sentence:
    """One sentence of the text, with its position and normalised content terms."""

    text: str
    index: int
    paragraph: int
    first_in_paragraph: bool
    words: list[str] = field(default_factory=list)
    stems: list[str] = field(default_factory=list)

    @property
    def word_count(self) -> int:
        return len(self.text.split())

    @property
    def is_question(self) -> bool:
        return self.text.rstrip(CLOSERS + " ").endswith("?")


def word_count(text: str) -> int:
    return len(text.split())


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens, apostrophes unified, possessive `'s` dropped."""
    tokens = []
    for match in WORD_RE.finditer(text):
        token = match.group().lower().replace(RIGHT_QUOTE, "'")
        if token.endswith("'s"):
            token = token[:-2]
        tokens.append(token.rstrip("."))
    return tokens


def is_content(token: str) -> bool:
    return token not in STOPWORDS and (len(token) > 1 or token.isdigit())


def stem(token: str) -> str:
    """Crude suffix stripping so that `refunds`, `refunded` and `refunding` meet at one form."""
    word = token
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ingly", "edly", "ing", "ied", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix == "ied" else "")
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def content_stems(text: str) -> list[str]:
    return [stem(token) for token in tokenize(text) if is_content(token)]


def split_sentences(text: str) -> list[Sentence]:
    """Split into sentences, aware of abbreviations, initials, decimals, line breaks and list items."""
    sentences: list[Sentence] = []
    for paragraph, block in enumerate(_blocks(text)):
        for position, piece in enumerate(_split_block(block)):
            words = tokenize(piece)
            sentences.append(
                Sentence(
                    text=piece,
                    index=len(sentences),
                    paragraph=paragraph,
                    first_in_paragraph=position == 0,
                    words=words,
                    stems=[stem(word) for word in words if is_content(word)],
                )
            )
    return sentences


def _blocks(text: str) -> list[str]:
    """Group lines into blocks: blank lines, list items and heading-like lines start a new block."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            if current:
                blocks.append(current)
            current = []
            continue
        bullet = _BULLET_RE.match(raw_line)
        if bullet:
            line = raw_line[bullet.end() :].strip()
        if current and (bullet or _ends_unit(current[-1], line)):
            blocks.append(current)
            current = []
        if line:
            current.append(line)
    if current:
        blocks.append(current)
    return [" ".join(" ".join(lines).split()) for lines in blocks]


def _ends_unit(previous: str, line: str) -> bool:
    """A single line break ends a unit after a colon or a short heading-like line before a capital."""
    if previous.endswith(":"):
        return True
    starts_upper = line[:1].isupper() or line[:1].isdigit()
    return starts_upper and previous[-1] not in _TERMINAL + ",;" and word_count(previous) <= 8


def _split_block(block: str) -> list[str]:
    pieces = []
    start = 0
    for match in _BOUNDARY_RE.finditer(block):
        following = block[match.end() :].lstrip(_OPENERS)
        if not following or not (following[0].isupper() or following[0].isdigit()):
            continue
        if _is_abbreviation(block[start : match.start()], match.group(), following):
            continue
        pieces.append(block[start : match.end()].strip())
        start = match.end()
    tail = block[start:].strip()
    if tail:
        pieces.append(tail)
    return [piece for piece in pieces if any(ch.isalnum() for ch in piece)] or (
        [block] if block.strip() else []
    )


def _is_abbreviation(before: str, punctuation: str, following: str) -> bool:
    if not punctuation.startswith(".") or punctuation.startswith(".."):
        return False
    parts = before.rsplit(None, 1)
    token = parts[-1].lstrip(_OPENERS) if parts else ""
    lowered = token.lower()
    if lowered in _ABBREVIATIONS:
        return True
    if len(token) == 1 and token.isupper():
        return True
    if lowered in _AMBIGUOUS_ABBREVIATIONS or _INITIALISM_RE.match(lowered):
        next_word = following.split(None, 1)[0].strip(_OPENERS).lower() if following.split() else ""
        return next_word not in STOPWORDS
    return False


def term_weights(sentences: list[Sentence]) -> dict[str, float]:
    """Relative term frequency of each content stem over the whole text (1.0 for the most frequent)."""
    counts = Counter(stem for sentence in sentences for stem in sentence.stems)
    if not counts:
        return {}
    top = max(counts.values())
    return {term: count / top for term, count in counts.items()}


def score_sentences(sentences: list[Sentence]) -> list[float]:
    """Informativeness: frequent content terms per (square-rooted) length, with position bonuses."""
    weights = term_weights(sentences)
    scores = []
    for sentence in sentences:
        if not sentence.stems:
            scores.append(0.0)
            continue
        score = sum(weights[term] for term in dict.fromkeys(sentence.stems)) / math.sqrt(len(sentence.stems))
        if sentence.index == 0:
            score *= 1.25
        elif sentence.first_in_paragraph:
            score *= 1.1
        if len(sentence.stems) < 3:
            score *= 0.6
        if sentence.is_question or sentence.text.endswith(":"):
            score *= 0.6
        if sentence.text[-1] not in _TERMINAL + CLOSERS:
            score *= 0.5 if sentence.word_count < 6 else 0.7
        if not (sentence.text[0].isupper() or sentence.text[0].isdigit() or sentence.text[0] in _OPENERS):
            score *= 0.7
        scores.append(score)
    return scores


def similarity(a: Sentence, b: Sentence) -> float:
    first, second = set(a.stems), set(b.stems)
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def rank_sentences(sentences: list[Sentence], scores: list[float] | None = None) -> list[Sentence]:
    """Sentences from most to least informative (ties keep text order)."""
    scores = scores if scores is not None else score_sentences(sentences)
    order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    return [sentences[i] for i in order]


def truncate_words(text: str, max_words: int) -> str:
    """Cut at a word boundary to at most `max_words` words, ending with an ellipsis."""
    words = text.split()[: max(1, max_words)]
    while len(words) > 1 and words[-1].lower().strip(",;:") in STOPWORDS:
        words.pop()
    words[-1] = words[-1].rstrip(",;:-\u2013\u2014") or words[-1]
    return " ".join(words) + "\u2026"


def summarize(text: str, max_words: int) -> str:
    """Extractive summary of at most `max_words` words: best sentences, kept in text order."""
    sentences = split_sentences(text)
    if not sentences:
        return truncate_words(text, max_words) if word_count(text) > max_words else " ".join(text.split())
    if sum(sentence.word_count for sentence in sentences) <= max_words:
        return _join(sentences)
    scores = score_sentences(sentences)
    ranked = rank_sentences(sentences, scores)
    if ranked[0].word_count > max_words:
        return truncate_words(ranked[0].text, max_words)
    floor = _FILLER_SHARE * scores[ranked[0].index]
    chosen: list[Sentence] = []
    used = 0
    for sentence in ranked:
        if used + sentence.word_count > max_words or scores[sentence.index] < floor:
            continue
        if any(similarity(sentence, other) > 0.5 for other in chosen):
            continue
        chosen.append(sentence)
        used += sentence.word_count
    return _join(sorted(chosen, key=lambda s: s.index))


def _join(sentences: list[Sentence]) -> str:
    """Sentences separated by a space, or by a line break after a heading or list item."""
    parts = []
    for sentence in sentences:
        if parts:
            parts.append(" " if parts[-1][-1] in _TERMINAL + CLOSERS else "\n")
        parts.append(sentence.text)
    return "".join(parts)


def key_points(text: str, max_points: int) -> list[str]:
    """The most informative distinct sentences, at most `max_points`, in text order."""
    sentences = split_sentences(text)
    chosen: list[Sentence] = []
    seen: set[str] = set()
    for sentence in rank_sentences(sentences):
        if len(chosen) >= max_points:
            break
        normalised = " ".join(sentence.words)
        if normalised in seen or any(similarity(sentence, other) > 0.6 for other in chosen):
            continue
        seen.add(normalised)
        chosen.append(sentence)
    if not chosen and text.strip():
        return [" ".join(text.split())]
    return [sentence.text for sentence in sorted(chosen, key=lambda s: s.index)]
