"""Without a broker, a webhook answers before the receipt is built and sent; the receipt
still goes out once, however often Stripe delivers the event."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop import jobs
from tests.servers import SmtpSink
from tests.support import StripeStandIn, buy_and_pay, post_event

BACKGROUND = {"TASKS_IN_BACKGROUND": True, "MAIL_TIMEOUT": 30.0}


def receipts(mailbox: SmtpSink) -> list[str]:
    return [part.get_filename() or "" for message in mailbox.to("donor@example.org")
            for part in message.iter_attachments()]


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    # SQLite takes its one write lock for the task's whole transaction, so a page read
    # while the receipt is held would wait for it; PostgreSQL locks only the receipt's row.
    return str(request.param)


@pytest.mark.shop_config(BACKGROUND)
def test_the_payment_webhook_does_not_wait_for_the_receipt(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    token, paid = buy_and_pay(client, stripe_stand_in, "single-package")
    with mailbox.held():  # the receipt cannot be sent until this block ends
        assert post_event(client, paid).status_code == 200
        assert post_event(client, paid).status_code == 200  # delivered twice meanwhile
        assert client.get(f"/api/orders/{token}").get_json()["status"] == "paid"
        assert receipts(mailbox) == []
    jobs.wait_for_background()
    assert len(receipts(mailbox)) == 1
    assert receipts(mailbox)[0].endswith(".pdf")
