"""`flask --app shop reconcile --since 2d` repairs what the webhooks never told us."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop.extensions import db
from shop.orders.models import Order, OrderEvent
from tests.servers import PartnerServer, SmtpSink
from tests.support import (
    StripeStandIn,
    add_to_cart,
    buy_and_pay,
    checkout,
    post_event,
    session_id_from,
    stripe_get,
    stripe_post,
)


def the_order(app: Flask) -> Order:
    with app.app_context():
        order: Order = db.session.scalars(db.select(Order)).one()
        db.session.expunge(order)
        return order


def reconciliation_notes(app: Flask) -> list[str]:
    with app.app_context():
        return [e.message for e in db.session.scalars(
            db.select(OrderEvent).where(OrderEvent.kind == "reconciliation"))]


def test_a_payment_whose_webhook_never_came_is_repaired_with_its_side_effects(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer,
) -> None:
    buy_and_pay(client, stripe_stand_in)  # the event is never delivered
    assert the_order(app).status == "pending"
    result = runner.invoke(args=["reconcile", "--since", "2d"])
    assert result.exit_code == 0, result.output
    assert "repaired: CP-000001: pending -> paid" in result.output
    assert the_order(app).status == "paid"
    assert len(mailbox.to("donor@example.org", "receipt")) == 1 and len(partner.accepted) == 1
    assert reconciliation_notes(app) == [
        "Reconciliation: pending -> paid, the webhook never came"]
    again = runner.invoke(args=["reconcile", "--since", "2d"])
    assert "repaired" not in again.output
    assert len(mailbox.to("donor@example.org", "receipt")) == 1


def test_a_refund_and_a_dispute_stripe_knows_are_applied(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in)
    post_event(client, paid)
    intent = paid["data"]["object"]["payment_intent"]
    stripe_post(stripe_stand_in, "refunds", payment_intent=intent, amount=5000)
    result = runner.invoke(args=["reconcile", "--since", "6h"])
    assert result.exit_code == 0, result.output
    order = the_order(app)
    assert (order.status, order.refunded_cents) == ("partially_refunded", 5000)

    charge_id = stripe_get(stripe_stand_in, f"payment_intents/{intent}")["latest_charge"]
    stripe_stand_in.dispute(charge_id)
    runner.invoke(args=["reconcile", "--since", "6h"])
    assert the_order(app).status == "disputed"
    assert len(reconciliation_notes(app)) == 2


def test_an_order_we_think_paid_that_stripe_does_not_is_flagged_for_staff(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    add_to_cart(client, "single-package")
    session_id = session_id_from(checkout(client).location)
    session = stripe_get(stripe_stand_in, f"checkout/sessions/{session_id}")
    forged = {
        "id": "evt_forged_paid", "object": "event", "type": "checkout.session.completed",
        "created": session["created"], "livemode": False, "api_version": "2026-10-28.endive",
        "data": {"object": session | {"status": "complete", "payment_status": "paid"}},
    }
    post_event(client, forged)  # signed, but Stripe never took this money
    assert the_order(app).status == "paid"
    result = runner.invoke(args=["reconcile", "--since", "1d"])
    assert "flagged for staff: CP-000001" in result.output
    order = the_order(app)
    assert order.status == "needs_review"
    assert order.review_reason and "Stripe's checkout session is open/unpaid" in (
        order.review_reason)


def test_an_expired_session_closes_its_pending_order(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    add_to_cart(client, "single-package")
    session_id = session_id_from(checkout(client).location)
    stripe_stand_in.expire(session_id)
    runner.invoke(args=["reconcile", "--since", "2d"])
    assert the_order(app).status == "expired"


@pytest.mark.parametrize("since", ["abc", "0d", "-2d", "2x", ""])
def test_a_bad_duration_is_refused(runner: FlaskCliRunner, since: str) -> None:
    result = runner.invoke(args=["reconcile", "--since", since])
    assert result.exit_code == 2
    assert "duration" in result.output


def test_stripe_unavailable_stops_reconciliation_with_a_message(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    buy_and_pay(client, stripe_stand_in)
    stripe_stand_in.fault(method="GET", path_prefix="/v1/checkout/sessions", status=500,
                          count=5)
    result = runner.invoke(args=["reconcile", "--since", "2d"])
    assert result.exit_code == 1
    assert "Stripe is unavailable" in result.output
    assert the_order(app).status == "pending"
