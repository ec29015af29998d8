"""Every refund and dispute outcome Stripe can report ends the order in a defined state."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop.extensions import db
from shop.orders.models import Order, SideEffect
from tests.integration.test_monthly_gifts import plan, subscribe
from tests.integration.test_staff import manager  # noqa: F401  (fixture)
from tests.integration.test_staff_refunds import refund
from tests.servers import PartnerServer, SmtpSink
from tests.support import (
    StripeStandIn,
    buy_and_pay,
    post_event,
    refund_at_stripe,
    stripe_get,
)

STAFF = "staff@warmhands.test"


def state(app: Flask) -> tuple[str, int, str | None]:
    """The order's status, what it counts as refunded, and its packing order's status."""
    with app.app_context():
        order = db.session.scalars(db.select(Order)).one()
        packing = db.session.scalar(db.select(SideEffect.status).where(
            SideEffect.order_id == order.id, SideEffect.kind == "packing_order"))
        return order.status, order.refunded_cents, packing


def timeline(app: Flask) -> str:
    with app.app_context():
        order = db.session.scalars(db.select(Order)).one()
        return "\n".join(e.message for e in order.events)


def paid(client: FlaskClient, stand_in: StripeStandIn) -> tuple[str, int]:
    """A paid order; returns its charge id and the number of Stripe events so far."""
    _, event = buy_and_pay(client, stand_in)
    post_event(client, event)
    intent = stripe_get(stand_in, f"payment_intents/{event['data']['object']['payment_intent']}")
    return str(intent["latest_charge"]), len(stand_in.events())


def test_pending_refunds_count_only_once_they_succeed(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    charge, seen = paid(client, stripe_stand_in)
    stripe_stand_in.pending_refunds(2)
    intent = stripe_get(stripe_stand_in, f"charges/{charge}")["payment_intent"]
    first = refund_at_stripe(stripe_stand_in, {"data": {"object": {"payment_intent": intent}}},
                             10000)
    refund_at_stripe(stripe_stand_in, {"data": {"object": {"payment_intent": intent}}}, 5000)
    assert first["data"]["object"]["amount_refunded"] == 10000  # Stripe counts it already
    seen = stripe_stand_in.deliver_all(client, seen)
    assert state(app)[:2] == ("paid", 0)
    assert "of $100.00 is pending at Stripe" in timeline(app)

    settled, canceled = (r["id"] for r in reversed(
        stripe_get(stripe_stand_in, "refunds", charge=charge)["data"]))
    stripe_stand_in.refund_status(settled, "succeeded")
    stripe_stand_in.refund_status(canceled, "canceled")
    stripe_stand_in.deliver_all(client, seen)
    assert state(app)[:2] == ("partially_refunded", 10000)


@pytest.mark.shop_config({"STAFF_ALERT_EMAIL": STAFF})
def test_a_staff_refund_that_fails_after_succeeding_puts_the_money_back_and_tells_staff(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    _, seen = paid(client, stripe_stand_in)
    assert refund(manager, "CP-000001", "590.00").status_code == 303
    seen = stripe_stand_in.deliver_all(client, seen)
    assert state(app)[:2] == ("refunded", 59000)

    [made] = stripe_get(stripe_stand_in, "refunds")["data"]
    stripe_stand_in.refund_status(made["id"], "failed")
    stripe_stand_in.deliver_all(client, seen)
    assert state(app)[:2] == ("needs_review", 0)
    assert "A refund of $590.00 failed after it succeeded (expired_or_canceled_card)" in (
        timeline(app))
    [alert] = mailbox.to(STAFF)
    assert "A refund failed on order CP-000001" in str(alert["Subject"])
    page = manager.get("/staff/orders/CP-000001").get_data(as_text=True)
    assert "failed at Stripe" in page and "Up to $590.00 can be refunded" in page


@pytest.mark.parametrize(("start", "steps", "end", "expected"), [
    ("warning_needs_response", ["warning_under_review"], "warning_closed", ("paid", 0, "done")),
    ("needs_response", ["under_review"], "won", ("paid", 0, "done")),
    ("needs_response", [], "lost", ("dispute_lost", 0, "cancelled")),
    ("warning_needs_response", [], "prevented", ("refunded", 59000, "cancelled")),
])
def test_each_dispute_status_ends_in_its_state(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
    start: str, steps: list[str], end: str, expected: tuple[str, int, str],
) -> None:
    partner.fail_next = 1  # the packing order has not gone out when the dispute opens
    charge, seen = paid(client, stripe_stand_in)
    dispute = stripe_stand_in.dispute(charge, status=start)["id"]
    for step in steps:
        stripe_stand_in.update_dispute(dispute, step)
    seen = stripe_stand_in.deliver_all(client, seen)
    assert state(app) == ("disputed", 0, "held")
    stripe_stand_in.close_dispute(dispute, end)
    stripe_stand_in.deliver_all(client, seen)
    assert state(app) == expected
    assert len(partner.accepted) == (1 if expected[2] == "done" else 0)


def test_an_appealed_loss_is_disputed_again_and_a_win_goes_to_staff(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    charge, seen = paid(client, stripe_stand_in)
    dispute = stripe_stand_in.dispute(charge)["id"]
    stripe_stand_in.close_dispute(dispute, "lost")
    seen = stripe_stand_in.deliver_all(client, seen)
    assert state(app)[0] == "dispute_lost"
    stripe_stand_in.update_dispute(dispute, "appeal_needs_response")
    stripe_stand_in.update_dispute(dispute, "appeal_under_review")
    seen = stripe_stand_in.deliver_all(client, seen)
    assert state(app)[0] == "disputed"
    stripe_stand_in.close_dispute(dispute, "won")
    stripe_stand_in.deliver_all(client, seen)
    assert state(app)[0] == "needs_review"
    assert f"Dispute {dispute} won; back to needs_review" in timeline(app)


def test_staff_refund_one_month_of_a_monthly_gift_like_any_order(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    subscribe(client, stripe_stand_in)
    seen = len(stripe_stand_in.events())
    page = manager.get("/staff/orders/CP-000001").get_data(as_text=True)
    assert 'data-testid="staff-refund-form"' in page and "Monthly gift" in page
    assert refund(manager, "CP-000001", "18.00").status_code == 303
    [made] = stripe_get(stripe_stand_in, "refunds")["data"]
    assert made["amount"] == 1800
    stripe_stand_in.deliver_all(client, seen)
    assert state(app)[:2] == ("refunded", 1800)
    assert plan(app).status == "active"  # one month given back; the plan goes on
    page = manager.get("/staff/orders/CP-000001").get_data(as_text=True)
    assert 'data-testid="staff-refund-form"' not in page  # nothing left to refund


def test_reconciliation_applies_a_closed_dispute_and_a_failed_refund_whose_webhooks_were_lost(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    partner: PartnerServer,
) -> None:
    partner.fail_next = 1
    charge, seen = paid(client, stripe_stand_in)
    dispute = stripe_stand_in.dispute(charge)["id"]
    seen = stripe_stand_in.deliver_all(client, seen)
    stripe_stand_in.close_dispute(dispute, "won")  # charge.dispute.closed never delivered
    result = runner.invoke(args=["reconcile", "--since", "2d"])
    assert f"dispute {dispute}" in result.output and "-> paid" in result.output, result.output
    assert state(app) == ("paid", 0, "done")

    intent = stripe_get(stripe_stand_in, f"charges/{charge}")["payment_intent"]
    seen = len(stripe_stand_in.events())
    refund_at_stripe(stripe_stand_in, {"data": {"object": {"payment_intent": intent}}}, 5000)
    stripe_stand_in.deliver_all(client, seen)
    assert state(app)[:2] == ("partially_refunded", 5000)
    refund_id = stripe_get(stripe_stand_in, "refunds", charge=charge)["data"][0]["id"]
    stripe_stand_in.refund_status(refund_id, "failed")  # its webhooks never delivered
    result = runner.invoke(args=["reconcile", "--since", "2d"])
    assert f"refund {refund_id} (failed) applied" in result.output, result.output
    assert state(app)[:2] == ("needs_review", 0)
    assert "repaired" not in runner.invoke(args=["reconcile", "--since", "2d"]).output


def test_a_stale_dispute_event_while_stripe_cannot_be_asked_reopens_nothing(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    """A late redelivery says the dispute is under review; it closed as won since. The
    event's own status is never acted on: with Stripe away the event is asked for again."""
    charge, seen = paid(client, stripe_stand_in)
    dispute = stripe_stand_in.dispute(charge)["id"]
    stripe_stand_in.update_dispute(dispute, "under_review")
    [stale] = [e for e in stripe_stand_in.events("charge.dispute.updated")
               if e["data"]["object"]["id"] == dispute]
    stripe_stand_in.close_dispute(dispute, "won")
    stripe_stand_in.deliver_all(client, seen)
    assert state(app)[0] == "paid"
    stale = stale | {"id": "evt_late_dispute_update"}  # an update that had not arrived yet

    stripe_stand_in.fault(method="GET", path_prefix=f"/v1/disputes/{dispute}", status=500,
                          count=5)
    response = post_event(client, stale)
    assert response.status_code == 503  # Stripe delivers it again later
    assert state(app)[0] == "paid"

    # A dispute Stripe does not have (a forged or mistaken event) changes nothing either.
    forged = stale | {"id": "evt_forged_dispute",
                      "data": {"object": stale["data"]["object"] | {"id": "dp_unknown"}}}
    assert post_event(client, forged).status_code == 200
    assert state(app)[0] == "paid"
