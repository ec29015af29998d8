"""Clean text people and scripts send: one rule for single-line fields, one for multi-line.

Every form field and query parameter passes through here before a validator, the
database or an email header sees it (shop/forms.py applies it at the edge). PostgreSQL
refuses NUL in text, an email header refuses line breaks, and a receipt prints a line
break as a new line: a name must stay one line.
"""

from __future__ import annotations

import re
import unicodedata

# Invisible characters that only hide or reorder text: bidi embeddings, overrides and
# isolates (Unicode TR9), zero-width space, word joiner, byte order mark, interlinear
# annotation marks. Zero-width (non-)joiners and direction marks stay: Persian, Arabic,
# Hebrew and Indic names legitimately carry them.
HIDING = frozenset(
    {0x200B, 0x2060, 0xFEFF, 0xFFF9, 0xFFFA, 0xFFFB}
    | set(range(0x202A, 0x202F))  # LRE, RLE, PDF, LRO, RLO
    | set(range(0x2066, 0x206A))  # LRI, RLI, FSI, PDI
)
# Characters that end a line somewhere (Unicode TR14's mandatory breaks, plus tab).
LINE_BREAKS = frozenset({"\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029"})


def _drop(ch: str) -> bool:
    """NUL and the other control characters, lone surrogates."""
    return unicodedata.category(ch) in ("Cc", "Cs")


def clean_line(text: str | None) -> str | None:
    """One line of text as it is kept: for names, emails, amounts, search boxes.

    Unicode NFC; line breaks, tabs and runs of any kind of space fold to one space;
    NUL, other control characters, lone surrogates and the invisible characters that
    hide or reorder text are removed; the ends are trimmed. None stays None (a field
    that was not sent).
    """
    if text is None:
        return None
    kept = []
    for ch in unicodedata.normalize("NFC", str(text)):
        if ch in LINE_BREAKS or ch == "\t":
            kept.append(" ")
        elif not _drop(ch) and ord(ch) not in HIDING:
            kept.append(ch)
    return " ".join("".join(kept).split())


def clean_block(text: str | None) -> str | None:
    """Multi-line text (notes, tracking notes): NUL and control characters removed.

    Every kind of line break becomes "\\n"; tabs, invisible format characters and the
    rest stay as sent, because notes of support are screened afterwards by rules of
    their own (shop/cart/notes.py), which decide about those.
    """
    if text is None:
        return None
    kept = []
    for ch in str(text).replace("\r\n", "\n"):
        if ch in LINE_BREAKS:
            kept.append("\n")
        elif ch == "\t" or not _drop(ch):
            kept.append(ch)
    return "".join(kept)


_EMAIL_IN_TEXT = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")


def mask_emails_in(text: str) -> str:
    """Every email address in `text` masked (`d***@example.org`): what a log line may say."""
    return _EMAIL_IN_TEXT.sub(lambda match: mask_email(match.group(0)), text)


def mask_email(address: str | None) -> str:
    """An email address as shown to whoever holds an order's link: d***@example.org.

    The first character of the mailbox and the whole domain stay, so the donor can tell
    which of their addresses it is; the rest of the mailbox does not travel with the link.
    """
    mailbox, at, domain = (address or "").rpartition("@")
    if not at or not mailbox:
        return "***"
    return f"{mailbox[0]}***@{domain}"


# The largest id an INTEGER primary key holds (PostgreSQL's integer, 32 bits).
ROW_ID_MAX = 2**31 - 1


def row_id(text: object) -> int | None:
    """A row id from a link (a page cursor) or from Stripe's metadata: plain ASCII digits
    from 1 to ROW_ID_MAX, or None for anything else (a broken link, not the shop's id)."""
    text = text.strip() if isinstance(text, str) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    value = int(text)
    return value if 1 <= value <= ROW_ID_MAX else None
