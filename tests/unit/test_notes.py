"""Notes are stored as the donor meant them, minus what would break a printed card."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.cart.notes import NoteError, clean_note


def test_emoji_and_line_breaks_survive() -> None:
    note = "Stay warm! 🧤❤️\r\nFrom all of us 👨‍👩‍👧"
    assert clean_note(note, 500) == "Stay warm! 🧤❤️\nFrom all of us 👨‍👩‍👧"


def test_control_characters_are_removed_and_text_normalised() -> None:
    assert clean_note("Cafe\u0301\x07 \x1b[31mhi\x00", 500) == "Café [31mhi"


def test_note_over_the_limit_is_refused_with_its_length() -> None:
    with pytest.raises(NoteError, match=r"501 characters.*500"):
        clean_note("x" * 501, 500)


def test_note_at_the_limit_is_kept() -> None:
    assert clean_note("🧤" * 500, 500) == "🧤" * 500


@given(st.text(max_size=600))
def test_cleaned_notes_are_within_limit_and_stable(text: str) -> None:
    try:
        cleaned = clean_note(text, 500)
    except NoteError:
        return
    assert len(cleaned) <= 500
    assert clean_note(cleaned, 500) == cleaned
    assert not any(ch in cleaned for ch in "\x00\x07\x1b\r")
