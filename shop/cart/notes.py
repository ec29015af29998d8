"""Personal notes of support: cleaned so what the donor wrote is what gets printed."""

from __future__ import annotations

import unicodedata


class NoteError(ValueError):
    """The note cannot be accepted; the message is for the donor."""


def clean_note(text: str | None, max_length: int) -> str:
    """NFC-normalise, drop control characters (keeping line breaks), trim, check the length.

    Emoji survive: their joiners and variation selectors are format/mark characters,
    not control characters.
    """
    if text is None:
        return ""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")
    # Collapse runs of blank lines; nobody needs ten empty lines on a printed card.
    lines = [line.rstrip() for line in kept.split("\n")]
    cleaned = "\n".join(lines).strip()
    while "\n\n\n" in cleaned:
        cleaned = cleaned.replace("\n\n\n", "\n\n")
    if len(cleaned) > max_length:
        raise NoteError(
            f"Your note is {len(cleaned)} characters long; please keep it to {max_length}."
        )
    return cleaned
