"""The PDFs the shop emails: a donor's receipt and the year-end statement (fpdf2).

Names are printed in any script. Text is shaped by HarfBuzz (fpdf2's text shaping with
uharfbuzz), so Arabic letters join and right-to-left names read in order; DejaVu Sans
draws Latin, Greek, Cyrillic, Arabic, Hebrew and more, and WenQuanYi Micro Hei draws
Chinese, Japanese and Korean as a fallback font, loaded only for a PDF that needs it.
A character neither font has is printed as U+FFFD and the PDF says so under the
donor's details: a name is never silently shortened.
"""

from __future__ import annotations

import logging
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fontTools import subset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from shop.money import format_money
from shop.notifications.context import charity_context, receipt_context
from shop.orders.models import Order
from shop.text import clean_line
from shop.wording import dedication_words

if TYPE_CHECKING:
    from shop.notifications.statements import Statement

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
# fpdf2's core fonts are Latin-1 only; donors write their names in any script.
FONT_FILES = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"
# Chinese, Japanese and Korean: one face serves both weights.
FALLBACK_FILE = FONT_DIR / "WenQuanYiMicroHei.ttf"
FALLBACK_FAMILY = "WenQuanYi"
MISSING = "\ufffd"
MISSING_NOTE = (f"Characters shown as {MISSING} could not be printed with this receipt's "
                "fonts; your receipt email shows every name as written.")
AMOUNT_WIDTH = 40.0

# fontTools logs every step of subsetting the font at INFO: fifty lines per receipt.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)


@cache
def _cmap(path: Path) -> frozenset[int]:
    return frozenset(TTFont(path, lazy=True).getBestCmap())


@cache
def drawable() -> frozenset[int]:
    """Code points both DejaVu faces draw."""
    return frozenset.intersection(*(_cmap(path) for path in FONT_FILES.values()))


def fallback_drawable() -> frozenset[int]:
    return _cmap(FALLBACK_FILE)


def _invisible(ch: str) -> bool:
    """Format characters shaping needs (joiners, direction marks) draw nothing by themselves;
    variation selectors only pick among glyphs the fonts do not have."""
    return unicodedata.category(ch) == "Cf" or "\ufe00" <= ch <= "\ufe0f"


def printable(text: str) -> str:
    """The text as it will be drawn: each character neither font draws becomes U+FFFD.

    Lines stay lines. Invisible format characters stay for the shaper (a zero-width
    non-joiner changes how Persian letters join) where the font has them; the others,
    and variation selectors, have nothing to draw. Bidi reordering and Arabic joining
    are the shaper's work, not done here.
    """
    glyphs, fallback = drawable(), fallback_drawable()
    lines = []
    for line in text.splitlines() or [""]:
        kept = []
        for ch in line:
            if ord(ch) in glyphs or ord(ch) in fallback:
                kept.append(ch)
            elif not _invisible(ch) and unicodedata.category(ch) != "Cc":
                kept.append(MISSING)
        lines.append(" ".join("".join(kept).split()))
    return "\n".join(lines)


def _fallback_subset(needs: frozenset[int]) -> Any:
    """The fallback face cut down to `needs`, in a temporary file (deleted on close)."""
    font = TTFont(FALLBACK_FILE, lazy=True)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(needs))
    subsetter.subset(font)
    handle = tempfile.NamedTemporaryFile(suffix=".ttf")  # noqa: SIM115 (closed by render)
    font.save(handle)
    handle.flush()
    return handle


def fallback_needs(text: str) -> frozenset[int]:
    """The characters of `text` only the fallback (CJK) font draws."""
    glyphs, fallback = drawable(), fallback_drawable()
    return frozenset(ord(ch) for ch in text if ord(ch) not in glyphs and ord(ch) in fallback)


class _Document(FPDF):
    """An A4 page in DejaVu Sans, shaped, with the few kinds of line a receipt needs.

    `texts` are every text the document will print that a person typed: the fallback
    font is loaded only when they need it, with just their characters (loading the
    whole face takes seconds).
    """

    def __init__(self, *, title: str, author: str, created: datetime,
                 texts: Iterable[str] = ()) -> None:
        super().__init__(format="A4")
        for style, path in FONT_FILES.items():
            self.add_font(FAMILY, style, str(path))
        needs: set[int] = set()
        self.missing = False
        for text in texts:
            needs |= fallback_needs(text)
        self._fallback_file: Any = None
        if needs:
            # Only the characters this document needs: the whole face takes seconds to
            # load, a subset of a few glyphs milliseconds. One face serves bold text too.
            self._fallback_file = _fallback_subset(frozenset(needs))
            self.add_font(FALLBACK_FAMILY, "", self._fallback_file.name)
            self.set_fallback_fonts([FALLBACK_FAMILY], exact_match=False)
        self.set_text_shaping(True)
        # A fixed date instead of "now": the same receipt gives the same bytes.
        self.set_creation_date(created)
        self.set_title(title)
        self.set_author(author)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(20, 18, 20)
        self.add_page()

    def _drawn(self, text: str) -> str:
        drawn = printable(text)
        if MISSING in drawn:
            self.missing = True
        return drawn

    def text_line(self, text: str, *, size: float = 10, bold: bool = False) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, self._drawn(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def gap(self, height: float = 4) -> None:
        self.ln(height)

    def amount_row(self, label: str, amount: str, *, size: float = 10, bold: bool = False) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        height = size * 0.55
        self.cell(self.epw - AMOUNT_WIDTH, height, self._drawn(label))
        self.cell(AMOUNT_WIDTH, height, amount, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def detail_row(self, text: str) -> None:
        """A line that belongs to the row above it (a gift's dedication), indented."""
        self.set_font(FAMILY, "", 8.5)
        self.set_x(self.l_margin + 6)
        self.multi_cell(self.epw - AMOUNT_WIDTH - 6, 4.5, self._drawn(text),
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table_row(
        self, cells: Sequence[str], widths: Sequence[float], *, bold: bool = False
    ) -> None:
        """Cells of a row; all but the first two are amounts, aligned right."""
        self.set_font(FAMILY, "B" if bold else "", 9)
        for index, (text, width) in enumerate(zip(cells, widths, strict=True)):
            last = index == len(cells) - 1
            self.cell(
                width, 5.5, self._drawn(text), align="L" if index < 2 else "R",
                new_x=XPos.LMARGIN if last else XPos.RIGHT,
                new_y=YPos.NEXT if last else YPos.TOP,
            )

    def letterhead(self, charity: dict[str, Any]) -> None:
        self.text_line(charity["org_name"], size=16, bold=True)
        self.text_line(f"Tax ID: {charity['org_tax_id']}")
        self.text_line(charity["org_address"])
        self.gap(8)

    def wording(self, text: str) -> None:
        self.text_line(text, size=8.5)
        self.gap(3)

    def missing_note(self) -> None:
        """Say so when a character could not be printed (never shorten a name silently)."""
        if self.missing:
            self.gap(2)
            self.text_line(MISSING_NOTE, size=8.5)

    def render(self) -> bytes:
        try:
            return bytes(self.output())
        finally:
            if self._fallback_file is not None:
                self._fallback_file.close()


def _dedication(line: Any) -> str | None:
    if line.dedication_type and line.dedication_name:
        return f"{dedication_words(line.dedication_type)} {clean_line(line.dedication_name)}"
    return None


def receipt_pdf(order: Order) -> bytes:
    """The donor's receipt for one paid order, as a tax office expects to see it."""
    context = receipt_context(order)
    currency = order.currency
    title = "Amended receipt" if context["amended"] else "Receipt"
    # One line whatever was stored: a line break in a name must not print extra lines.
    name, email = clean_line(order.name) or "", clean_line(order.email) or ""
    donor = f"{name} <{email}>" if name else email
    doc = _Document(
        title=f"{title} {context['receipt_number']}",
        author=context["org_name"],
        created=order.paid_at or order.created_at,
        texts=[donor, context["org_name"], context["org_address"],
               *(line.name for line in order.lines),
               *(_dedication(line) or "" for line in order.lines)],
    )
    doc.letterhead(context)
    doc.text_line(f"{title} number: {context['receipt_number']}", size=14, bold=True)
    if context["amended"]:
        doc.text_line("This receipt replaces the one sent before: part or all of the "
                      "payment was refunded.")
    doc.gap(2)
    doc.text_line(f"Order: {order.number}")
    doc.text_line(f"Date paid: {context['date']}")
    if context["payment_reference"]:
        doc.text_line(f"Payment reference: {context['payment_reference']}")
    doc.text_line(f"Received from: {donor}")
    doc.gap(6)
    # Notes of support stay out of the receipt: the email shows them; this is for tax.
    if context["package_lines"]:
        doc.text_line("Care packages for soldiers", size=11, bold=True)
        for line in context["package_lines"]:
            plural = "s" if line.total_packages != 1 else ""
            doc.amount_row(
                f"{line.quantity} x {line.name} ({line.total_packages} package{plural})",
                format_money(line.line_total_cents, currency),
            )
        doc.amount_row("Care packages", format_money(context["package_total_cents"], currency),
                       bold=True)
        doc.wording(context["package_wording"])
    if context["gift_lines"]:
        doc.text_line("Gifts", size=11, bold=True)
        for line in context["gift_lines"]:
            doc.amount_row(line.name, format_money(line.line_total_cents, currency))
            dedication = _dedication(line)
            if dedication:
                # Printed against the gift it belongs to, not under the whole receipt.
                doc.detail_row(dedication)
        doc.amount_row("Gifts", format_money(context["gift_total_cents"], currency), bold=True)
        doc.wording(context["gift_wording"])
    doc.gap(3)
    doc.amount_row("Total paid", format_money(order.total_cents, currency), size=12, bold=True)
    if context["amended"]:
        doc.amount_row("Refunded", format_money(-context["refunded_cents"], currency))
        doc.amount_row("Kept by the charity", format_money(context["kept_cents"], currency),
                       size=12, bold=True)
        if context["kept_goods_cents"]:
            doc.amount_row("Remains a purchase of care packages",
                           format_money(context["kept_goods_cents"], currency))
        if context["kept_gift_cents"]:
            doc.amount_row("Remains a gift", format_money(context["kept_gift_cents"], currency))
    doc.missing_note()
    if doc.missing:
        log.warning("order %s: receipt printed characters no font has as U+FFFD", order.number)
    return doc.render()


STATEMENT_COLUMNS = ("Order", "Date paid", "Care packages", "Gifts", "Refunded", "Amount")
STATEMENT_WIDTHS = (28.0, 32.0, 30.0, 26.0, 26.0, 28.0)


def statement_pdf(statement: Statement, *, issued: datetime) -> bytes:
    """One donor's gifts and packages of a calendar year, with the year's total."""
    charity = charity_context()
    currency = statement.currency
    name, address = clean_line(statement.name) or "", clean_line(statement.address) or ""
    donor = f"{name} <{address}>" if name else address
    doc = _Document(
        title=f"Year-end statement {statement.year}", author=charity["org_name"], created=issued,
        texts=[donor, charity["org_name"], charity["org_address"]],
    )
    doc.letterhead(charity)
    doc.text_line(f"Year-end statement {statement.year}", size=14, bold=True)
    doc.gap(2)
    doc.text_line(f"Donor: {donor}")
    doc.text_line(f"Issued: {issued.strftime('%d %B %Y')}")
    doc.gap(6)
    doc.table_row(STATEMENT_COLUMNS, STATEMENT_WIDTHS, bold=True)
    for line in statement.lines:
        doc.table_row(
            (
                line.number,
                line.paid_at.strftime("%d %b %Y"),
                format_money(line.packages_cents, currency),
                format_money(line.gifts_cents, currency),
                format_money(-line.refunded_cents, currency) if line.refunded_cents else "",
                format_money(line.net_cents, currency),
            ),
            STATEMENT_WIDTHS,
        )
    doc.gap(3)
    doc.amount_row(
        f"Total received in {statement.year}", format_money(statement.total_cents, currency),
        size=12, bold=True,
    )
    doc.gap(4)
    if statement.has_packages:
        doc.wording(charity["package_wording"])
    doc.wording(charity["gift_wording"])
    doc.missing_note()
    return doc.render()
