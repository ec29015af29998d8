"""The one input cleaner: single-line text is one clean line, multi-line keeps its lines."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.text import HIDING, LINE_BREAKS, clean_block, clean_line

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=200)


@given(ANY_TEXT)
def test_a_cleaned_line_has_no_control_break_or_hiding_character(text: str) -> None:
    line = clean_line(text)
    assert line is not None
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in line)
    assert not any(ch in LINE_BREAKS or ord(ch) in HIDING for ch in line)
    assert line == line.strip() and "  " not in line
    assert clean_line(line) == line  # cleaning twice changes nothing


@given(ANY_TEXT)
def test_a_cleaned_block_keeps_its_lines_but_no_control_characters(text: str) -> None:
    block = clean_block(text)
    assert block is not None
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t"
                   for ch in block)
    assert clean_block(block) == block


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("  Dana\r\nRivera ", "Dana Rivera"),
        ("Dana\x00 Rivera", "Dana Rivera"),
        ("Dana\u2028Rivera\u2029", "Dana Rivera"),
        ("\u202eanaD", "anaD"),
        ("Dana\u2066 Rivera\u2069", "Dana Rivera"),
        ("Jose\u0301", "José"),  # composed (NFC), so the same name is found the same way
        ("\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627",
         "\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627"),  # Persian needs its ZWNJ
        ("王\u3000小明", "王 小明"),
        ("donor@example.org\t", "donor@example.org"),
        ("", ""),
        (None, None),
    ],
)
def test_single_line_examples(sent: str | None, kept: str | None) -> None:
    assert clean_line(sent) == kept


def test_a_block_keeps_line_breaks_as_newlines() -> None:
    assert clean_block("Stay warm\r\nand safe\u2028\x00!") == "Stay warm\nand safe\n!"
