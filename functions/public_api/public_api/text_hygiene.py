"""What a text must look like to be processed: no control characters, and enough that can be seen.

Tab, newline and carriage return are the only control characters allowed (SPEC §10.14): NUL and the
rest pass through no tokenizer meaningfully and have been used to imitate prompt delimiters. Invisible
characters (zero-width spaces, joiners, fillers, lone combining marks) do not count towards a minimum
length, so 20 x U+200B is not a 20-character text.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Letters and symbols that render as nothing (Hangul fillers, the blank braille pattern).
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})


def first_control_character(text: str) -> int | None:
    """The index of the first disallowed control character, or None."""
    found = _CONTROL.search(text)
    return found.start() if found else None


def has_visible_characters(text: str, at_least: int) -> bool:
    """Whether `text` has `at_least` characters that render as something (stops counting there)."""
    if text.isascii():  # controls are refused first, so every non-space ASCII character shows
        return len("".join(text.split())) >= at_least
    import unicodedata  # only for non-ASCII text

    seen = 0
    for char in text:
        if char not in _BLANK_GLYPHS and unicodedata.category(char) not in _UNSEEN_CATEGORIES:
            seen += 1
            if seen >= at_least:
                return True
    return False
