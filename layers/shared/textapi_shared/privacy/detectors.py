"""Detectors for the structured kinds of PII: each finds a candidate by its shape, then validates it
(checksum, ranges, lengths, context), so order numbers, versions, dates and the like are refused.

- ``EMAIL``: ASCII local part (at most 64 characters, no leading, trailing or double dot) ``@`` a
  domain of at most 253 characters whose last label is two or more letters (or ``xn--`` punycode).
- ``PHONE``: international with ``+``, ``(+44)`` or ``00`` (an assigned country code, and a national
  number of that country's length; North American numbers also by the NANP rules); North American
  national (``(415) 555-2671``, ``415-555-2671``, ``415.555.2671``, ``415 555 2671``,
  ``1-415-555-2671``: area code and exchange 2–9, not N11, area not N9X); European national with a
  trunk ``0`` and at least two groups (``020 7946 0958``, ``030 12345678``, ``089/1234567``,
  ``01 23 45 67 89``): 10 or 11 digits (12 for German mobiles), groups after the first of at least two
  digits, not a date, not part of a uniform run of groups (lottery numbers). A number without
  separators (``4155552671``, ``02079460958``) counts only after a word such as "phone", "call",
  "mobile", "tel", "fax", "whatsapp" close before it. An extension (``x185``, ``ext. 12``) and a
  ``tel:`` link belong to the span.
- ``CARD``: 14–19 digits, contiguous or in the printed groupings (4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4)
  with one separator kind, an issuer prefix of its length (Visa, Mastercard, Amex, Discover, JCB,
  Diners, UnionPay, Maestro, Mir) and a valid Luhn check digit.
- ``IBAN``: a country of the IBAN registry, that country's exact length, and mod-97 = 1; compact or in
  groups of four.
- ``IP``: IPv4 dotted quads with octets 0–255 and no leading zeros (an optional ``/prefix``), except
  right after a word that makes it a version or a numbered item ("version", "build", "release",
  "firmware", "Python", "section", "clause", "§", ...) or within 60 characters after "version" in its
  sentence; IPv6 as `ipaddress` parses it, with at least four hex digits (so ``::1`` and ``a::b`` do
  not count).
- ``SSN``: ``AAA-GG-SSSS`` (or spaces) with the area not 000, 666 or 900–999, the group not 00 and the
  serial not 0000; nine contiguous digits only after "SSN" or "social security".
- ``URL_SECRET``: a URL (any ``scheme://``) carrying a password (``user:pass@``), a secret query or
  fragment parameter (``token``, ``access_token``, ``api_key``, ``password``, ``sig``, ``signature``,
  ``X-Amz-Signature``, ``X-Amz-Credential``, ...; names that are also ordinary, like ``key`` or
  ``code``, need a value that looks random), or a webhook path (Slack, Discord). The whole URL.
- ``AWS_KEY``: an access key id, ``AKIA``/``ASIA``/... and 16 base-32 characters.
- ``AWS_SECRET``: 40 base-64 characters with upper and lower case and a digit or symbol, only right
  after "aws_secret_access_key", "secret access key" and the like, or after an access key id.
- ``TOKEN``: ``Bearer <token>`` (the token), JSON web tokens, keys with a known prefix (``sk-``,
  ``sk_live_``, ``ghp_``, ``github_pat_``, ``glpat-``, ``xoxb-``, ``AIza``, ``ya29.``, ``npm_``,
  ``hf_``, ``SG.``, this API's ``ta_``), PEM private key blocks, and the value assigned to a secret
  name (``api_key=``, ``token:``, ``password=``, ``client_secret``, ``Authorization:``) when it looks
  like a secret (a token: 12+ characters with a letter and a digit; a password: 6+ characters with a
  digit, a symbol or a capital after the first letter).

Time is linear in the text's length: every pattern starts with a character class or a literal (the
regex engine skips to candidates in C), repeats are possessive or bounded, neighbours are checked by
look-behinds in the engine rather than in Python, and a pass that needs a rare character (``@``,
``://``, ``::``) only runs when the text has one. tests/bench/bench_pii.py holds it to that.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from textapi_shared.privacy.entities import PiiSpan, PiiType

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator


def detect(text: str) -> list[PiiSpan]:
    """The structured PII in `text`: non-overlapping spans in text order (see `resolve`)."""
    scan = _Scan(text)
    spans: list[PiiSpan] = []
    for finder in _FINDERS:
        spans.extend(finder(scan))
    return resolve(spans)


# Where spans overlap, the longest wins; on equal length, the type earlier here (the more specific).
_PRECEDENCE = {
    kind: rank
    for rank, kind in enumerate(
        [
            PiiType.URL_SECRET,
            PiiType.AWS_SECRET,
            PiiType.TOKEN,
            PiiType.AWS_KEY,
            PiiType.CARD,
            PiiType.IBAN,
            PiiType.SSN,
            PiiType.EMAIL,
            PiiType.IP,
            PiiType.PHONE,
            PiiType.ADDRESS,
            PiiType.NAME,
        ]
    )
}


def resolve(spans: Iterable[PiiSpan]) -> list[PiiSpan]:
    """Non-overlapping spans in text order. Of overlapping spans the longest wins (on a tie, the more
    specific type: a URL with a password over the e-mail-like part inside it); a loser that reaches
    beyond the winner widens it, so no part of either is left in the text. Empty spans are dropped."""
    ordered = sorted({span for span in spans if span.start < span.end})
    resolved: list[PiiSpan] = []
    cluster: list[PiiSpan] = []
    cluster_end = -1
    for span in ordered:
        if cluster and span.start < cluster_end:
            cluster.append(span)
            cluster_end = max(cluster_end, span.end)
            continue
        resolved.extend(_resolve_cluster(cluster))
        cluster, cluster_end = [span], span.end
    resolved.extend(_resolve_cluster(cluster))
    return resolved


def _resolve_cluster(cluster: list[PiiSpan]) -> list[PiiSpan]:
    if len(cluster) < 2:
        return cluster
    chosen: list[PiiSpan] = []
    for span in sorted(cluster, key=lambda s: (s.start - s.end, _PRECEDENCE[s.type], s.start)):
        touching = [c for c in chosen if c.start < span.end and span.start < c.end]
        if not touching:
            chosen.append(span)
        elif not any(c.start <= span.start and span.end <= c.end for c in touching):
            # Partly outside the winners: they merge with it under the first (strongest) winner's type.
            for c in touching:
                chosen.remove(c)
            start = min(span.start, *(c.start for c in touching))
            end = max(span.end, *(c.end for c in touching))
            chosen.append(PiiSpan(start, end, touching[0].type))
    return sorted(chosen)


# ---------------------------------------------------------------------------------------------------
# The text being scanned, with the lower-case copy the keyword contexts are matched in.


class _Scan:
    __slots__ = ("_lower", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._lower: str | None = None

    @property
    def lower(self) -> str:
        """`text` in lower case, index for index (the few characters whose lower case is longer,
        like "İ", are kept as they are)."""
        if self._lower is None:
            lowered = self.text.lower()
            if len(lowered) != len(self.text):
                lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in self.text)
            self._lower = lowered
        return self._lower

    def context(self, pattern: re.Pattern[str], start: int, window: int = 40) -> bool:
        """Whether `pattern` occurs in the `window` characters before `start`."""
        return pattern.search(self.lower, max(0, start - window), start) is not None


def _is_word(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def _glued_right(text: str, end: int) -> bool:
    """More of a number or a code follows: a letter or digit, or a joining separator and a digit."""
    if end >= len(text):
        return False
    after = text[end]
    return _is_word(after) or (after in ".-/" and end + 1 < len(text) and text[end + 1].isdigit())


def _accepting(
    pattern: re.Pattern[str], text: str, accept: Callable[[re.Match[str]], PiiSpan | None]
) -> Iterator[PiiSpan]:
    """The spans `accept` makes of `pattern`'s matches. After a rejected match the search goes on one
    character after its start (a valid number may begin inside it), after an accepted one past it."""
    position = 0
    while (match := pattern.search(text, position)) is not None:
        span = accept(match)
        if span is None:
            position = match.start() + 1
        else:
            yield span
            position = span.end


# ---------------------------------------------------------------------------------------------------
# E-mail

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}+)(?:\.[A-Za-z0-9\-]{1,63}+)++"
)
_TLD = re.compile(r"[A-Za-z]{2,63}|xn--[A-Za-z0-9\-]{1,59}")


def _emails(scan: _Scan) -> Iterator[PiiSpan]:
    text = scan.text
    if "@" not in text:
        return
    for match in _EMAIL.finditer(text):
        start, end = match.span()
        at = text.index("@", start)
        local = text[start:at]
        if ".." in local:  # "see...john@x.org": the address starts after the last run of dots
            start += local.rindex("..") + 2
            local = text[start:at]
        while local.startswith("."):
            start += 1
            local = local[1:]
        domain = text[at + 1 : end]
        labels = domain.split(".")
        if (
            local
            and not local.endswith(".")
            and len(domain) <= 253
            and _TLD.fullmatch(labels[-1])
            and all(label and label[0] != "-" and label[-1] != "-" for label in labels)
        ):
            yield PiiSpan(start, end, PiiType.EMAIL)


# ---------------------------------------------------------------------------------------------------
# Numbers: phone numbers, payment cards, SSNs. Each pattern starts with the number's first character
# and checks right there, in the engine, that it is not glued to a letter or to more digits ("x12",
# "12-" before it), and at its end that nothing such follows, so a part of a longer number or code
# never matches.

_STARTS = r"(?<![A-Za-z0-9_]\d)(?<!\d[.\-/]\d)"  # after a first digit
_AFTER_DIGIT_SPACE = r"(?<!\d \d)"  # after a first digit: not in a run of space-separated numbers
_ENDS = r"(?![A-Za-z0-9_]|[.\-/]\d)"

# E.164 country codes in use (prefix-free: at most one is a prefix of any number).
_COUNTRY_CODES = frozenset(
    {"1", "7"}
    | {
        "20",
        "27",
        "30",
        "31",
        "32",
        "33",
        "34",
        "36",
        "39",
        "40",
        "41",
        "43",
        "44",
        "45",
        "46",
        "47",
        "48",
        "49",
        "51",
        "52",
        "53",
        "54",
        "55",
        "56",
        "57",
        "58",
        "60",
        "61",
        "62",
        "63",
        "64",
        "65",
        "66",
        "81",
        "82",
        "84",
        "86",
        "90",
        "91",
        "92",
        "93",
        "94",
        "95",
        "98",
    }
    | {str(code) for code in (211, 212, 213, 216, 218, *range(220, 259), *range(260, 270))}
    | {str(code) for code in (290, 291, 297, 298, 299, *range(350, 360), *range(370, 390)) if code != 384}
    | {"420", "421", "423", *(str(code) for code in (*range(500, 510), *range(590, 600)))}
    | {str(code) for code in (670, *range(672, 693)) if code != 684}
    | {"850", "852", "853", "855", "856", "880", "886"}
    | {str(code) for code in (*range(960, 969), *range(970, 978), *range(992, 997), 998)}
)
# Length range of the national significant number for the common countries; others: 6 to 15 - cc.
_NATIONAL_LENGTHS = {
    "1": (10, 10), "7": (10, 10), "20": (8, 10), "27": (9, 9), "30": (10, 10), "31": (9, 9),
    "32": (8, 9), "33": (9, 9), "34": (9, 9), "36": (8, 9), "39": (6, 11), "40": (9, 9),
    "41": (9, 9), "43": (7, 13), "44": (9, 10), "45": (8, 8), "46": (7, 10), "47": (8, 8),
    "48": (9, 9), "49": (7, 13), "51": (8, 9), "52": (10, 10), "54": (10, 11), "55": (10, 11),
    "56": (9, 9), "57": (8, 10), "60": (8, 10), "61": (9, 9), "62": (8, 12), "63": (8, 10),
    "64": (8, 10), "65": (8, 8), "66": (8, 9), "81": (9, 10), "82": (8, 11), "84": (9, 10),
    "86": (10, 11), "90": (10, 10), "91": (10, 10), "92": (9, 10), "351": (9, 9), "353": (7, 9),
    "358": (6, 12), "420": (9, 9), "421": (9, 9), "852": (8, 8), "971": (8, 9), "972": (8, 9),
}  # fmt: skip

# "+44 20 7946 0958", "+1 (415) 555-2671", "+44 (0)20 ...", "(+44) 20 ...", "0044 20 ...": up to 8
# groups, possessive (one way to split the digits), cut back at a space afterwards when a longer run
# was taken.
_INTERNATIONAL = re.compile(
    r"\+(?<![A-Za-z0-9_+]\+)[1-9](?:[ .\-]?+(?:\(\d{1,4}+\)|\d{1,5}+)){1,8}+"
    r"|\((?<![A-Za-z0-9_(]\()\+[1-9]\d{0,2}+\)(?:[ .\-]?+(?:\(\d{1,4}+\)|\d{1,5}+)){1,8}+"
    rf"|0{_STARTS}0[1-9](?:[ .\-]?+(?:\(\d{{1,4}}+\)|\d{{1,5}}+)){{1,8}}+"
)
# An extension after a number ("x185", "ext. 12", "extension 4"), and a tel: link before it: both
# belong to the number.
_EXTENSION = re.compile(r" ?,? ?(?:x|ext\.?|extension)[ .:#]{0,2}\d{1,6}(?![A-Za-z0-9_])", re.IGNORECASE)
_NANP = re.compile(
    rf"\d{_STARTS}\d\d([.\-])\d{{3}}\1\d{{4}}{_ENDS}"
    rf"|\d{_STARTS}{_AFTER_DIGIT_SPACE}\d\d \d{{3}} \d{{4}}{_ENDS}"
    rf"|\((?<![A-Za-z0-9_(]\()\d{{3}}\) ?\d{{3}}[ .\-]\d{{4}}{_ENDS}"
    rf"|1{_STARTS}[ .\-](?:\(\d{{3}}\) ?|\d{{3}}[ .\-])\d{{3}}[ .\-]\d{{4}}{_ENDS}"
)
_TRUNK = re.compile(
    rf"0{_STARTS}{_AFTER_DIGIT_SPACE}[1-9]\d{{0,3}}+(?:[ .\-/]\d{{2,8}}+){{1,4}}+"
    r"|\((?<![A-Za-z0-9_(]\()0[1-9]\d{0,3}+\) ?\d{2,8}+(?:[ .\-/]\d{2,8}+){0,3}+"
)
_DATE = re.compile(r"\(?\d{1,2}([./\-])\d{1,2}\1(?:19|20)\d\d(?!\d)")
# Where a space-separated number may be cut short: after a group, before a space.
_GROUP_END = re.compile(r"\d(?= )")
_PHONE_WORDS = re.compile(
    r"\b(?:phone|tel|telephone|call|calling|mobile|cell|cellphone|fax|whatsapp|sms|text me|dial|ring)\b"
)


# A space-separated number running on in groups of four is part of a longer one (a tracking number).
_RUN_BEFORE = re.compile(r"\d{4} \Z")
_RUN_AFTER = re.compile(r" \d{4}")


def _after_group_run(text: str, start: int) -> bool:
    return _RUN_BEFORE.search(text, max(0, start - 5), start) is not None


_FIRST_GROUP = re.compile(r"\(?(\d+)\)?([ .\-/])")
_LAST_GROUP = re.compile(r"([ .\-/])(\d+)\Z")


def _run_goes_on(text: str, start: int, end: int) -> bool:
    """The number has a group as long as its first one before it, or as long as its last one after
    it, with the same separator: part of a longer uniform run ("06 07 12 21 28 55", lottery numbers,
    lists of figures), not a phone number."""
    first = _FIRST_GROUP.match(text, start, end)
    if first is not None:
        size, separator = len(first.group(1)), first.group(2)
        before = text[max(0, start - size - 2) : start]
        if (
            before[-1:] == separator
            and before[-size - 1 : -1].isdigit()
            and not before[: -size - 1][-1:].isdigit()
        ):
            return True
    last = _LAST_GROUP.search(text, start, end)
    if last is not None:
        separator, size = last.group(1), len(last.group(2))
        after = text[end : end + size + 2]
        if (
            after[:1] == separator
            and after[1 : size + 1].isdigit()
            and not after[size + 1 : size + 2].isdigit()
        ):
            return True
    return False


def _nanp_valid(digits: str) -> bool:
    """Ten digits by the North American Numbering Plan: area code and exchange start with 2-9 and are
    not N11 (service codes); area codes N9X are reserved."""
    return (
        len(digits) == 10
        and digits[0] in "23456789"
        and digits[1:3] != "11"
        and digits[1] != "9"
        and digits[3] in "23456789"
        and digits[4:6] != "11"
    )


def _international_valid(digits: str) -> bool:
    """A country code in use and a national number of that country's length (E.164: 15 digits at
    most in all)."""
    if not 8 <= len(digits) <= 15:
        return False
    for size in (1, 2, 3):
        code = digits[:size]
        if code in _COUNTRY_CODES:
            national = digits[size:]
            low, high = _NATIONAL_LENGTHS.get(code, (6, 15 - size))
            return low <= len(national) <= high and (code != "1" or _nanp_valid(national))
    return False


def _trunk_valid(digits: str) -> bool:
    """A European national number: trunk 0 and an area code not starting with 0, 10-11 digits in all
    (12 for German mobiles, 015x/016x/017x)."""
    return (
        digits[0] == "0"
        and digits[1] != "0"
        and (len(digits) in (10, 11) or (len(digits) == 12 and digits[:3] in ("015", "016", "017")))
    )


def _digits(raw: str) -> str:
    return "".join(c for c in raw.replace("(0)", "") if c.isdigit())


def _ends(text: str, match: re.Match[str]) -> Iterator[int]:
    """Where the number may end: the whole match unless more digits are glued to it, then each
    earlier end of a space-separated group, longest first ("+44 20 7946 0958 2024")."""
    start, end = match.span()
    if not _glued_right(text, end):
        yield end
    yield from reversed([m.end() for m in _GROUP_END.finditer(text, start, end)])


def _phone_span(text: str, start: int, end: int) -> PiiSpan:
    """The number with its extension and its tel: link, if it has them."""
    extension = _EXTENSION.match(text, end)
    if extension is not None:
        end = extension.end()
    if text[max(0, start - 4) : start].lower() == "tel:":
        start -= 4
    return PiiSpan(start, end, PiiType.PHONE)


def _phones(scan: _Scan) -> Iterator[PiiSpan]:
    text = scan.text

    def international(match: re.Match[str]) -> PiiSpan | None:
        start = match.start()
        for end in _ends(text, match):
            number = text[start:end]
            if number.startswith("00"):
                if number.isdigit():
                    continue  # "00" and digits alone is as likely a code ("006733600877")
                number = number[2:]
            if _international_valid(_digits(number)):
                return _phone_span(text, start, end)
        return None

    def nanp(match: re.Match[str]) -> PiiSpan | None:
        digits = _digits(match.group())
        if _nanp_valid(digits[-10:]):
            return _phone_span(text, match.start(), match.end())
        return None

    def trunk(match: re.Match[str]) -> PiiSpan | None:
        start = match.start()
        if _DATE.match(text, start) or _after_group_run(text, start):
            return None
        for end in _ends(text, match):
            if _trunk_valid(_digits(text[start:end])) and not _run_goes_on(text, start, end):
                return _phone_span(text, start, end)
        return None

    yield from _accepting(_INTERNATIONAL, text, international)
    yield from _accepting(_NANP, text, nanp)
    yield from _accepting(_TRUNK, text, trunk)


_AFTER_GROUP_RUN = r"(?<!\d\d\d\d \d)"  # after a first digit: not after four digits and a space
_CARD_GROUPED = re.compile(
    rf"\d{_STARTS}{_AFTER_GROUP_RUN}\d{{3}} \d{{4}} \d{{4}} \d{{4}}(?: \d{{3}})?{_ENDS}"
    rf"|\d{_STARTS}\d{{3}}-\d{{4}}-\d{{4}}-\d{{4}}(?:-\d{{3}})?{_ENDS}"
    rf"|3{_STARTS}{_AFTER_GROUP_RUN}\d{{3}} \d{{6}} \d{{4,5}}{_ENDS}"
    rf"|3{_STARTS}\d{{3}}-\d{{6}}-\d{{4,5}}{_ENDS}"
)
_SSN_GROUPED = re.compile(rf"\d{_STARTS}\d\d([ \-])\d\d\1\d{{4}}{_ENDS}")
# A run of 9 to 19 digits: an SSN, a phone number or a card, told apart by length and context.
_CONTIGUOUS = re.compile(rf"\d{_STARTS}\d{{8,18}}+{_ENDS}")
_SSN_WORDS = re.compile(r"\b(?:ssn|ss#|social security|social sec\.?|soc\. sec\.)")


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _issuer_length_valid(digits: str) -> bool:
    """An issuer identification prefix that issues cards of this length."""
    size = len(digits)
    two, three, four, six = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4":  # Visa (13-digit cards are withdrawn; EAN-13 barcodes look the same)
        return size in (16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:  # Mastercard
        return size == 16
    if two in (34, 37):  # American Express
        return size == 15
    if 2200 <= four <= 2204:  # Mir
        return 16 <= size <= 19
    if 300 <= three <= 305 or two in (36, 38, 39) or four == 3095:  # Diners Club
        return 14 <= size <= 19
    if 3528 <= four <= 3589:  # JCB
        return 16 <= size <= 19
    if four == 6011 or 644 <= three <= 649 or two == 65 or 622126 <= six <= 622925:  # Discover
        return 16 <= size <= 19
    if two == 62:  # UnionPay
        return 16 <= size <= 19
    if two in (50, 56, 57, 58, 63, 67):  # Maestro
        return 14 <= size <= 19
    return False


def card_valid(digits: str) -> bool:
    """A payment card number: an issuer prefix with cards of this length, and the Luhn check."""
    return 14 <= len(digits) <= 19 and _issuer_length_valid(digits) and luhn_valid(digits)


def ssn_valid(digits: str) -> bool:
    """A US social security number that can be issued: area not 000, 666 or 9xx; group not 00;
    serial not 0000."""
    return (
        len(digits) == 9
        and digits[:3] not in ("000", "666")
        and digits[0] != "9"
        and digits[3:5] != "00"
        and digits[5:] != "0000"
    )


def _cards(scan: _Scan) -> Iterator[PiiSpan]:
    text = scan.text

    def grouped(match: re.Match[str]) -> PiiSpan | None:
        start, end = match.span()
        digits = _digits(match.group())
        if " " in match.group():  # a space-separated card may run into other numbers
            if len(digits) == 19 and not card_valid(digits):  # a 16-digit card, then 3 other digits
                end, digits = end - 4, digits[:16]
            if _RUN_AFTER.match(text, end):
                return None
        return PiiSpan(start, end, PiiType.CARD) if card_valid(digits) else None

    yield from _accepting(_CARD_GROUPED, text, grouped)


def _ssns(scan: _Scan) -> Iterator[PiiSpan]:
    for match in _SSN_GROUPED.finditer(scan.text):
        if ssn_valid(_digits(match.group())):
            yield PiiSpan(match.start(), match.end(), PiiType.SSN)


def _contiguous(scan: _Scan) -> Iterator[PiiSpan]:
    """Digit runs without separators: cards by their checksum; SSNs and phone numbers only after a
    word that says what they are."""
    for match in _CONTIGUOUS.finditer(scan.text):
        start, end = match.span()
        digits = match.group()
        if len(digits) >= 14:
            if card_valid(digits):
                yield PiiSpan(start, end, PiiType.CARD)
        elif len(digits) == 9:
            if ssn_valid(digits) and scan.context(_SSN_WORDS, start):
                yield PiiSpan(start, end, PiiType.SSN)
        elif len(digits) in (10, 11) and scan.context(_PHONE_WORDS, start, 32):
            national = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
            if _nanp_valid(national) or _trunk_valid(digits):
                yield _phone_span(scan.text, start, end)


# ---------------------------------------------------------------------------------------------------
# IBAN

# Length of the IBAN in each country of the registry.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
_IBAN = re.compile(r"[A-Z](?<![A-Za-z0-9_][A-Z])[A-Z]\d\d(?: ?+[A-Z0-9]{1,4}+){2,8}+")


def iban_valid(iban: str) -> bool:
    """A compact IBAN: a registry country, that country's length, and the mod-97 check (ISO 13616)."""
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban) or not (iban.isascii() and iban.isalnum()):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _ibans(scan: _Scan) -> Iterator[PiiSpan]:
    text = scan.text
    for match in _IBAN.finditer(text):
        start = match.start()
        length = _IBAN_LENGTHS.get(text[start : start + 2])
        if length is None:
            continue
        # The IBAN ends after its country's number of characters; what follows is other text.
        end, kept = start, 0
        while end < match.end() and kept < length:
            kept += text[end] != " "
            end += 1
        if kept == length and not _glued_right(text, end) and iban_valid(text[start:end].replace(" ", "")):
            yield PiiSpan(start, end, PiiType.IBAN)


# ---------------------------------------------------------------------------------------------------
# IP addresses

_IPV4 = re.compile(
    r"\d(?<![A-Za-z0-9_.]\d)(?<!\d[\-/]\d)\d{0,2}+\.\d{1,3}+\.\d{1,3}+\.\d{1,3}+(?:/\d{1,2}+)?" + _ENDS
)
# A dotted quad right after one of these words is a version number, not an address ("release 1.2.3.4",
# "Python 3.12.1.0"); so is one in a sentence that speaks of a version before it.
_VERSION_BEFORE = re.compile(
    r"(?:\b(?:version|versions|ver\.?|v|release|build|firmware|update|upgrade|patch|sdk|python|pip|node|java|"
    r"php|ruby|perl|chrome|firefox|safari|edge|ios|android|windows|macos|ubuntu|debian|kernel|openssl|"
    r"section|sections|sec\.|clause|chapter|paragraph|para\.|article|art\.|figure|fig\.|table|step|item|"
    r"requirement|rule|standard|appendix)|§)\s*:?\s*\Z"
)
_VERSION_SENTENCE = re.compile(r"\bversions?\b(?:(?![.!?]\s)[^\n]){0,60}+\Z")
_IPV6 = re.compile(
    r"[0-9A-Fa-f:](?<![A-Za-z0-9_.][0-9A-Fa-f:])[0-9A-Fa-f]{0,3}+:[0-9A-Fa-f:.]{2,43}+(?:/\d{1,3}+)?"
)


def _ipv4s(scan: _Scan) -> Iterator[PiiSpan]:
    for match in _IPV4.finditer(scan.text):
        start = match.start()
        address, _, prefix = match.group().partition("/")
        if (
            all(part == "0" or (part[0] != "0" and int(part) <= 255) for part in address.split("."))
            and (not prefix or int(prefix) <= 32)
            and not _VERSION_BEFORE.search(scan.lower, max(0, start - 24), start)
            and not _VERSION_SENTENCE.search(scan.lower, max(0, start - 80), start)
        ):
            yield PiiSpan(start, match.end(), PiiType.IP)


def _ipv6s(scan: _Scan) -> Iterator[PiiSpan]:
    text = scan.text
    if "::" not in text and text.count(":") < 7:
        return
    import ipaddress

    for match in _IPV6.finditer(text):
        start = match.start()
        address, slash, prefix = match.group().partition("/")
        if address.endswith(".") or (address.endswith(":") and not address.endswith("::")):
            address, slash, prefix = address[:-1], "", ""  # punctuation after the address
        end = start + len(address) + len(slash) + len(prefix)
        if (
            _glued_right(text, end)
            or not 2 <= address.count(":") <= 8  # eight groups, or seven and "::", at most
            or sum(c not in ":." for c in address) < 4
            or (prefix and int(prefix) > 128)
        ):
            continue
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            continue
        yield PiiSpan(start, end, PiiType.IP)


# ---------------------------------------------------------------------------------------------------
# URLs carrying secrets

_SCHEME_TAIL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,15}+\Z")
_URL_REST = re.compile(r"[^\s<>\"'`{}|\\^]{1,2048}+")
_URL_TRAILING = ".,;:!?'\")]}*"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
# Query or fragment parameters that hold a secret, by name (lower case).
_SECRET_PARAMS = frozenset(
    {
        "token", "access_token", "id_token", "refresh_token", "auth_token", "authtoken", "api_key",
        "apikey", "api-key", "secret", "client_secret", "password", "passwd", "pwd", "pass",
        "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
        "x-goog-signature", "x-goog-credential", "private_token", "access_key", "secret_key",
        "session_token", "jwt", "sessionid", "session_id",
    }
)  # fmt: skip
# Names also used for ordinary values: a secret only when the value looks generated.
_AMBIGUOUS_PARAMS = frozenset({"key", "sig", "code", "auth", "session", "sid", "sas", "hash"})
# "scheme://user:password@": also when the password holds characters a URL should have escaped ("#").
_USERINFO_PASSWORD = re.compile(r"[^:]++://[^/@:\s]*+:[^/\s]+@[^/@\s]")
_WEBHOOK_PATHS = (
    ("hooks.slack.com", "/services/"),
    ("discord.com", "/api/webhooks/"),
    ("discordapp.com", "/api/webhooks/"),
)


_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")
_UPPER_AFTER_FIRST = re.compile(r".[A-Z]")
_SYMBOL = re.compile(r"[^\w]|_")


def _looks_random(value: str, minimum: int) -> bool:
    """A generated secret rather than a word: long enough, with letters and digits, varied."""
    return (
        len(value) >= minimum
        and _DIGIT.search(value) is not None
        and _LETTER.search(value) is not None
        and len(set(value)) >= min(8, len(value) // 2)
    )


def _url_has_secret(url: str) -> bool:
    if _USERINFO_PASSWORD.match(url):
        return True
    try:
        parts = urlsplit(url)
        password, host = parts.password, (parts.hostname or "").lower()
    except ValueError:
        return False
    if password:
        return True
    if any(host == h and parts.path.startswith(p) and len(parts.path) > len(p) for h, p in _WEBHOOK_PATHS):
        return True
    for name, value in (*parse_qsl(parts.query, True), *parse_qsl(parts.fragment, True)):
        name = name.lower()
        if (name in _SECRET_PARAMS and len(value) >= 6) or (
            name in _AMBIGUOUS_PARAMS and _looks_random(value, 8)
        ):
            return True
    return False


def _url_secrets(scan: _Scan) -> Iterator[PiiSpan]:
    text = scan.text
    position = 0
    while (anchor := text.find("://", position)) != -1:
        position = anchor + 3
        scheme = _SCHEME_TAIL.search(text, max(0, anchor - 16), anchor)
        rest = _URL_REST.match(text, anchor + 3)
        if scheme is None or rest is None:
            continue
        start, end = scheme.start(), rest.end()
        if start and _is_word(text[start - 1]):
            continue
        position = end
        while end > start and text[end - 1] in _URL_TRAILING:
            # A closing bracket stays when the URL opened one ("https://x/wiki/Foo_(bar)").
            opener = _CLOSERS.get(text[end - 1])
            if opener and text.count(opener, start, end) >= text.count(text[end - 1], start, end):
                break
            end -= 1
        if _url_has_secret(text[start:end]):
            yield PiiSpan(start, end, PiiType.URL_SECRET)


# ---------------------------------------------------------------------------------------------------
# Keys and tokens

_AWS_KEY_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA")  # access key ids (not the other unique ids)
_PREFIXED = re.compile(
    r"A(?:KIA|SIA|BIA|CCA)[A-Z2-7]{16}+"
    r"|AIza[0-9A-Za-z_\-]{35}+"
    r"|sk-[A-Za-z0-9_\-]{20,256}+"
    r"|[srp]k_(?:live|test)_[A-Za-z0-9]{16,256}+"
    r"|gh[pousr]_[A-Za-z0-9]{36,255}+"
    r"|github_pat_[A-Za-z0-9_]{22,255}+"
    r"|glpat-[A-Za-z0-9_\-]{20,256}+"
    r"|xox[abposr]-[A-Za-z0-9\-]{10,256}+"
    r"|ya29\.[0-9A-Za-z_\-]{20,2048}+"
    r"|npm_[A-Za-z0-9]{36}+"
    r"|hf_[A-Za-z0-9]{30,256}+"
    r"|SG\.[A-Za-z0-9_\-]{16,64}+\.[A-Za-z0-9_\-]{16,128}+"
    r"|ta_[A-Za-z0-9_\-]{40,256}+"
    r"|eyJ[A-Za-z0-9_\-]{8,4096}+\.eyJ[A-Za-z0-9_\-]{8,8192}+\.[A-Za-z0-9_\-]{8,4096}+"
    r"|(?:Bearer|bearer|BEARER)[ \t]++[A-Za-z0-9\-._~+/]{16,4096}+=*+"
    r"|-----BEGIN[A-Z ]{0,24}PRIVATE KEY-----"
)
_PEM_END = re.compile(r"-----END[A-Z ]{0,24}PRIVATE KEY-----")
_PEM_BODY = re.compile(r"[A-Za-z0-9+/=\s]*+")
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]{8,}+\.eyJ[A-Za-z0-9_\-]{8,}+\.[A-Za-z0-9_\-]{8,}+")


def _prefixed(scan: _Scan) -> Iterator[PiiSpan]:
    text = scan.text
    # The END line after the last key header, searched for once, not once per header (a text of
    # headers alone would cost a scan of the rest of the text each); (-1, -1) when there is none.
    closing = (0, 0)
    position = 0
    while (match := _PREFIXED.search(text, position)) is not None:
        start, end = match.span()
        position = end
        found = match.group()
        if found.startswith("-----BEGIN"):
            if 0 <= closing[0] < end:
                following = _PEM_END.search(text, end)
                closing = following.span() if following is not None else (-1, -1)
            if closing[0] >= 0:
                yield PiiSpan(start, closing[1], PiiType.TOKEN)
                position = closing[1]
            else:
                body = text[end : _PEM_BODY.match(text, end).end()]
                if len(body.strip()) >= 16:  # a block cut short: the key material there is
                    yield PiiSpan(start, end + len(body.rstrip()), PiiType.TOKEN)
        elif start and (_is_word(text[start - 1]) or text[start - 1] in "-."):
            continue  # inside a longer word or identifier
        elif found[:6].lower() == "bearer":
            token = found.split(None, 1)[1]
            if _JWT.fullmatch(token.rstrip("=")) or _looks_random(token, 16):
                yield PiiSpan(end - len(token), end, PiiType.TOKEN)
        elif end < len(text) and text[end] in _TOKEN_CHARS:
            continue  # longer than the kind allows: something else
        elif found[:4] in _AWS_KEY_PREFIXES:
            yield PiiSpan(start, end, PiiType.AWS_KEY)
        elif found.startswith(("eyJ", "ya29.")) or _looks_random(found, 16):
            yield PiiSpan(start, end, PiiType.TOKEN)


# The names a secret is assigned to ("api_key = ...", "password: ..."), matched in lower case.
_ASSIGNED = re.compile(
    r"(?<![a-z0-9_])(?:(api[_\-. ]?key|apikey|api[_\-. ]?secret|access[_\-. ]?token|auth[_\-. ]?token|"
    r"refresh[_\-. ]?token|client[_\-. ]?secret|secret[_\-. ]?key|private[_\-. ]?token|x-api-key|"
    r"accountkey|authorization|secret|token)|(password|passwd|pwd|passphrase))"
    r"[\"']?[ \t]{0,3}+(?::=|=>|[:=])[ \t]{0,3}+[\"']?"
    r"(?:(?:basic|bearer|token|digest)[ \t]++)?"
)
# The value ends at "=" (but keeps base-64 padding): a secret rarely holds one, and a run of
# "key=key=..." then costs a few characters per key instead of the whole run.
_ASSIGNED_VALUE = re.compile(r"[^\s\"'`,;<>=]{6,512}+=*+")
_MASKS = frozenset("*xX•.")


def _password_like(value: str) -> bool:
    """A password rather than a word: a digit, a symbol, or a capital letter after the first."""
    return (
        len(value) >= 6
        and not set(value) <= _MASKS
        and (
            _DIGIT.search(value) is not None
            or _SYMBOL.search(value) is not None
            or _UPPER_AFTER_FIRST.search(value) is not None
        )
    )


def _assigned(scan: _Scan) -> Iterator[PiiSpan]:
    text = scan.text
    if ":" not in text and "=" not in text:
        return
    for match in _ASSIGNED.finditer(scan.lower):
        value = _ASSIGNED_VALUE.match(text, match.end())
        if value is None:
            continue
        secret = value.group().rstrip(".)")
        if secret.endswith(":"):
            continue  # the next name, not a value ("password: token: ...")
        if (match.group(2) and _password_like(secret)) or (match.group(1) and _looks_random(secret, 12)):
            yield PiiSpan(value.start(), value.start() + len(secret), PiiType.TOKEN)


_AWS_SECRET_WORDS = re.compile(
    r"(?<![a-z0-9])(?:aws_?secret(?:_?access)?(?:_?key)?|secret_?access_?key|secret access key"
    r"|aws secret(?: key)?)"
)
_AWS_KEY_ID = re.compile(r"A(?:KIA|SIA)[A-Z2-7]{16}(?![A-Za-z0-9])")
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}")


def _aws_secrets(scan: _Scan) -> Iterator[PiiSpan]:
    """40-character secret keys, within 80 characters after the words that name one or after an
    access key id (a bare 40-character string is as likely a hash or an identifier)."""
    text = scan.text
    anchors = {m.end() for m in _AWS_SECRET_WORDS.finditer(scan.lower)}
    anchors |= {m.end() for m in _AWS_KEY_ID.finditer(text)}
    for anchor in sorted(anchors):
        match = _AWS_SECRET.search(text, anchor, anchor + 80)
        if (
            match is not None
            and (match.end() == len(text) or text[match.end()] not in _BASE64)
            and any(c.isupper() for c in match.group())
            and any(c.islower() for c in match.group())
            and any(c.isdigit() or c in "/+" for c in match.group())
        ):
            yield PiiSpan(match.start(), match.end(), PiiType.AWS_SECRET)


_FINDERS: tuple[Callable[[_Scan], Iterable[PiiSpan]], ...] = (
    _emails,
    _phones,
    _cards,
    _ssns,
    _contiguous,
    _ibans,
    _ipv4s,
    _ipv6s,
    _url_secrets,
    _prefixed,
    _assigned,
    _aws_secrets,
)
