"""The receipt PDF: what a tax office needs to see, in any script the donor writes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
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


def test_a_dedication_is_printed_when_the_order_has_one(
    app_context: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Order, "dedication_text",
                        property(lambda self: "In memory of Sergeant Avi Levi"), raising=False)
    text = pdf_text(receipt_pdf(make_order()))
    assert "Dedication: In memory of Sergeant Avi Levi" in text


def test_a_blank_dedication_prints_no_line(
    app_context: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Order, "dedication_text", property(lambda self: "  "), raising=False)
    assert "Dedication" not in pdf_text(receipt_pdf(make_order()))


def test_hebrew_cyrillic_and_emoji_names_give_a_readable_receipt(app_context: None) -> None:
    order = make_order(name="Dana דנה Юлия 🧤", note="Stay warm 🧤❄️ חורף חם")
    data = receipt_pdf(order)
    text = pdf_text(data)
    assert "Юлия" in text and "Dana" in text
    assert set("דנה") <= set(text)
    assert "🧤" not in text and "\ufffd" not in text
    assert "Total paid $615.00" in text
    fonts = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"].get_object()
    assert all("DejaVu" in str(font.get_object()["/BaseFont"]) for font in fonts.values())


def test_right_to_left_text_is_drawn_in_reading_order_and_emoji_are_dropped() -> None:
    # Drawn left to right, a Hebrew word must be stored last letter first to read right.
    assert printable("Dana דנה 🧤") == "Dana הנד"
    assert printable("Merry ❄️  Christmas 🎄") == "Merry ❄ Christmas"


def test_the_same_order_gives_the_same_bytes_dated_when_it_was_paid(app_context: None) -> None:
    order = make_order()
    first, second = receipt_pdf(order), receipt_pdf(order)
    assert first == second
    metadata = PdfReader(io.BytesIO(first)).metadata
    assert metadata is not None and metadata.creation_date == PAID_AT
