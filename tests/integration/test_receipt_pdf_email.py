"""The receipt email carries the PDF receipt a donor keeps for the tax office."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.pdfs import pdf_text
from tests.servers import SmtpSink, html_of, text_of
from tests.support import StripeStandIn, buy_and_pay, post_event


def test_a_paid_order_s_receipt_has_the_pdf_attached(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    _, event = buy_and_pay(client, stripe_stand_in, "unit-ten-pack", "Stay warm 🧤",
                           gift="25", name="Dana דנה")
    assert post_event(client, event).status_code == 200

    [receipt] = mailbox.to("donor@example.org", "receipt")
    assert "Receipt number: R-CP-000001" in text_of(receipt)
    assert "Receipt number: R-CP-000001" in html_of(receipt)
    [attachment] = list(receipt.iter_attachments())
    assert attachment.get_filename() == "receipt-CP-000001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    text = pdf_text(attachment.get_content())
    for expected in ("Receipt number: R-CP-000001", "Warm Hands Test Charity",
                     "Tax ID: 12-3456789", "Total paid $615.00", "Gifts $25.00"):
        assert expected in text, expected
    assert "Stay warm" not in text
