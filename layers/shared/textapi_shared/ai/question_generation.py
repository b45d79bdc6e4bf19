"""Question generation for the offline provider: comprehension questions built from the text itself.

Key phrases (names such as "Marie Curie" and noun phrases such as "the bus timetable", found with a
small rule-based chunker and ranked by how often their terms occur) and the most informative sentences
fill a rotation of question templates, so the questions vary in form and each points at something the
text discusses.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from textapi_shared.ai.text_analysis import (
    CLOSERS,
    RIGHT_QUOTE,
    STOPWORDS,
    WORD_RE,
    Sentence,
    is_content,
    rank_sentences,
    split_sentences,
    stem,
    term_weights,
    tokenize,
    word_set,
)
from textapi_shared.privacy.redaction import PLACEHOLDER

# A PII placeholder (`[EMAIL_1]`) is one token, a name: split into words it would become the name "EMAIL",
# which nothing restores ("How does the text describe EMAIL?").
_TOKEN_RE = re.compile(f"{PLACEHOLDER.pattern}|{WORD_RE.pattern}")

_ARTICLES = word_set("the a an its their his her our my your this these those")
# Words after which a noun phrase may start (articles, quantifiers, prepositions).
_NP_OPENERS = _ARTICLES | word_set(
    "of in on for with about from by into at during after before between under over through per each "
    "every some many several few more most no any all both such across against among around behind "
    "beyond despite near toward towards upon within without via as than"
)
# After a word ending in -s, these suggest that word was a verb ("the brain replays these").
_OBJECT_STARTERS = _ARTICLES | word_set("them it him us me when because if whether")
_NAME_CONNECTORS = frozenset({"of", "de", "du", "da", "del", "von", "van", "and"})
_VERBISH = word_set(
    "said says say told according including include includes included called known become becomes "
    "became seem seems seemed take takes took taken make makes use uses using allow allows want wants "
    "need needs help helps let lets keep keeps kept give gives gave given show shows shown came come "
    "comes went goes gone rose risen fell fallen grew grown began begun ran run runs found held left led "
    "met paid sold sent spent stood won wrote written saw seen got brought bought built caught chose drew "
    "drove felt flew knew lost put read set thought understood tried tries remain remains sat lay ate hid "
    "shook spoke stole tore wore wept bit blew chose fought fled forgave froze hung meant rode rang sang "
    "sank slid struck swept swung threw woke dealt dug fed bent bred hurt lent quit shed shut slept split "
    "spread stuck taught sought bound wound"
)
# Too generic to ask about on their own.
_GENERIC = word_set(
    "day days time times year years week weeks month months people way ways thing things part parts lot "
    "end rest beginning kind sort type fact case example "
    "today monday tuesday wednesday thursday friday saturday sunday january february march april june "
    "july august september october november december"
)
# Common verbs (base forms). After a noun, a form that agrees with it ("employees receive", "the museum
# opens") ends the noun phrase; nouns that double as verbs ("insurance cover") do not agree that way.
_COMMON_VERBS = word_set(
    "absorb accept achieve add affect agree allow apply argue arrive ask avoid believe belong bring build "
    "buy call carry cause claim close collect combine compare complete concern connect consider contain "
    "continue convert cost cover create cut decide deliver depend describe destroy determine develop die "
    "disappear discover drop earn eat enable encourage enjoy ensure enter establish expand expect explain "
    "fail fall feed feel fill find finish follow gain get give go grow happen hate have hear help hire hold "
    "hope identify improve include increase indicate involve join keep kill know lack last launch lead "
    "learn leave let lie limit link listen live look lose love maintain make manage mean meet mention miss "
    "move need note obtain occur offer open operate own pay perform pick plan prefer prepare prevent "
    "produce promise protect prove provide publish pull push raise reach realise realize receive recommend "
    "reduce refer reflect refuse relate rely remain remember remove replace require respond return reveal "
    "rise run save say see seek seem sell send serve share shift show sit solve speak spend stand start "
    "stay stop succeed suffer suggest support survive take talk teach tell tend think threaten travel "
    "treat try turn understand visit wait walk want warn watch win wish wonder worry write"
)
_PRONOUN_STARTS = word_set("it its they their them he his she her this these those we our i you")
_LEADING_CONNECTIVES = word_set("and but yet so also then still or")
_PARENTHETICAL_RE = re.compile(
    r",\s*(?:however|therefore|though|moreover|meanwhile|nevertheless|in fact|for example),", re.IGNORECASE
)
_CAUSE_RE = re.compile(r"\s(?:because|due to|owing to|as a result of|caused by)\s", re.IGNORECASE)
_YEAR_RE = re.compile(r"\b[Ii]n ((?:1[0-9]{3}|20[0-9]{2}))\b")
_VERSION_RE = re.compile(r"^\d+(?:\.\d+)*$|^[A-Z]+\d+$")
_MAX_PHRASE_WORDS = 3
_MAX_CLAUSE_WORDS = 22


@dataclass
class KeyPhrase:
    surface: str
    stems: frozenset[str]
    sentences: set[int]
    score: float


@dataclass
class _Token:
    word: str
    lower: str
    starts_unit: bool  # first word of the sentence, or after punctuation
    capitalised: bool


def generate_questions(text: str, count: int) -> list[str]:
    """Up to `count` distinct questions about `text`, each ending in `?`; at least one for any text."""
    sentences = split_sentences(text)
    names = _name_words(sentences)
    phrases = key_phrases(sentences, names)
    ranked = [s for s in rank_sentences(sentences) if not s.is_question]
    subjects = _subjects(phrases)
    clauses = (clause for clause in (_clause(s, names) for s in ranked) if clause)
    templates: list[tuple[str, Iterator[str | tuple[str, str]]]] = [
        ("What does the text say about {}?", subjects),
        ("Why is it significant that {}?", clauses),
        ("What is the relationship between {} and {}?", _pairs(phrases)),
        ("{}", _specific_questions(ranked, names)),
        ("How does the text describe {}?", subjects),
        ("Why does the text mention {}?", subjects),
    ]
    questions: list[str] = []
    seen: set[str] = set()
    while templates and len(questions) < count:
        for template in list(templates):
            if len(questions) >= count:
                break
            pattern, source = template
            candidate = next(source, None)
            if candidate is None:
                templates.remove(template)
                continue
            question = pattern.format(*(candidate if isinstance(candidate, tuple) else (candidate,)))
            key = " ".join(tokenize(question))
            if key not in seen:
                seen.add(key)
                questions.append(question)
    if not questions:
        words = [word for word in tokenize(text) if is_content(word) and word.isalpha()]
        topic = Counter(words).most_common(1)[0][0] if words else None
        questions.append(
            f"What does the text say about {topic}?" if topic else "What is the main point of the text?"
        )
    return questions


def key_phrases(sentences: list[Sentence], names: set[str] | None = None) -> list[KeyPhrase]:
    """Names and noun phrases of the text, best first."""
    names = _name_words(sentences) if names is None else names
    weights = term_weights(sentences)
    found: dict[frozenset[str], KeyPhrase] = {}
    for sentence in sentences:
        for surface, is_name in _chunks(sentence, names):
            stems = frozenset(stem(token) for token in tokenize(surface) if is_content(token))
            if not stems:
                continue
            phrase = found.get(stems)
            if phrase is None:
                base = sum(weights.get(term, 0.0) for term in sorted(stems)) / len(stems) ** 0.5
                phrase = found[stems] = KeyPhrase(surface, stems, set(), base + (0.3 if is_name else 0.0))
            elif sentence.index not in phrase.sentences:
                phrase.score += 0.25
            if surface.startswith("the ") and not phrase.surface.startswith("the "):
                phrase.surface = surface
            phrase.sentences.add(sentence.index)
    return sorted(found.values(), key=lambda p: (-p.score, min(p.sentences), p.surface))


def _tokens(sentence: Sentence, names: set[str]) -> list[_Token]:
    tokens: list[_Token] = []
    previous_end = 0
    for match in _TOKEN_RE.finditer(sentence.text):
        word = match.group()
        gap = sentence.text[previous_end : match.start()]
        previous_end = match.end()
        starts_unit = not tokens or bool(gap.strip())
        capitalised = word[:1].isupper() and (not word.isupper() or len(word) > 1)
        if capitalised and (not tokens or ":" in gap) and word.lower() not in names:
            capitalised = False
        capitalised = capitalised or word.startswith("[")  # a placeholder
        tokens.append(_Token(word, word.lower(), starts_unit, capitalised))
    for index, token in enumerate(tokens):
        # A sentence-initial capital belongs to a name when a capitalised word follows ("Marie Curie").
        if index == 0 and token.word[:1].isupper() and token.lower not in STOPWORDS:
            following = tokens[1] if len(tokens) > 1 else None
            token.capitalised = token.capitalised or bool(following and following.capitalised)
    return tokens


def _chunks(sentence: Sentence, names: set[str]) -> list[tuple[str, bool]]:
    """Names and noun phrases of one sentence: `(surface, is_name)`, with `the` when the text has one."""
    tokens = _tokens(sentence, names)
    chunks: list[tuple[str, bool]] = []
    after_verb = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        previous = tokens[i - 1].lower if i and not token.starts_unit else None
        article = "the " if previous in _ARTICLES else ""
        if token.capitalised and token.lower not in STOPWORDS:
            end = i + 1
            while end < len(tokens) and not tokens[end].starts_unit:
                nxt = tokens[end]
                if nxt.capitalised or _VERSION_RE.match(nxt.word) or nxt.lower in _NAME_CONNECTORS:
                    end += 1
                else:
                    break
            while end > i + 1 and tokens[end - 1].lower in _NAME_CONNECTORS:
                end -= 1
            words = [t.word for t in tokens[i:end]]
            if len(words) > 1 or len(words[0]) > 2:
                chunks.append((("the " if previous == "the" else "") + " ".join(words), True))
            i = end
            continue
        may_start = token.starts_unit or previous in _NP_OPENERS or after_verb
        after_verb = False
        if not may_start or not _nounish(token) or (token.lower.endswith("ed") and previous not in _ARTICLES):
            i += 1
            continue
        end = i + 1
        verb_at = None
        while end < len(tokens) and not tokens[end].starts_unit and not tokens[end].capitalised:
            nxt = tokens[end]
            if not _nounish(nxt) or nxt.lower.endswith(("ed", "ing")):
                break
            if _agrees_as_verb(tokens[end - 1].lower, nxt.lower):
                verb_at = end
                break
            end += 1
        after = tokens[end] if end < len(tokens) and not tokens[end].starts_unit else None
        if after and after.lower in _OBJECT_STARTERS and tokens[end - 1].lower.endswith("s"):
            end -= 1  # "the vacuum maps the flat": the last word was a verb
        words = [t.lower for t in tokens[i:end]][-_MAX_PHRASE_WORDS:]
        single_ends_phrase = after is None or not after.capitalised  # not "ancient" in "ancient Romans"
        if len(words) > 1 or (words and single_ends_phrase and not words[0].endswith(("ing", "ed"))):
            chunks.append((article + " ".join(words), False))
        i = max(end, i + 1)
        if verb_at is not None:
            i, after_verb = verb_at + 1, True  # its object may start a noun phrase
    return chunks


def _agrees_as_verb(noun: str, word: str) -> bool:
    """Whether `word` after `noun` reads as its verb: "temperatures cause", "the museum opens"."""
    if noun.endswith("s") and not noun.endswith(("ss", "us", "is")):
        return word in _COMMON_VERBS
    for suffix in ("es", "s"):
        if word.endswith(suffix) and word[: -len(suffix)] in _COMMON_VERBS:
            return True
    return word.endswith("ies") and word[:-3] + "y" in _COMMON_VERBS


def _nounish(token: _Token) -> bool:
    lower = token.lower
    return (
        (lower.isalpha() or "-" in lower)
        and len(lower) > 2
        and is_content(lower)
        and lower not in _VERBISH
        and not lower.endswith("ly")
    )


def _name_words(sentences: list[Sentence]) -> set[str]:
    """Lower-cased words written with a capital inside a sentence: names, not sentence starts."""
    names: set[str] = set()
    for sentence in sentences:
        matches = list(WORD_RE.finditer(sentence.text))
        for previous, match in itertools.pairwise(matches):
            gap = sentence.text[previous.end() : match.start()]
            if match.group()[:1].isupper() and not any(ch in gap for ch in '.:!?"\u201c'):
                names.add(match.group().lower())
    return names


def _subjects(phrases: list[KeyPhrase]) -> Iterator[str]:
    """Phrases for the single-subject templates, each subject used once across them."""
    used: set[str] = set()
    for phrase in phrases:
        if phrase.stems & used or _is_generic(phrase):
            continue
        used |= phrase.stems
        yield phrase.surface


def _is_generic(phrase: KeyPhrase) -> bool:
    return phrase.surface.lower().removeprefix("the ") in _GENERIC


def _pairs(phrases: list[KeyPhrase]) -> Iterator[tuple[str, str]]:
    top = [p for p in phrases if not _is_generic(p)][:8]
    for i, first in enumerate(top):
        for second in top[i + 1 :]:
            if first.sentences & second.sentences and not first.stems & second.stems:
                yield (first.surface, second.surface)


def _specific_questions(ranked: list[Sentence], names: set[str]) -> Iterator[str]:
    for sentence in ranked:
        year = _YEAR_RE.search(sentence.text)
        if year:
            yield f"What happened in {year.group(1)}?"
        cause = _CAUSE_RE.search(sentence.text)
        if cause:
            clause = _clause_text(sentence.text[: cause.start()], names)
            if clause and 3 <= len(clause.split()) <= _MAX_CLAUSE_WORDS:
                yield f"What explains why {clause}?"


def _clause(sentence: Sentence, names: set[str]) -> str | None:
    """The sentence as a `that`-clause, when it is a plain statement of reasonable length."""
    if not 5 <= sentence.word_count <= _MAX_CLAUSE_WORDS or sentence.text[-1] in CLOSERS + ":;":
        return None
    if len(set(sentence.stems)) < 2:
        return None
    return _clause_text(sentence.text, names)


def _clause_text(text: str, names: set[str]) -> str | None:
    text = _PARENTHETICAL_RE.sub("", text.strip().rstrip(".!\u2026;:, "))
    lead, comma, rest = text.partition(", ")
    if comma and len(lead.split()) <= 4 and len(rest.split()) >= 4:
        text = rest  # "At the same time, few new antibiotics ..." -> "few new antibiotics ..."
    words = text.split()
    while words and words[0].lower() in _LEADING_CONNECTIVES:
        words.pop(0)
    if len(words) < 3 or words[0].lower().strip("'" + RIGHT_QUOTE) in _PRONOUN_STARTS:
        return None
    first = words[0]
    lower = first.lower()
    next_is_name = words[1][:1].isupper() and words[1] != "I"
    title_case = first[:1].isupper() and first[1:].islower()
    if title_case and (lower in STOPWORDS or (lower not in names and not next_is_name)):
        words[0] = lower
    return " ".join(words)
