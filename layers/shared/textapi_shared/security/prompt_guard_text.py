"""The prompt guard's detection: normalisation (folding obfuscations back to plain text), decoding of
encoded payloads, and the rule matching over each form of a text. Loaded on the first inspection,
so a cold start that never inspects text (a health check) does not compile these patterns.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
import unicodedata
from typing import TYPE_CHECKING
from urllib.parse import unquote

from textapi_shared.security.prompt_guard_rules import (
    AUTHORITY_CLAIM,
    CONTENT_RULE_COUNT,
    ENCODED_PAYLOAD,
    INSTRUCTION_OVERRIDE,
    KEYWORDS,
    OBFUSCATION,
    ROLE_HIJACK,
    SYSTEM_PROMPT_EXTRACTION,
    matcher,
)

if TYPE_CHECKING:
    from collections.abc import Iterator


# ---------------------------------------------------------------------------------------------------
# Normalisation (detection only; the caller's text is never changed).

_QUOTES = (("\u2018", "'"), ("\u2019", "'"), ("\u02bc", "'"), ("\u201c", '"'), ("\u201d", '"'))
# Whitespace other than a single space or a newline (starts with a character class: a fast scan).
_EXTRA_SPACE = re.compile(r"[^\S\n](?:(?<=[^ ])|(?=[^\S\n]))[^\S\n]*")
_LINE_BREAK = re.compile(r" ?\n\s*")
_ODD_SPACE = re.compile("[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_INVISIBLE_CHARS = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
)
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
# Characters that only an obfuscated Latin text needs folding for: tag characters, fullwidth and
# mathematical letters, and invisibles or Cyrillic/Greek letters touching a Latin letter (so emoji
# joiners and variation selectors, or Russian prose, do not cost a second pass).
_SUSPICIOUS = re.compile(
    "[\uff01-\uff5e\U0001d400-\U0001d7ff\U000e0000-\U000e007f]"
    f"|[{_INVISIBLE_CHARS}\u0370-\u03ff\u0400-\u04ff](?:(?<=[a-z].)|(?=[a-z]))"
)
# Unicode tag characters mirror ASCII invisibly ("ASCII smuggling").
_TAG_RUN = re.compile("[\U000e0000-\U000e007f]+")
_HOMOGLYPHS = {
    "\u0430": "a", "\u0432": "b", "\u0435": "e", "\u0451": "e", "\u043a": "k", "\u043c": "m",
    "\u043d": "h", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0442": "t", "\u0443": "y",
    "\u0445": "x", "\u0456": "i", "\u0457": "i", "\u0458": "j", "\u0455": "s", "\u0501": "d",
    "\u051b": "q", "\u051d": "w", "\u04cf": "l", "\u0261": "g", "\u03b1": "a", "\u03b5": "e",
    "\u03b9": "i", "\u03ba": "k", "\u03bd": "v", "\u03bf": "o", "\u03c1": "p", "\u03c4": "t",
    "\u03c5": "u", "\u03c7": "x", "\u0131": "i",
}  # fmt: skip
_HOMOGLYPH = re.compile(f"[{''.join(_HOMOGLYPHS)}]")
_SPACED_HINT = re.compile(r"([ .\-_*·])(?<=[a-z].)[a-z]\1[a-z]")
_SPACED_LETTERS = re.compile(r"\b[a-z]([ .\-_*·])[a-z](?:\1[a-z])+\b")
_LETTER_SEPARATOR = re.compile(r"[ .\-_*·]")
_SPLIT_HINT = re.compile(r"-(?<=[a-z]-)(?=[a-z])")
_SPLIT_WORD = re.compile(r"[a-z]++(?:-[a-z]++)+")
_MAX_SPLIT_HINTS = 8
_LEET_HINT = re.compile(r"[013457](?<=[a-z].)[013457@$]*[a-z]")
_LEET_WORD = re.compile(r"[a-z0-9@$]+")
_MAX_LEET_HINTS = 64
# Byte tables: translating UTF-8 bytes is much faster than `str.translate` and leaves non-ASCII alone.
_LEET = bytes.maketrans(b"013457@$", b"oieastas")
_ROT13 = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"nopqrstuvwxyzabcdefghijklm")


def _bytes_translate(text: str, table: bytes) -> str:
    return text.encode("utf-8", "surrogatepass").translate(table).decode("utf-8", "surrogatepass")


_HINT_WORDS = (
    "ignore", "disregard", "forget", "instructions", "system", "prompt", "reveal", "previous",
    "rules", "pretend", "your", "restrictions", "jailbreak", "developer", "override", "reply",
    "respond", "print", "output",
)  # fmt: skip
_ROT13_HINTS = tuple(_bytes_translate(word, _ROT13) for word in _HINT_WORDS)
# Text written backwards ("tpmorp metsys ruoy tnirp"): read forwards when it holds a reversed keyword.
# The words are looked for as substrings first (in C, without the regex's try at every position).
_REVERSED_WORDS = tuple(word[::-1] for word in _HINT_WORDS)
_REVERSED_HINT = re.compile(r"\b(?:" + "|".join(_REVERSED_WORDS) + r")\b")
# An order to the model, found in a decoded payload: encoding an order is the attack, whatever it says.
_ORDER = re.compile(
    r"(?:^|[\n.!?:;] ?)(?:please )?(?:reply|respond|answer|say|print|output|tell|show|reveal|write|list"
    r"|repeat|ignore|disobey|stop|drop|skip|pretend|act|forget|return|send|give|disregard|obey|dump"
    r"|disclose)\b|\byou (?:must|will|should|are to|have to)\b|\byour (?:new )?(?:task|instructions|rules"
    r"|prompt|setup|configuration)\b"
)
# Each run's first unit is written out before its repeat: a pattern that starts with a literal or a
# character class lets `re` skip to where one can start, instead of trying the group at every position
# (2-20 times faster on prose, where none occurs).
_UNICODE_ESCAPES = re.compile(r"\\u[0-9a-fA-F]{4} ?(?:\\u[0-9a-fA-F]{4} ?){5,}")
_BINARY_OCTETS = re.compile(r"[01][01]{7} ?(?:[01]{8} ?){3,}")
_MORSE = re.compile(r"[.-][.-]{0,5}(?: / | |/)(?:[.-]{1,6}(?: / | |/)){3,}[.-]{1,6}")
_MORSE_CODES = (
    ".- -... -.-. -.. . ..-. --. .... .. .--- -.- .-.. -- -. --- .--. --.- .-. ... - ..- ...- .-- -..- "
    "-.-- --.. ----- .---- ..--- ...-- ....- ..... -.... --... ---.. ----."
)
_MORSE_LETTERS = dict(zip(_MORSE_CODES.split(" "), "abcdefghijklmnopqrstuvwxyz0123456789", strict=True))

# Encoded blobs: every candidate is decoded at most once, so the work is linear in the text.
_MIN_BLOB = 16
_BASE64_BLOB = re.compile(rf"[A-Za-z0-9+/_-]{{{_MIN_BLOB},}}={{0,2}}")
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]+")
_ESCAPED_HEX_BLOB = re.compile(rf"(?:\\x[0-9a-f]{{2}}){{{_MIN_BLOB // 2},}}")
_URL_ESCAPE = re.compile(r"%[0-9a-f]{2}")
_URL_ESCAPES_ONLY = re.compile(r"(?:%[0-9a-f]{2})+")
_LONG_TOKEN_CHARS = _MIN_BLOB // 4 * 3
_CONTROL = re.compile(r"[^\S \n\t]|[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
_MAX_BLOB_CHARS = 64_000


def _collapse(text: str) -> str:
    """Single spaces, newlines kept, and a leading newline so line-start patterns see the start."""
    if (
        "  " in text
        or "\t" in text
        or "\r" in text
        or "\f" in text
        or "\v" in text
        or _ODD_SPACE.search(text)
    ):
        text = _EXTRA_SPACE.sub(" ", text)
    if "\n" in text:
        text = _LINE_BREAK.sub("\n", text)
    return "\n" + text.strip()


def _straight_quotes(text: str) -> str:
    for curly, straight in _QUOTES:
        if curly in text:
            text = text.replace(curly, straight)
    return text


def _lowered(text: str) -> str:
    if text.isascii():
        return text.lower()
    return _straight_quotes(unicodedata.normalize("NFC", text).lower())


def _folded(text: str) -> str:
    """Compatibility-folded, lower-cased text without invisible characters or homoglyphs; spacing kept."""
    folded = unicodedata.normalize("NFKD", text)
    folded = _TAG_RUN.sub(lambda m: " " + "".join(chr(ord(c) - 0xE0000) for c in m.group()) + " ", folded)
    folded = _INVISIBLE.sub("", folded).lower()
    return _straight_quotes(_HOMOGLYPH.sub(lambda m: _HOMOGLYPHS[m.group()], folded))


# ---------------------------------------------------------------------------------------------------
# Mentions: an injection quoted or reported inside prose (a plot summary, a training note, an article
# about attacks) is written about the model, not to it.

# The rules a mention can trip. Chat-template markers and encoded payloads are not prose, wherever
# they stand, and a decoded payload is never a mention.
_MENTIONABLE = frozenset({INSTRUCTION_OVERRIDE, SYSTEM_PROMPT_EXTRACTION, ROLE_HIJACK, AUTHORITY_CLAIM})
_QUOTE_MARKS = re.compile("[\"'`\u00ab\u00bb\n]")
_MAX_QUOTE = 400
_OPENS_AFTER = frozenset(" \n([{:,;/-")
_CLOSES_BEFORE = frozenset(" \n.,;:!?)]}/-")
# Before a quotation, in its sentence: a reporting verb in the third person, the past or after a modal
# ("types", "wrote", "users may ask"), a system's reaction ("refused", "flagged"), or a word that
# presents the quotation as a specimen ("the phrase", "lines like", "such as", "attacks"). A bare
# imperative ("say", "translate the following:") is none of these.
_REPORTING_CUE = re.compile(
    r"\b(?:(?:can|could|may|might|will|would|often|sometimes|usually|never) (?:say|write|type|ask|tell|send"
    r"|post|enter|paste|try|use|reply|shout|see|read)"
    r"|refuses|refused|rejects|rejected|blocks|blocked|flags|flagged|catches|caught|detects|detected|obeys"
    r"|obeyed|ignores|ignored|follows|followed|shares|shared|sees|saw|seen"
    r"|says|said|saying|wrote|writes|writing|written|typed|types|typing|asks|asked|asking|tells|told"
    r"|telling|whisper(?:s|ed|ing)|shout(?:s|ed|ing)|yell(?:s|ed|ing)|scream(?:s|ed|ing)|mutter(?:s|ed|ing)"
    r"|posts|posted|posting|sent|sends|sending|texts|texted|texting|replies|replied|replying|responds"
    r"|responded|read|reads|reading|recites|recited|reciting|repeats|repeated|repeating|quotes|quoted"
    r"|quoting|contains|contained|containing|includes|included|including|hid|hides|hidden|hiding|planted"
    r"|embedded|submits|submitted|entered|enters|pasted|pastes|flash(?:es|ed|ing)|broadcasts?|heard|hears"
    r"|mentions|mentioned|claims|claimed|called|titled|labell?ed|dubbed|known as|used|uses|using|tries"
    r"|tried|trying|like|such as|e\.g|i\.e|for example|for instance|as in|of the (?:type|form|kind)"
    r"|variants? of|variations? of|versions? of|phrases?|phrasings?|lines?|sentences?|strings?|words"
    r"|clauses?|examples?|payloads?|prompts?|catchphrases?|slogans?|meme|attacks?|injections?|jailbreaks?"
    r"|exploits?|tricks?|spans?|comments?|footer|caption|tweets?|headline|sampler|poster)\b"
)
_SENTENCE_END = re.compile(r"[.!?][\"')\]]* |\n")
# After a quotation: what makes it a noun in the sentence ('"ignore previous instructions" style
# attacks', '"..." did nothing', '"..." as a joke', 'passes "..." to the model').
_QUOTED_AS_NOUN = re.compile(
    r" (?:style|attacks?|tricks?|prompts?|phrases?|jailbreaks?|exploits?|injections?|payloads?|examples?"
    r"|meme|on (?:a|the|every|its|their|his|her)|in (?:a|the|many|every|its|their|his|her|our|white"
    r"|hidden)|as (?:a|an)|to (?:the|a|an|its|their|his|her|every|any)|did|does|didn't|doesn't|has|had"
    r"|became|becomes|worked|works|work|came|comes|almost|still|got|gets|turned|went|appears|appeared"
    r"|sounds|sounded|looks|looked|means|meant|is (?:an?|the|one|just|still|not|no longer)"
    r"|was (?:an?|the|one|just|once|not|still)|were|increases|increased)\b"
)
# "the AI is told to ignore ...", "tricks the chatbot into revealing ...": an order given to someone
# else in the story, never to "you".
_REPORTED_ORDER = re.compile(
    r"(?:(?<!you )(?<!\bu )(?<!you have )(?<!you've )(?<!you had )\b(?:is|was|are|were|been|being|gets|got"
    r"|getting)(?: \w+ly)? (?:told|asked"
    r"|instructed|ordered|commanded|made|forced|tricked|persuaded|convinced|programmed|urged|encouraged"
    r"|begged|challenged|prompted)"
    r"|\b(?:told|tells|telling|asked|asks|asking|instructs|instructed|instructing|orders|ordered|ordering"
    r"|commands|commanded|commanding|tricks|tricked|tricking|convinces|convinced|convincing|persuades"
    r"|persuaded|persuading|forces|forced|forcing|gets|got|getting|causes|caused|causing|urges|urged"
    r"|urging|encourages|encouraged|encouraging|begs|begged|begging|challenges|challenged|prompts|prompted"
    r"|prompting|coaxes|coaxed|coaxing|fools|fooled|fooling|manipulates|manipulated|manipulating)"
    r"(?: (?!(?:you|u|yourself|me|us)\b)[\w'-]+){1,4}?"
    r"|\b(?:can|could|may|might|will|would|to|often|sometimes|usually) (?:ask|tell|order|instruct|command"
    r"|trick|convince|persuade|force|get|urge|beg)(?: (?!(?:you|u|yourself|me|us)\b)[\w'-]+){1,4}?)"
    r" (?:to|into) [\"'`\u00ab]?\Z"
    r"|\b(?:makes|made|making|to make|lets|letting)(?: (?!(?:you|u|yourself|me|us)\b)[\w'-]+){1,4}? \Z"
)


class _Mentions:
    """Where `text` quotes or reports what it says: quotations introduced as reported speech, and orders
    reported as given to someone else."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans: list[tuple[int, int]] = []  # reported quotations, by start
        quotations = sorted(self._quotations())
        previous: tuple[int, int, bool] | None = None
        for start, end in quotations:
            reported = self._introduced(start, previous) or bool(_QUOTED_AS_NOUN.match(text, end))
            if reported:
                self.spans.append((start, end))
            if previous is None or previous[1] <= start:
                previous = (start, end, reported)
        self.starts = [start for start, _ in self.spans]

    def _quotations(self) -> Iterator[tuple[int, int]]:
        """Each quotation's span, its marks included: a mark that can open (after a space or an opening
        bracket, before a letter) paired with the next of its kind that can close, on one line."""
        text = self.text
        opened: dict[str, int] = {}
        for mark in _QUOTE_MARKS.finditer(text):
            at, char = mark.start(), mark.group()
            if char == "\n":
                opened.clear()
                continue
            before = text[at - 1] if at else " "
            after = text[at + 1] if at + 1 < len(text) else " "
            kind = "\u00ab" if char == "\u00bb" else char
            if char == "'":
                can_open = not before.isalnum() and not after.isspace()
                can_close = not before.isspace() and not after.isalnum()
            else:
                can_open = char != "\u00bb" and before in _OPENS_AFTER and not after.isspace()
                can_close = char != "\u00ab" and not before.isspace() and after in _CLOSES_BEFORE
            start = opened.get(kind)
            if start is not None and can_close:
                del opened[kind]
                if at - start <= _MAX_QUOTE:
                    yield start, at + 1
            elif can_open:
                opened[kind] = at

    def _introduced(self, start: int, previous: tuple[int, int, bool] | None) -> bool:
        """Whether the quotation at `start` is introduced as reported: by a cue earlier in its sentence,
        or as the next item after a reported quotation in the same sentence."""
        text = self.text
        since = 0
        if previous is not None and previous[1] <= start:
            between = text[previous[1] : start]
            if previous[2] and len(between) <= 60 and not _SENTENCE_END.search(between):
                return True
            since = previous[1]
        lead = max(since, start - 120)
        for end in _SENTENCE_END.finditer(text, lead, start):
            lead = end.end()
        return _REPORTING_CUE.search(text, lead, start) is not None

    def covers(self, start: int, end: int) -> bool:
        """Whether text[start:end] lies inside a reported quotation or is a reported order."""
        index = bisect.bisect_right(self.starts, start)
        for span_start, span_end in self.spans[max(0, index - 4) : index]:
            if span_start <= start and end <= span_end:
                return True
        return _REPORTED_ORDER.search(self.text, max(0, start - 80), start) is not None


def _hits(text: str, *, mentions_pass: bool = False) -> set[str]:
    """The rules `text` trips; with `mentions_pass`, a match that only quotes or reports an injection
    (see `_Mentions`) does not count, and the scan goes on for another of the same rule."""
    found: set[str] = set()
    compiled = matcher()
    by_trigger = compiled.by_trigger
    mentions: _Mentions | None = None
    for match in compiled.trigger.finditer(text):
        start = match.start()
        for name, pattern in by_trigger[match.group()]:
            if name not in found and (hit := pattern.match(text, start)):
                if mentions_pass and name in _MENTIONABLE:
                    mentions = mentions or _Mentions(text)
                    if mentions.covers(hit.start(), hit.end()):
                        continue
                found.add(name)
                if len(found) == CONTENT_RULE_COUNT:
                    return found
    return found


def _joined_variant(text: str) -> str | None:
    """Spaced-out letters and split words joined, if that reveals a keyword."""
    revealed = False

    def join(match: re.Match[str]) -> str:
        nonlocal revealed
        word = _LETTER_SEPARATOR.sub("", match.group())
        revealed = revealed or word in KEYWORDS
        return word

    # Spaced-out letters: only the (rare) runs found by the hint are rewritten.
    pieces: list[str] = []
    done = 0
    hint = _SPACED_HINT.search(text)
    while hint:
        run = _SPACED_LETTERS.match(text, hint.start() - 1)
        if run:
            pieces += [text[done : run.start()], join(run)]
            done = run.end()
        hint = _SPACED_HINT.search(text, max(done, hint.start() + 1))
    joined = "".join([*pieces, text[done:]]) if pieces else text
    # Hyphens are common in prose; only the words around them are looked at before rewriting.
    for count, hyphen in enumerate(_SPLIT_HINT.finditer(joined)):
        if count == _MAX_SPLIT_HINTS:
            joined = _SPLIT_WORD.sub(join, joined)  # many hyphens: one rewrite checks every word
            break
        start = hyphen.start()
        words = _SPLIT_WORD.finditer(joined, max(0, start - 40), start + 40)
        if any(w.start() < start < w.end() and w.group().replace("-", "") in KEYWORDS for w in words):
            joined = _SPLIT_WORD.sub(join, joined)
            break
    return joined if revealed else None


def _leet_reveals_keyword(text: str) -> bool:
    """Whether digits inside a word ("1gn0re") spell a keyword once read as letters."""
    for count, hint in enumerate(_LEET_HINT.finditer(text)):
        if count == _MAX_LEET_HINTS:
            return True  # digit-heavy text: one full pass is cheaper than checking every word
        start = hint.start()
        word = _LEET_WORD.search(text, max(0, start - 30), start + 30)
        while word and word.end() <= start:
            word = _LEET_WORD.search(text, word.end(), start + 30)
        if word and _bytes_translate(word.group(), _LEET) in KEYWORDS:
            return True
    return False


def _readable(raw: bytes) -> str | None:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(decoded) < _MIN_BLOB // 2 or len(_CONTROL.findall(decoded)) > len(decoded) // 10:
        return None
    return decoded if any(c.isalpha() for c in decoded[:64]) else None


def _decode_base64(blob: str) -> str | None:
    body = blob.rstrip("=").replace("-", "+").replace("_", "/")
    if len(body) % 4 == 1:
        body = body[:-1]
    try:
        return _readable(base64.b64decode(body + "=" * (-len(body) % 4), validate=True))
    except (binascii.Error, ValueError):
        return None


def _decode_hex(blob: str) -> str | None:
    digits = blob.replace("\\x", "")
    try:
        return _readable(bytes.fromhex(digits[: len(digits) - len(digits) % 2]))
    except ValueError:
        return None


def _decode_url(blob: str) -> str | None:
    escapes = _URL_ESCAPES_ONLY.match(blob)
    if escapes and len(blob) - escapes.end() < 3:
        return _readable(bytes.fromhex(escapes.group().replace("%", "")))
    return unquote(blob) if len(_URL_ESCAPE.findall(blob)) >= 4 else None


def _spelled_payloads(text: str, lowered: str) -> Iterator[str]:
    """Text spelled out as \\u escapes, binary octets, Morse, or backwards (`lowered` is `text.lower()`)."""
    for run in _UNICODE_ESCAPES.finditer(text):
        yield "".join(chr(int(code, 16)) for code in re.findall(r"[0-9a-fA-F]{4}", run.group()))
    for run in _BINARY_OCTETS.finditer(text):
        decoded = _readable(bytes(int(octet, 2) for octet in run.group().split()))
        if decoded:
            yield decoded
    for run in _MORSE.finditer(text):
        words = run.group().replace(" / ", "/").split("/")
        yield " ".join("".join(_MORSE_LETTERS.get(code, "") for code in word.split()) for word in words)
    if any(word in lowered for word in _REVERSED_WORDS) and _REVERSED_HINT.search(lowered):
        yield lowered[::-1]


def _decoded_payloads(text: str, lowered: str) -> Iterator[str]:
    """Readable text decoded from base64, hex or URL-encoded tokens; each token is decoded once."""
    yield from _spelled_payloads(text, lowered)
    budget = _MAX_BLOB_CHARS
    # Whitespace-separated runs, as `\S+` finds them (both use str.isspace), split in C.
    for token in (run for run in text.split() if len(run) >= _LONG_TOKEN_CHARS):
        budget -= len(token)
        if budget < 0:
            return
        if "%" in token:
            decoded = _decode_url(token.lower())
            if decoded:
                yield decoded
        if "\\x" in token:
            for blob in _ESCAPED_HEX_BLOB.finditer(token.lower()):
                decoded = _decode_hex(blob.group())
                if decoded:
                    yield decoded
        for blob in _BASE64_BLOB.finditer(token):
            candidate = blob.group()
            if _HEX_DIGITS.fullmatch(candidate):
                decoded = _decode_hex(candidate) or _decode_base64(candidate)
            elif candidate.islower() or candidate.isupper():
                continue  # base64 of text mixes cases; identifiers and slugs do not need decoding
            else:
                decoded = _decode_base64(candidate)
            if decoded:
                yield decoded


def _ordered(decoded: str) -> set[str]:
    return {ENCODED_PAYLOAD} if _ORDER.search(decoded) else set()


def inspect_text(text: str) -> set[str]:
    """The names of the rules `text` trips, in any of its normalised or decoded forms."""
    if not text or text.isspace():
        return set()
    lowered = _lowered(text)
    plain = _collapse(lowered)
    rules = _hits(plain, mentions_pass=True)
    ascii_only = text.isascii()

    # Obfuscation: rules that only fire once the text is folded back to plain letters. Spaced-out
    # letters are joined before collapsing, so a wider gap still separates the words.
    variants: list[str] = []
    folded = lowered
    normalised = plain
    if not ascii_only and _SUSPICIOUS.search(lowered):
        folded = _folded(text)
        normalised = _collapse(folded)
        variants.append(normalised)
    joined = _joined_variant(folded)
    if joined is not None:
        variants.append(_collapse(joined))
    if _leet_reveals_keyword(folded):
        variants.extend([_bytes_translate(v, _LEET) for v in variants] or [_bytes_translate(plain, _LEET)])
    # Hiding a quotation is itself the tell: the folded forms get no mentions pass, and what they trip
    # counts as hidden only if the plain text, read without that pass either, does not trip it too.
    hidden: set[str] = set()
    for variant in variants:
        hidden |= _hits(variant)
    if hidden - rules and hidden - _hits(plain):
        rules |= hidden | {OBFUSCATION}

    # Encoded payloads: rot13 keeps punctuation, so only rules the rotated text adds count.
    encoded: set[str] = set()
    if any(hint in normalised for hint in _ROT13_HINTS):
        rotated = _bytes_translate(normalised, _ROT13)
        encoded |= (_hits(rotated) - rules) or _ordered(rotated)
    # `str.lower` of the text, which `lowered` is when the text is ASCII (no normalisation to undo).
    for payload in _decoded_payloads(text, lowered if ascii_only else text.lower()):
        form = _collapse(_folded(payload))
        encoded |= _hits(form) or _ordered(form)
    if encoded:
        rules |= encoded | {ENCODED_PAYLOAD}
    return rules
