"""The PDFs the shop emails: a donor's receipt and the year-end statement (fpdf2)."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.bidi import BidiParagraph
from fpdf.enums import TextDirection, XPos, YPos

from shop.money import format_money
from shop.notifications.receipts import charity_context, receipt_context
from shop.orders.models import Order

if TYPE_CHECKING:
    from shop.notifications.statements import Statement

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
# fpdf2's core fonts are Latin-1 only; donors write their names in any script.
FONT_FILES = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"
AMOUNT_WIDTH = 40.0
RTL_CLASSES = frozenset({"R", "AL", "RLE", "RLO", "RLI"})

# fontTools logs every step of subsetting the font at INFO: fifty lines per receipt.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)


@cache
def drawable() -> frozenset[int]:
    """Code points both faces can draw; anything else (emoji) is left out of the PDF."""
    faces = [frozenset(TTFont(path, lazy=True).getBestCmap()) for path in FONT_FILES.values()]
    return frozenset.intersection(*faces)


def printable(text: str) -> str:
    """The text as it can be drawn: without glyphs the font lacks, in visual order.

    Without a shaping engine fpdf2 writes characters in logical order, so a Hebrew
    name would read backwards; the Unicode bidi algorithm puts each line right.
    """
    glyphs = drawable()
    lines = []
    for line in text.splitlines() or [""]:
        kept = "".join(ch for ch in line if ord(ch) in glyphs)
        if any(unicodedata.bidirectional(ch) in RTL_CLASSES for ch in kept):
            kept = BidiParagraph(kept, base_direction=TextDirection.LTR).get_reordered_string()
        # Joiners, direction marks and emoji variation selectors have nothing left to do.
        kept = "".join(ch for ch in kept if not _invisible(ch))
        lines.append(" ".join(kept.split()))
    return "\n".join(lines)


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) == "Cf" or "\ufe00" <= ch <= "\ufe0f"


class _Document(FPDF):
    """An A4 page in DejaVu Sans with the few kinds of line a receipt needs."""

    def __init__(self, *, title: str, author: str, created: datetime) -> None:
        super().__init__(format="A4")
        for style, path in FONT_FILES.items():
            self.add_font(FAMILY, style, str(path))
        # A fixed date instead of "now": the same receipt gives the same bytes.
        self.set_creation_date(created)
        self.set_title(title)
        self.set_author(author)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(20, 18, 20)
        self.add_page()

    def text_line(self, text: str, *, size: float = 10, bold: bool = False) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def gap(self, height: float = 4) -> None:
        self.ln(height)

    def amount_row(self, label: str, amount: str, *, size: float = 10, bold: bool = False) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        height = size * 0.55
        self.cell(self.epw - AMOUNT_WIDTH, height, printable(label))
        self.cell(AMOUNT_WIDTH, height, amount, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table_row(
        self, cells: Sequence[str], widths: Sequence[float], *, bold: bool = False
    ) -> None:
        """Cells of a row; all but the first two are amounts, aligned right."""
        self.set_font(FAMILY, "B" if bold else "", 9)
        for index, (text, width) in enumerate(zip(cells, widths, strict=True)):
            last = index == len(cells) - 1
            self.cell(
                width, 5.5, printable(text), align="L" if index < 2 else "R",
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

    def render(self) -> bytes:
        return bytes(self.output())


def receipt_pdf(order: Order) -> bytes:
    """The donor's receipt for one paid order, as a tax office expects to see it."""
    context = receipt_context(order)
    currency = order.currency
    title = "Amended receipt" if context["amended"] else "Receipt"
    doc = _Document(
        title=f"{title} {context['receipt_number']}",
        author=context["org_name"],
        created=order.paid_at or order.created_at,
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
    donor = f"{order.name} <{order.email}>" if order.name.strip() else order.email
    doc.text_line(f"Received from: {donor}")
    # Another change adds Order.dedication_text; until then there is none to print.
    dedication = getattr(order, "dedication_text", None)
    if isinstance(dedication, str) and dedication.strip():
        doc.text_line(f"Dedication: {dedication.strip()}")
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
    return doc.render()


STATEMENT_COLUMNS = ("Order", "Date paid", "Care packages", "Gifts", "Refunded", "Amount")
STATEMENT_WIDTHS = (28.0, 32.0, 30.0, 26.0, 26.0, 28.0)


def statement_pdf(statement: Statement, *, issued: datetime) -> bytes:
    """One donor's gifts and packages of a calendar year, with the year's total."""
    charity = charity_context()
    currency = statement.currency
    doc = _Document(
        title=f"Year-end statement {statement.year}", author=charity["org_name"], created=issued
    )
    doc.letterhead(charity)
    doc.text_line(f"Year-end statement {statement.year}", size=14, bold=True)
    doc.gap(2)
    donor = f"{statement.name} <{statement.address}>" if statement.name else statement.address
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
    return doc.render()
