"""What counts as a visible character and which control characters are refused (SPEC §10.14)."""

from __future__ import annotations

import pytest

from public_api.text_hygiene import first_control_character, has_visible_characters


@pytest.mark.parametrize(
    "char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"]
)
def test_control_characters_other_than_tab_newline_and_return_are_found(char):
    assert first_control_character(f"valid text{char}more") == 10


def test_tab_newline_and_carriage_return_pass():
    assert first_control_character("a\tb\nc\rd é 漢字 🙂") is None


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("abcdefghij", True),
        ("abc def ghi j", True),
        ("\u200b" * 20, False),
        ("\u200b" * 20 + "abcdefghij", True),
        ("\ufeff\u2060\u200d" * 10 + "abc", False),
        ("\u3164" * 10 + "\u2800" * 10, False),
        ("e\u0301" * 10, True),
        ("\u0301" * 20, False),
        ("漢字漢字漢字漢字漢字", True),
        (" " * 100 + "abcdefghi", False),
    ],
)
def test_only_characters_that_render_count_towards_the_minimum(text, visible):
    assert has_visible_characters(text, 10) is visible
