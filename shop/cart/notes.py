"""Personal notes of support: cleaned and screened so what gets printed is safe to travel."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

Verdict = Literal["ok", "review", "refused"]

# What the donor reads under the note field. It names the kind of problem and never
# repeats the matched text: the donor knows what they wrote.
CONTACT_MESSAGE = (
    "Notes cannot include phone numbers, emails or links, because they are printed and "
    "travel with the package."
)
LOCATION_MESSAGE = (
    "Notes cannot name a unit or say where it is, because they are printed and travel with "
    "the package."
)
NAME_CONTACT_MESSAGE = (
    "Names cannot include links, email addresses or phone numbers, because they are "
    "printed on receipts and told to the person you dedicate a gift to."
)
# What staff read in the approval queue.
UNPRINTABLE_REASON = "Contains characters our packing partner may not be able to print"

# Emoji and their glue. Removed when the partner cannot print emoji.
_EMOJI_GLUE = frozenset(
    {0x200D, 0x20E3}  # zero-width joiner, combining enclosing keycap
    | set(range(0xFE00, 0xFE10))  # variation selectors
    | set(range(0xE0100, 0xE01F0))  # variation selectors supplement
    | set(range(0xE0020, 0xE0080))  # tag characters (subdivision flags)
    | set(range(0x1F3FB, 0x1F400))  # skin tone modifiers (category Sk)
)
# Invisible characters that only hide or reorder text (zero-width space, word joiner,
# byte order mark, bidi overrides): always removed, so they cannot split a phone number
# or print a note backwards. Joiners and direction marks that real writing uses stay.
_HIDING = frozenset({0x200B, 0x2060, 0xFEFF, 0x202D, 0x202E})
# Invisible marks that right-to-left text (Hebrew, Arabic) legitimately carries.
_DIRECTION_MARKS = frozenset({0x200E, 0x200F, 0x061C})
_LINE_SEPARATORS = {"\u2028": "\n", "\u2029": "\n"}


class NoteError(ValueError):
    """The note cannot be accepted; the message is for the donor."""


@dataclass(frozen=True)
class NoteSettings:
    """The shop's rules for notes (NOTE_* settings)."""

    max_length: int = 500
    allow_emoji: bool = True
    blocked_terms: tuple[str, ...] = ()
    review_terms: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> NoteSettings:
        return cls(
            max_length=int(config.get("NOTE_MAX_LENGTH", 500)),
            allow_emoji=bool(config.get("NOTE_ALLOW_EMOJI", True)),
            blocked_terms=parse_terms(config.get("NOTE_BLOCKED_TERMS")),
            review_terms=parse_terms(config.get("NOTE_REVIEW_TERMS")),
        )


@dataclass(frozen=True)
class ScreenResult:
    """The note as it will be stored, and whether it may go, must wait for staff, or not."""

    clean_text: str
    verdict: Verdict
    reason: str = ""  # refused: the donor's message; review: what staff should look at
    symbols_removed: bool = False  # emoji were taken out because the partner cannot print them


def parse_terms(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """A comma-separated setting (or a list of terms) as clean, distinct terms."""
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    terms: list[str] = []
    for part in parts:
        term = " ".join(str(part).split())
        if term and term.casefold() not in {t.casefold() for t in terms}:
            terms.append(term)
    return tuple(terms)


# --- normalising ------------------------------------------------------------------------


def _is_emoji_part(ch: str) -> bool:
    code = ord(ch)
    if code in _EMOJI_GLUE:
        return True
    # So is where emoji live; Latin-1's few symbols (°, ©, ®) print on any printer.
    return unicodedata.category(ch) == "So" and code > 0xFF


def _normalise(text: str | None, *, allow_emoji: bool) -> tuple[str, bool]:
    """NFC, no control or hiding characters, tidy line breaks; no emoji if they cannot print."""
    if text is None:
        return "", False
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for separator, newline in _LINE_SEPARATORS.items():
        text = text.replace(separator, newline)
    text = unicodedata.normalize("NFC", text)
    kept = []
    removed = False
    for ch in text:
        if ch == "\n":
            kept.append(ch)
            continue
        # Surrogates cannot be stored or printed; they are never part of a real note.
        if unicodedata.category(ch) in ("Cc", "Cs") or ord(ch) in _HIDING:
            continue
        if not allow_emoji and _is_emoji_part(ch):
            removed = True
            continue
        kept.append(ch)
    # Taking characters out can leave a letter next to its accent: compose them again.
    joined = unicodedata.normalize("NFC", "".join(kept))
    lines = joined.split("\n")
    if removed:
        # "Stay warm 🧤 and safe" should not print with a double space where the glove was.
        lines = [re.sub(r"(?<=\S)  +(?=\S)", " ", line) for line in lines]
    # Collapse runs of blank lines; nobody needs ten empty lines on a printed card.
    cleaned = "\n".join(line.rstrip() for line in lines).strip()
    while "\n\n\n" in cleaned:
        cleaned = cleaned.replace("\n\n\n", "\n\n")
    return cleaned, removed


def _length_problem(cleaned: str, max_length: int) -> str | None:
    if len(cleaned) > max_length:
        return f"Your note is {len(cleaned)} characters long; please keep it to {max_length}."
    return None


def clean_note(text: str | None, max_length: int) -> str:
    """NFC-normalise, drop control characters (keeping line breaks), trim, check the length.

    Emoji survive: their joiners and variation selectors are format/mark characters,
    not control characters.
    """
    cleaned, _ = _normalise(text, allow_emoji=True)
    problem = _length_problem(cleaned, max_length)
    if problem:
        raise NoteError(problem)
    return cleaned


# --- screening ---------------------------------------------------------------------------


def _screening_view(text: str) -> str:
    """The note as a reader sees it, so look-alike forms cannot slip past the screen.

    NFKC folds full-width digits, letters and stops into plain ones (a phone number typed
    on a CJK keyboard is still one); invisible format characters (zero-width spaces) go.
    """
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


# Dates and year ranges standing on their own are not phone numbers: "24.12.2026",
# "winter 2025-2026". Next to more digits ("555 24.12.2026") they are part of one.
_ALONE_BEFORE = r"(?<!\d)(?<!\d[ .\-()])(?<!\d[ .\-()]{2})(?<!\d[ .\-()]{3})"
_ALONE_AFTER = r"(?![ .\-()]{0,3}\d)"
_DATE = re.compile(
    _ALONE_BEFORE + r"(?:0?[1-9]|[12]\d|3[01])([./-])(?:0?[1-9]|1[0-2])\1(?:\d{4}|\d{2})"
    + _ALONE_AFTER
)
_YEAR_RANGE = re.compile(
    _ALONE_BEFORE + r"(?:19|20)\d{2} ?[-/] ?(?:(?:19|20)\d{2}|\d{2})" + _ALONE_AFTER
)
# Seven or more digits held together by phone punctuation: +380 (67) 123-45-67, 555.0123.
_PHONE = re.compile(r"\+?\(?\d(?:[ \t.\-()]{0,3}\d){6,}")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_SCHEME_LINK = re.compile(r"\b(?:https?|ftp)://|\bwww\.", re.IGNORECASE)
# A domain followed by a path is a link whatever its ending: t.me/name, bit.ly/x.
_PATHED_DOMAIN = re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/", re.IGNORECASE)
# Bare domains end in a well-known suffix. Suffixes that are also common words ("to",
# "be", "in", "it", "is", "at", "no", "so", "do", "go", "my") are left out, so a missing
# space after a full stop ("Stay safe.Be well") is not taken for a link.
_SUFFIXES = (
    "com|net|org|info|biz|io|co|me|ua|ru|il|uk|de|fr|pl|eu|us|ca|au|app|dev|ly|gg|tv|"
    "xyz|site|online|link|page|fm|ai|cc|ws|su|by|kz|ro|cz|lt|lv|ee|gov|edu|mil|int"
)
_BARE_DOMAIN = re.compile(
    rf"\b(?:[\w-]+\.)+(?:{_SUFFIXES})(?!\w)(?!\.\w)"
    rf"|\b(?:[A-Z0-9-]+\.)+(?:{_SUFFIXES.upper()})(?!\w)(?!\.\w)"
)


def _has_phone_number(view: str) -> bool:
    without_dates = _YEAR_RANGE.sub(" ; ", _DATE.sub(" ; ", view))
    return _PHONE.search(without_dates) is not None


def _has_contact(view: str) -> bool:
    return bool(
        _has_phone_number(view)
        or _EMAIL.search(view)
        or _SCHEME_LINK.search(view)
        or _PATHED_DOMAIN.search(view)
        or _BARE_DOMAIN.search(view)
    )


def has_contact_details(text: str | None) -> bool:
    """Whether a name (or any short text) holds a link, an email address or a phone number.

    The same screen as notes (look-alike characters folded first), so a donor name or a
    dedication name cannot carry someone's message to whoever reads it.
    """
    cleaned, _ = _normalise(text, allow_emoji=True)
    return bool(cleaned) and _has_contact(_screening_view(cleaned))


@lru_cache(maxsize=64)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """Whole words or phrases, any case and spacing; a plural ending also counts."""
    words = []
    for term in terms:
        pieces = unicodedata.normalize("NFKC", term).casefold().split()
        if pieces:
            words.append(r"[\s\-]+".join(re.escape(piece) for piece in pieces))
    if not words:
        return None
    # Longest first, so "grid reference" wins over "grid" when both are listed.
    words.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?:e?s)?(?!\w)")


def _find_term(view: str, terms: tuple[str, ...]) -> str | None:
    pattern = _terms_pattern(terms)
    if pattern is None:
        return None
    match = pattern.search(view.casefold())
    return " ".join(match.group(0).split()) if match else None


def _unprintable(text: str) -> bool:
    """Characters a partner without emoji is unlikely to have in its font."""
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Co", "Cn"):
            return True
        if category == "Cf" and ord(ch) not in _DIRECTION_MARKS:
            return True
    return False


def screen_note(text: str | None, settings: NoteSettings) -> ScreenResult:
    """Normalise the note and decide: ok, refused at entry, or held for staff review."""
    cleaned, removed = _normalise(text, allow_emoji=settings.allow_emoji)
    if not cleaned:
        return ScreenResult("", "ok", symbols_removed=removed)
    problem = _length_problem(cleaned, settings.max_length)
    if problem:
        return ScreenResult(cleaned, "refused", problem, removed)
    view = _screening_view(cleaned)
    if _has_contact(view):
        return ScreenResult(cleaned, "refused", CONTACT_MESSAGE, removed)
    if _find_term(view, settings.blocked_terms):
        return ScreenResult(cleaned, "refused", LOCATION_MESSAGE, removed)
    reasons = []
    term = _find_term(view, settings.review_terms)
    if term:
        reasons.append(f'Mentions "{term}", a word on the review list')
    if not settings.allow_emoji and _unprintable(cleaned):
        reasons.append(UNPRINTABLE_REASON)
    if reasons:
        return ScreenResult(cleaned, "review", "; ".join(reasons), removed)
    return ScreenResult(cleaned, "ok", symbols_removed=removed)
