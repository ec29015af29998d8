"""The messages a donor gets about what happens next: each sent once, retried, swept.

Shipped and note-left-out are checked where their packing orders and notes are
(test_units, test_safe_notes); the monthly ones in test_monthly_gifts.
"""

from __future__ import annotations

import time

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.pdfs import pdf_text
from tests.servers import SmtpSink, text_of
from tests.support import (
    StripeStandIn,
    add_to_cart,
    buy_and_pay,
    checkout,
    post_event,
    refund_at_stripe,
    session_id_from,
)


def sweep(runner: FlaskCliRunner) -> None:
    time.sleep(0.06)  # the retry's short backoff (tests' settings) comes due
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output


def words(text: str) -> str:
    return " ".join(text.split())


def test_a_bank_transfer_tells_the_donor_what_happens_next_once(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink,
) -> None:
    add_to_cart(client, "single-package")
    session_id = session_id_from(checkout(client, email="bank@example.org").location)
    stripe_stand_in.pay(session_id, "delayed")
    started = stripe_stand_in.event("checkout.session.completed")
    mailbox.refuse_next = 1  # the mail server is busy at first: retried by the sweep
    assert post_event(client, started).status_code == 200
    assert mailbox.to("bank@example.org") == []
    sweep(runner)
    post_event(client, started)  # delivered again: nothing more
    sweep(runner)
    [message] = mailbox.to("bank@example.org", "bank-transfer-started")
    text = words(text_of(message))
    assert "We have received your order CP-000001 for $65.00" in text
    assert "Banks take a few business days to confirm a transfer" in text
    assert "we will email your receipt and send your care packages to be packed" in text
    assert mailbox.to("bank@example.org", "receipt") == []

    stripe_stand_in.settle(session_id, "succeeded")
    post_event(client, stripe_stand_in.event("checkout.session.async_payment_succeeded"))
    assert len(mailbox.to("bank@example.org", "receipt")) == 1
    assert len(mailbox.to("bank@example.org", "bank-transfer-started")) == 1


def test_each_refund_reaches_the_donor_with_the_amended_receipt(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, None, gift="40", email="dana@example.org")
    post_event(client, paid)
    partial = refund_at_stripe(stripe_stand_in, paid, amount=1500)
    post_event(client, partial)
    post_event(client, partial)  # delivered again: no second message
    [refund] = mailbox.to("dana@example.org", "refund")
    assert str(refund["Subject"]) == "Your refund for order CP-000001 and your amended receipt"
    text = words(text_of(refund))
    assert "We have refunded $15.00 of the $40.00 you paid for order CP-000001" in text
    assert ("Receipt number: R-CP-000001 Original amount: $40.00 Refunded: $15.00 "
            "Remains a gift: $25.00") in text
    [attachment] = list(refund.iter_attachments())
    assert attachment.get_filename() == "receipt-CP-000001-amended.pdf"
    pdf = pdf_text(attachment.get_content())
    for printed in ("Amended receipt number: R-CP-000001", "Total paid $40.00",
                    "Refunded -$15.00", "Remains a gift $25.00"):
        assert printed in pdf, pdf

    # The rest goes back later: a second message, with the receipt that keeps nothing.
    post_event(client, refund_at_stripe(stripe_stand_in, paid))
    _, second = mailbox.to("dana@example.org", "refund")
    text = words(text_of(second))
    assert "We have refunded $40.00 of the $40.00 you paid" in text
    assert "Nothing remains: the order was refunded in full" in text
    assert "Refunded -$40.00" in pdf_text(next(second.iter_attachments()).get_content())
