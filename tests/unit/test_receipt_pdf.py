"""The receipt PDF: what a tax office needs to see, in any script the donor writes."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from shop import create_app
from shop.notifications.pdf import printable, receipt_pdf
from shop.orders.models import Order, OrderLine
from tests.pdfs import pdf_text

PAID_AT = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)


@pytest.fixture
def app_context(tmp_path: Path) -> Iterator[None]:
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.db'}",
        "REDIS_URL": None,
        "ORG_NAME": "Warm Hands Test Charity",
        "ORG_TAX_ID": "12-3456789",
        "ORG_ADDRESS": "5 Test Lane, Springfield",
        "PUBLIC_URL": "http://shop.test",
    })
    with app.app_context():
        yield


def embedded_glyphs(data: bytes) -> dict[str, list[str]]:
    """Each embedded font's glyph names, by font name without its subset prefix."""
    fonts = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"].get_object()  # type: ignore[index]
    found = {}
    for font in fonts.values():
        font = font.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        face = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
        found[str(font["/BaseFont"]).split("+", 1)[-1]] = face.getGlyphOrder()
    return found


def make_order(name: str = "Dana", note: str = "Stay warm", packages: bool = True) -> Order:
    order = Order(
        number="CP-000042", token="secret-token", status="paid", kind="mixed",
        email="dana@example.org", name=name, currency="usd", total_cents=61500 if packages
        else 2500, paid_at=PAID_AT, stripe_payment_intent_id="pi_3Test",
    )
    if packages:
        order.lines.append(OrderLine(kind="package", name="Unit ten-pack", quantity=1,
                                     unit_price_cents=59000, packages=10, note=note))
    order.lines.append(OrderLine(kind="donation", name="Gift to the winter campaign",
                                 quantity=1, unit_price_cents=2500, packages=0, note=""))
    return order


def test_the_receipt_shows_what_a_tax_office_asks_for(app_context: None) -> None:
    text = pdf_text(receipt_pdf(make_order(note="Stay warm, brothers")))
    for expected in (
        "Warm Hands Test Charity", "Tax ID: 12-3456789", "5 Test Lane, Springfield",
        "Receipt number: R-CP-000042", "Order: CP-000042", "Date paid: 04 March 2026",
        "Payment reference: pi_3Test", "Received from: Dana <dana@example.org>",
        "Care packages for soldiers", "1 x Unit ten-pack (10 packages) $590.00",
        "Care packages $590.00", "Gift to the winter campaign $25.00", "Gifts $25.00",
        "Total paid $615.00",
        "Care packages are goods that Warm Hands Test Charity delivers to soldiers",
        "No goods or services were provided in exchange for your gift. Warm Hands Test "
        "Charity is a registered charity (tax ID 12-3456789)",
    ):
        assert expected in text, expected
    assert "Stay warm" not in text  # notes of support are in the email, not on the receipt
    assert "Dedication" not in text


def test_a_gift_only_receipt_has_no_care_package_section(app_context: None) -> None:
    text = pdf_text(receipt_pdf(make_order(packages=False)))
    assert "Gifts $25.00" in text and "Total paid $25.00" in text
    assert "Care packages" not in text and "delivers to soldiers" not in text


def test_a_dedication_is_printed_against_the_gift_it_belongs_to(app_context: None) -> None:
    order = make_order()
    order.lines.append(OrderLine(kind="donation", name="Monthly gift", quantity=1,
                                 unit_price_cents=1800, packages=0, note="",
                                 dedication_type="memory",
                                 dedication_name="Sergeant Avi Levi"))
    text = pdf_text(receipt_pdf(order))
    assert "Monthly gift $18.00 In memory of Sergeant Avi Levi" in text
    assert "Gift to the winter campaign $25.00 Monthly gift" in text  # none on the other gift
    assert "Dedication" not in text


def test_a_line_break_in_a_name_prints_one_line(app_context: None) -> None:
    order = make_order(name="Dana\nRivera\r\nBcc: x")
    order.lines[-1].dedication_type, order.lines[-1].dedication_name = "honor", "Ann\nLee"
    text = pdf_text(receipt_pdf(order))
    assert "Received from: Dana Rivera Bcc: x <dana@example.org>" in text
    assert "In honor of Ann Lee" in text


ARABIC = "\u0645\u062d\u0645\u062f \u0639\u0628\u062f\u0627\u0644\u0644\u0647"
CHINESE_KOREAN_JAPANESE = "\u738b\u5c0f\u660e \uae40\ubbfc\uc900 \u3055\u304f\u3089"


def test_arabic_is_shaped_and_chinese_japanese_korean_print_through_the_fallback_font(
    app_context: None,
) -> None:
    order = make_order(name=ARABIC)
    order.lines[-1].dedication_type = "honor"
    order.lines[-1].dedication_name = CHINESE_KOREAN_JAPANESE
    data = receipt_pdf(order)
    text = pdf_text(data)
    assert all(word in text for word in ARABIC.split())
    assert f"In honor of {CHINESE_KOREAN_JAPANESE}" in text
    glyphs = embedded_glyphs(data)
    # Joined Arabic letters are drawn with their contextual forms (initial, medial, final).
    assert any(0xFE70 <= int(name[3:], 16) <= 0xFEFF for name in glyphs["DejaVuSansBook"]
               if re.fullmatch(r"uni[0-9A-F]{4}", name))
    assert "WenQuanYiMicroHei" in glyphs
    assert "\ufffd" not in text


def test_a_character_no_font_has_is_marked_and_explained_never_dropped(
    app_context: None,
) -> None:
    text = pdf_text(receipt_pdf(make_order(name="Dana \U000130c0 Rivera")))
    assert "Received from: Dana \ufffd Rivera" in text
    assert "could not be printed with this receipt's fonts" in text


def test_hebrew_cyrillic_and_emoji_names_give_a_readable_receipt(app_context: None) -> None:
    order = make_order(name="Dana \u05d3\u05e0\u05d4 \u042e\u043b\u0438\u044f \U0001f9e4")
    data = receipt_pdf(order)
    text = pdf_text(data)
    assert "\u042e\u043b\u0438\u044f" in text and "Dana" in text
    assert "\u05d3\u05e0\u05d4" in text  # in reading order
    assert "Total paid $615.00" in text
    # DejaVu has no glove: it is marked, and the receipt says why.
    assert "\ufffd" in text and "could not be printed" in text
    fonts = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"].get_object()  # type: ignore[index]
    assert all("DejaVu" in str(font.get_object()["/BaseFont"]) for font in fonts.values())


def test_printable_text_keeps_logical_order_and_marks_what_no_font_draws() -> None:
    assert printable("Dana \u05d3\u05e0\u05d4") == "Dana \u05d3\u05e0\u05d4"
    assert printable("Snow \u2744 \U000130c0") == "Snow \u2744 \ufffd"
    assert printable("two\nlines") == "two\nlines"


def test_the_same_order_gives_the_same_bytes_dated_when_it_was_paid(app_context: None) -> None:
    order = make_order()
    first, second = receipt_pdf(order), receipt_pdf(order)
    assert first == second
    metadata = PdfReader(io.BytesIO(first)).metadata
    assert metadata is not None and metadata.creation_date == PAID_AT


def test_a_monthly_gift_without_a_payment_id_names_its_invoice(app_context: None) -> None:
    order = make_order(packages=False)
    order.stripe_payment_intent_id = None
    order.stripe_invoice_id = "in_1Monthly"
    assert "Payment reference: in_1Monthly" in pdf_text(receipt_pdf(order))
