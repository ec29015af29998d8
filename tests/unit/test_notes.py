"""Notes are stored as the donor meant them, minus what would break or endanger a printed card."""

import re
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shop.cart.notes import (
    CONTACT_MESSAGE,
    LOCATION_MESSAGE,
    UNPRINTABLE_REASON,
    NoteError,
    NoteSettings,
    ScreenResult,
    clean_note,
    parse_terms,
    screen_note,
)

BLOCKED = parse_terms("base, battalion, brigade, regiment, coordinates, grid ref")
SHOP = NoteSettings(max_length=500, blocked_terms=BLOCKED)
NO_EMOJI = NoteSettings(max_length=500, allow_emoji=False, blocked_terms=BLOCKED)


def full_width(text: str) -> str:
    """The same text in the full-width forms a CJK keyboard types."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)

# --- clean_note: the existing callers' contract ------------------------------------------


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


# --- refused at entry --------------------------------------------------------------------


@pytest.mark.parametrize(
    "note",
    [
        "Call me on +380 (67) 123-45-67 when you are back",
        "my number is 555 0123 456",
        "555.012.3456",
        "text 0671234567",
        "ring " + full_width("5551234567"),
        "5\u200b5\u200b5\u200b1\u200b2\u200b3\u200b4",  # zero-width spaces between digits
    ],
)
def test_phone_numbers_are_refused(note: str) -> None:
    result = screen_note(note, SHOP)
    assert (result.verdict, result.reason) == ("refused", CONTACT_MESSAGE)


@pytest.mark.parametrize(
    "note",
    [
        "write to olena.k+army@example.org",
        "see https://example.org/pics",
        "http://x.y",
        "www.our-school.net",
        "our class page is example.com",
        "find us at t.me/warmhands",
        "bit.ly/xyz",
        "GOOGLE.COM",
        "exa\u200bmple.com",
        full_width("example.com"),
    ],
)
def test_emails_and_links_are_refused(note: str) -> None:
    result = screen_note(note, SHOP)
    assert (result.verdict, result.reason) == ("refused", CONTACT_MESSAGE)


@pytest.mark.parametrize(
    "note",
    [
        "Greetings to the 93rd Brigade!",
        "to everyone at the BASE",
        "our bases",
        "send the grid-ref",
        "Coordinates: none",
        "the battalion's cook",
    ],
)
def test_unit_location_terms_are_refused_whole_words_any_case(note: str) -> None:
    result = screen_note(note, SHOP)
    assert (result.verdict, result.reason) == ("refused", LOCATION_MESSAGE)


def test_the_refusal_never_repeats_what_was_written() -> None:
    for note in ("call 0671234567", "x@example.org", "see the brigade"):
        result = screen_note(note, SHOP)
        assert result.verdict == "refused"
        assert "0671234567" not in result.reason and "example" not in result.reason
        assert "brigade" not in result.reason.lower()


def test_a_note_over_the_limit_is_refused_with_its_length() -> None:
    result = screen_note("x" * 501, SHOP)
    assert result.verdict == "refused" and "keep it to 500" in result.reason


# --- ok --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "note",
    [
        "Stay warm at the front",
        "10 packages for the boys, winter 2026",
        "Winter 2025-2026, we are with you",
        "Merry Christmas! 24.12.2026, from the 3 of us",
        "Thank you 1,000,000 times",
        "Stay warm 🧤❤️ 👨‍👩‍👧",
        "Тримайтеся! Ми з вами 🇺🇦",
        "שמרו על עצמכם, אנחנו איתכם",
        "-20°C outside? This fleece is for you",
        "Stay safe.Be well.Thanks",
        "e.g. socks, gloves, a hat",
        "A baseball cap from our team",
        "For the whole unit ❄️",
        "Love,\n\nMum & Dad",
    ],
)
def test_ordinary_support_messages_pass(note: str) -> None:
    result = screen_note(note, SHOP)
    assert (result.verdict, result.reason) == ("ok", "")
    assert result.clean_text == clean_note(note, 500)


def test_characters_that_hide_or_reverse_text_are_removed() -> None:
    assert clean_note("Stay\u200b warm\ufeff\u2060", 500) == "Stay warm"
    result = screen_note("\u202e7654321 llac", SHOP)
    assert result.verdict == "refused" and "\u202e" not in result.clean_text
    assert screen_note("\u200b\u200b", SHOP) == screen_note("", SHOP)


def test_an_empty_note_is_fine() -> None:
    assert screen_note("  \r\n ", SHOP) == screen_note(None, SHOP)
    assert screen_note(None, SHOP).clean_text == "" and screen_note(None, SHOP).verdict == "ok"


# --- held for review -------------------------------------------------------------------


def test_review_terms_hold_the_note_and_tell_staff_which_word() -> None:
    settings = NoteSettings(review_terms=parse_terms("hospital, Front Line"))
    result = screen_note("Get well soon, everyone at the hospital", settings)
    assert result.verdict == "review" and '"hospital"' in result.reason
    assert screen_note("back from the front   line", settings).verdict == "review"
    assert screen_note("Stay warm at the front", settings).verdict == "ok"


def test_a_blocked_term_wins_over_a_review_term() -> None:
    settings = NoteSettings(blocked_terms=BLOCKED, review_terms=parse_terms("brigade"))
    assert screen_note("the brigade", settings).verdict == "refused"


def test_terms_come_from_a_comma_separated_setting_or_a_list() -> None:
    assert parse_terms(" base,, Grid  Ref ,base ") == ("base", "Grid Ref")
    assert parse_terms(["brigade", " "]) == ("brigade",)
    assert parse_terms(None) == ()
    config = {"NOTE_MAX_LENGTH": 80, "NOTE_ALLOW_EMOJI": False,
              "NOTE_BLOCKED_TERMS": "base", "NOTE_REVIEW_TERMS": ["hospital"]}
    assert NoteSettings.from_config(config) == NoteSettings(80, False, ("base",), ("hospital",))


# --- emoji the partner cannot print ----------------------------------------------------


def test_without_emoji_they_are_removed_and_the_donor_is_told() -> None:
    result = screen_note("Stay warm 🧤❤️ and safe 👍🏽\nFrom 👨‍👩‍👧 1️⃣🇺🇦", NO_EMOJI)
    assert result == ScreenResult("Stay warm and safe\nFrom 1", "ok", "", symbols_removed=True)


def test_without_emoji_latin1_symbols_and_other_scripts_stay() -> None:
    note = "-20°C © Тримайтеся! שמרו על עצמכם\u200f"
    result = screen_note(note, NO_EMOJI)
    assert (result.clean_text, result.verdict, result.symbols_removed) == (note, "ok", False)


def test_without_emoji_characters_the_partner_may_lack_wait_for_review() -> None:
    for note in ("private \ue000 glyph", "invisible\u2061function", "unassigned \U000e0000 char"):
        result = screen_note(note, NO_EMOJI)
        assert (result.verdict, result.reason) == ("review", UNPRINTABLE_REASON), note
    # A partner that prints emoji gets them as they are.
    assert screen_note("private \ue000 glyph", SHOP).verdict == "ok"


# --- properties ------------------------------------------------------------------------

WORDS = ["Stay", "warm", "safe", "thank", "you", "from", "our", "family", "school",
         "Дякуємо", "тримайтеся", "תודה", "חיבוק", "🧤", "❤️", "❄️", "front", "unit",
         "winter", "packages", "love", "Merry", "Christmas!", "safe.", "warm,"]


@given(st.lists(st.tuples(st.sampled_from(WORDS), st.integers(0, 999_999)
                          | st.sampled_from(["", "2026", "2025-2026"])), max_size=25))
def test_words_and_short_numbers_are_never_refused(parts: list[tuple[str, object]]) -> None:
    note = " ".join(f"{word} {number}" for word, number in parts)
    assert screen_note(note, SHOP).verdict == "ok", note


@given(
    st.sampled_from(WORDS),
    st.lists(st.integers(0, 9), min_size=7, max_size=13),
    st.lists(st.sampled_from(["", " ", "-", ".", " - ", ") ", "("]), min_size=13, max_size=13),
    st.booleans(),
)
def test_any_seven_digit_phone_in_a_sentence_is_refused(
    word: str, digits: list[int], separators: list[str], plus: bool
) -> None:
    number = "".join(f"{d}{sep}" for d, sep in zip(digits, separators, strict=False))
    number = number.strip(" -.(")
    # Written exactly like a date or a span of years, it is read as one.
    assume(not re.fullmatch(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}|\d{4} ?[-/] ?\d{2,4}", number))
    note = f"{word} call {'+' if plus else ''}{number} {word}"
    assert screen_note(note, SHOP).verdict == "refused", note


@given(st.from_regex(r"[a-z][a-z0-9._+-]{0,15}@[a-z][a-z0-9-]{0,10}\.(com|org|ua|co\.il)",
                     fullmatch=True))
def test_any_email_address_is_refused(address: str) -> None:
    assert screen_note(f"Write to {address} please", SHOP).reason == CONTACT_MESSAGE


@given(st.text(max_size=600), st.booleans())
def test_any_text_gets_a_stable_answer_and_never_an_error(text: str, allow_emoji: bool) -> None:
    settings = NoteSettings(allow_emoji=allow_emoji, blocked_terms=BLOCKED,
                            review_terms=parse_terms("front"))
    first = screen_note(text, settings)
    assert first.verdict in ("ok", "review", "refused")
    again = screen_note(first.clean_text, settings)
    assert again.clean_text == first.clean_text and again.verdict == first.verdict
    if not allow_emoji:
        assert not any(unicodedata.category(ch) == "So" and ord(ch) > 0xFF
                       for ch in first.clean_text)
        assert "\u200d" not in first.clean_text and "\ufe0f" not in first.clean_text
