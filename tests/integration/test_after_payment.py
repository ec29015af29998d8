"""After payment: one receipt in the donor's inbox, one packing order at the partner."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop import jobs
from shop.extensions import db
from shop.orders.models import Order, OrderEvent, SideEffect
from shop.orders.side_effect_state import SideEffectKind
from tests.servers import PartnerServer, SmtpSink, html_of, text_of
from tests.support import StripeStandIn, buy_and_pay, post_event


def sweep(runner: FlaskCliRunner) -> None:
    """What beat does every minute; retries here come due within milliseconds."""
    time.sleep(0.06)
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output


def effects(app: Flask) -> dict[str, SideEffect]:
    with app.app_context():
        rows = db.session.scalars(db.select(SideEffect)).all()
        for row in rows:
            db.session.expunge(row)
        return {row.kind: row for row in rows}


def timeline(app: Flask) -> list[str]:
    with app.app_context():
        return [e.kind for e in db.session.scalars(db.select(OrderEvent).order_by(OrderEvent.id))]


def test_a_paid_order_sends_one_receipt_and_one_signed_packing_order(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer,
) -> None:
    token, event = buy_and_pay(client, stripe_stand_in, "unit-ten-pack", "Stay warm 🧤",
                               gift="25", name="Dana")
    assert post_event(client, event).status_code == 200

    [receipt] = mailbox.to("donor@example.org", "receipt")
    text = text_of(receipt)
    with app.app_context():
        order = db.session.scalars(db.select(Order)).one()
        number, intent = order.number, order.stripe_payment_intent_id
    assert number in str(receipt["Subject"])
    for expected in ("Thank you, Dana!", "Warm Hands Test Charity", "Tax ID: 12-3456789",
                     "5 Test Lane, Springfield", f"RECEIPT for order {number}",
                     f"Payment reference: {intent}", "1 x Unit ten-pack (10 packages)",
                     'Your note: "Stay warm 🧤"', "CARE PACKAGES FOR SOLDIERS", "GIFTS",
                     "Gifts: $25.00", "No goods or services were provided",
                     "TOTAL PAID: $615.00", f"http://shop.test/orders/{token}"):
        assert expected in text, expected
    assert "Stay warm 🧤" in html_of(receipt)

    [request] = partner.requests
    assert request["signed"] and request["key"] == number
    body = json.loads(request["raw"])
    assert body["order_number"] == number and body["packages"] == 10
    assert body["lines"] == [{"bundle": "unit-ten-pack", "quantity": 1, "packages": 10,
                              "note": "Stay warm 🧤"}]
    assert body["created_at"].endswith("Z")
    assert "Dana" not in request["raw"].decode() and "donor@" not in request["raw"].decode()

    api = client.get(f"/api/orders/{token}").get_json()
    assert api["receipt_sent"] is True and api["fulfilment_status"] == "accepted"
    done = effects(app)
    assert done["packing_order"].reference == "PK-0001"
    assert {"receipt_done", "packing_order_done"} <= set(timeline(app))


def test_the_same_paid_event_twice_gives_one_receipt_and_one_packing_order(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer,
) -> None:
    _, event = buy_and_pay(client, stripe_stand_in)
    post_event(client, event)
    post_event(client, event)
    sweep(runner)
    assert len(mailbox.to("donor@example.org", "receipt")) == 1
    assert len(partner.requests) == 1 and len(partner.accepted) == 1


def test_partner_500_then_201_gives_exactly_one_accepted_packing_order(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    partner: PartnerServer,
) -> None:
    partner.fail_next = 1
    token, event = buy_and_pay(client, stripe_stand_in)
    post_event(client, event)
    assert effects(app)["packing_order"].status == "pending"
    assert client.get(f"/api/orders/{token}").get_json()["fulfilment_status"] == "pending"
    assert "packing_order_retry" in timeline(app)

    sweep(runner)
    assert [r["key"] for r in partner.requests] == [partner.requests[0]["key"]] * 2
    assert len(partner.accepted) == 1
    effect = effects(app)["packing_order"]
    assert (effect.status, effect.attempts, effect.reference) == ("done", 2, "PK-0001")
    sweep(runner)
    assert len(partner.requests) == 2


def test_smtp_refusing_then_accepting_gives_one_receipt(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink,
) -> None:
    mailbox.refuse_next = 2
    # A gift alone: the receipt is the only email, so both refusals are its own.
    _, event = buy_and_pay(client, stripe_stand_in, None, gift="25")
    post_event(client, event)
    assert mailbox.to("donor@example.org", "receipt") == []
    sweep(runner)
    sweep(runner)
    sweep(runner)
    assert len(mailbox.to("donor@example.org", "receipt")) == 1
    assert mailbox.attempts == 3
    assert effects(app)["receipt"].status == "done"


@pytest.mark.shop_config({"MAIL_PORT": 1})
def test_smtp_down_keeps_the_receipt_pending_and_the_webhook_fast(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    token, event = buy_and_pay(client, stripe_stand_in)
    assert post_event(client, event).status_code == 200
    receipt = effects(app)["receipt"]
    assert receipt.status == "pending" and "Connection" in (receipt.last_error or "")
    assert client.get(f"/api/orders/{token}").get_json()["status"] == "paid"


def test_retries_end_in_a_failure_staff_can_see(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    partner: PartnerServer,
) -> None:
    partner.fail_next = 10
    token, event = buy_and_pay(client, stripe_stand_in)
    post_event(client, event)
    for _ in range(5):
        sweep(runner)
    effect = effects(app)["packing_order"]
    assert (effect.status, effect.attempts) == ("failed", 4)
    assert "partner answered 500" in (effect.last_error or "")
    assert "packing_order_failed" in timeline(app)
    assert client.get(f"/api/orders/{token}").get_json()["fulfilment_status"] == "failed"
    assert len(partner.requests) == 4


def test_a_partner_refusing_the_order_needs_staff_and_is_not_retried(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    partner: PartnerServer,
) -> None:
    partner.fail_next, partner.fail_status = 1, 422
    _, event = buy_and_pay(client, stripe_stand_in)
    post_event(client, event)
    sweep(runner)
    assert effects(app)["packing_order"].status == "failed"
    assert len(partner.requests) == 1


@pytest.mark.shop_config({"FULFILMENT_TIMEOUT": 0.3})
def test_a_slow_partner_times_out_and_is_tried_again(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    partner: PartnerServer,
) -> None:
    partner.delay = 1.0
    _, event = buy_and_pay(client, stripe_stand_in)
    post_event(client, event)
    assert effects(app)["packing_order"].status == "pending"
    partner.delay = 0.0
    sweep(runner)
    assert effects(app)["packing_order"].status == "done"
    assert len(partner.accepted) == 1


def test_a_partner_answering_garbage_with_200_still_counts_as_accepted(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    partner.garbage = True
    _, event = buy_and_pay(client, stripe_stand_in)
    post_event(client, event)
    effect = effects(app)["packing_order"]
    assert effect.status == "done" and effect.reference is None


def test_a_donation_only_order_sends_a_receipt_but_no_packing_order(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer,
) -> None:
    token, event = buy_and_pay(client, stripe_stand_in, variant=None, gift="50")
    post_event(client, event)
    assert set(effects(app)) == {"receipt"}
    assert partner.requests == []
    text = text_of(mailbox.to("donor@example.org", "receipt")[0])
    assert "GIFTS" in text and "CARE PACKAGES" not in text
    api = client.get(f"/api/orders/{token}").get_json()
    assert api["fulfilment_status"] == "not_required" and api["receipt_sent"] is True


@pytest.mark.shop_config({"FULFILMENT_URL": None, "MAIL_SERVER": None})
def test_without_a_partner_or_mail_server_a_local_run_prints_both_and_keeps_the_pdf(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    app.config["MAIL_SAVE_DIR"] = str(tmp_path / "mail")
    _, event = buy_and_pay(client, stripe_stand_in)
    post_event(client, event)
    printed = capsys.readouterr().out
    assert {e.status for e in effects(app).values()} == {"done"} and not partner.requests
    number = re.search(r"Subject: Your receipt .*\(order (CP-\d+)\)", printed)
    assert number is not None and "----- packing order (console) -----" in printed
    assert "X-Shop-Message: receipt" in printed  # which message it is, as mail filters see it
    assert f'"order_number": "{number[1]}"' in printed
    [pdf] = (tmp_path / "mail").glob("*/receipt-*.pdf")
    assert f"Attachment written to {pdf}" in printed
    assert pdf.read_bytes().startswith(b"%PDF")

    # In production, no partner means the packing order waits for staff instead.
    app.config["APP_ENV"] = "production"
    _, event = buy_and_pay(client, stripe_stand_in)
    post_event(client, event)
    with app.app_context():
        last = db.session.scalars(db.select(Order).order_by(Order.id.desc())).first()
        assert last is not None
        packing = last.side_effect(SideEffectKind.PACKING_ORDER)
        assert packing is not None and packing.status == "failed"
        assert "neither FULFILMENT_URL nor FULFILMENT_EMAIL" in (packing.last_error or "")


@pytest.mark.shop_config({"FULFILMENT_URL": None, "FULFILMENT_EMAIL": "packing@partner.test"})
def test_without_a_partner_api_the_packing_slip_goes_by_email(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    _, event = buy_and_pay(client, stripe_stand_in, note="Merry Christmas ❄️")
    post_event(client, event)
    [slip] = mailbox.to("packing@partner.test")
    assert "10 care packages" in str(slip["Subject"])
    assert 'Note to print and enclose: "Merry Christmas ❄️"' in text_of(slip)
    assert "donor@example.org" not in text_of(slip)
    assert effects(app)["packing_order"].status == "done"


def test_every_task_name_the_shop_sends_is_registered_with_the_worker(app: Flask) -> None:
    celery = app.extensions["celery"]
    celery.loader.import_default_modules()
    for name in jobs.TASK_NAMES:
        assert name in celery.tasks, name
