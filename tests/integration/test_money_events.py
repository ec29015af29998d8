"""Refunds and disputes made in Stripe reach the order, whatever order the events come in."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.extensions import db
from shop.orders.models import Order, OrderEvent, SideEffect
from tests.servers import PartnerServer, SmtpSink
from tests.support import (
    StripeStandIn,
    buy_and_pay,
    post_event,
    stripe_get,
    stripe_post,
)


def order_state(app: Flask) -> tuple[str, int]:
    with app.app_context():
        order = db.session.scalars(db.select(Order)).one()
        return order.status, order.refunded_cents


def effect_status(app: Flask) -> dict[str, str]:
    with app.app_context():
        return {e.kind: e.status for e in db.session.scalars(db.select(SideEffect))}


def latest(stand_in: StripeStandIn, type_: str) -> dict[str, Any]:
    return stand_in.events(type_)[-1]


def payment_intent_of(event: dict[str, Any]) -> str:
    return str(event["data"]["object"]["payment_intent"])


def refund(stand_in: StripeStandIn, intent: str, amount: int | None = None) -> None:
    data: dict[str, Any] = {"payment_intent": intent}
    if amount is not None:
        data["amount"] = amount
    stripe_post(stand_in, "refunds", **data)


def test_a_partial_then_full_refund_in_stripes_dashboard_reaches_the_order(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    token, paid = buy_and_pay(client, stripe_stand_in)
    post_event(client, paid)
    intent = payment_intent_of(paid)

    refund(stripe_stand_in, intent, 9000)
    assert post_event(client, latest(stripe_stand_in, "charge.refunded")).status_code == 200
    assert order_state(app) == ("partially_refunded", 9000)
    api = client.get(f"/api/orders/{token}").get_json()
    assert api["status"] == "partially_refunded" and api["refunded_cents"] == 9000

    refund(stripe_stand_in, intent)
    post_event(client, latest(stripe_stand_in, "charge.refunded"))
    assert order_state(app) == ("refunded", 59000)
    assert client.get(f"/api/orders/{token}").get_json()["status"] == "refunded"


def test_a_stale_refund_event_never_lowers_the_refunded_amount(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in)
    post_event(client, paid)
    intent = payment_intent_of(paid)
    refund(stripe_stand_in, intent, 1000)
    first = latest(stripe_stand_in, "charge.refunded")
    refund(stripe_stand_in, intent, 2000)
    second = latest(stripe_stand_in, "charge.refunded")
    post_event(client, second)
    post_event(client, first)
    assert order_state(app) == ("partially_refunded", 3000)


def test_refunded_before_completed_ends_refunded_with_nothing_shipped(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in)
    refund(stripe_stand_in, payment_intent_of(paid))
    post_event(client, latest(stripe_stand_in, "charge.refunded"))
    assert order_state(app) == ("refunded", 59000)
    post_event(client, paid)
    assert order_state(app) == ("refunded", 59000)
    assert partner.requests == []
    # No receipt and no package: the donor hears only that the money went back.
    assert [m["X-Shop-Message"] for m in mailbox.to("donor@example.org")] == ["refund"]
    assert effect_status(app) == {"receipt": "cancelled", "packing_order": "cancelled",
                                  "refund_notice": "done"}


def test_async_success_before_completed_is_paid_once(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    from tests.support import add_to_cart, checkout, session_id_from

    add_to_cart(client, "unit-ten-pack")
    session_id = session_id_from(checkout(client).location)
    stripe_stand_in.pay(session_id, outcome="delayed")
    completed = stripe_stand_in.event("checkout.session.completed")
    stripe_stand_in.settle(session_id, "succeeded")
    post_event(client, stripe_stand_in.event("checkout.session.async_payment_succeeded"))
    post_event(client, completed)
    assert order_state(app)[0] == "paid"
    assert len(partner.accepted) == 1
    with app.app_context():
        moves = [(e.from_status, e.to_status) for e in db.session.scalars(
            db.select(OrderEvent).where(OrderEvent.kind == "status"))]
    assert moves == [("pending", "paid")]


@pytest.mark.shop_config({"STAFF_ALERT_EMAIL": "staff@warmhands.test"})
def test_a_dispute_holds_the_packing_order_alerts_staff_and_a_loss_closes_it(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer,
) -> None:
    partner.fail_next = 1  # the packing order has not gone out when the dispute opens
    token, paid = buy_and_pay(client, stripe_stand_in)
    post_event(client, paid)
    charge = stripe_get(stripe_stand_in, f"payment_intents/{payment_intent_of(paid)}")
    dispute = stripe_stand_in.dispute(charge["latest_charge"])
    post_event(client, latest(stripe_stand_in, "charge.dispute.created"))
    assert order_state(app)[0] == "disputed"
    assert effect_status(app)["packing_order"] == "held"
    [alert] = mailbox.to("staff@warmhands.test")
    assert "Dispute opened" in str(alert["Subject"])
    assert client.get(f"/api/orders/{token}").get_json()["status"] == "disputed"

    stripe_stand_in.close_dispute(dispute["id"], "lost")
    post_event(client, latest(stripe_stand_in, "charge.dispute.closed"))
    assert order_state(app)[0] == "dispute_lost"
    assert effect_status(app)["packing_order"] == "cancelled"
    assert len(partner.accepted) == 0


def test_a_won_dispute_returns_the_order_and_releases_its_packing_order(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    partner.fail_next = 1
    _, paid = buy_and_pay(client, stripe_stand_in)
    post_event(client, paid)
    intent = stripe_get(stripe_stand_in, f"payment_intents/{payment_intent_of(paid)}")
    dispute = stripe_stand_in.dispute(intent["latest_charge"])
    post_event(client, latest(stripe_stand_in, "charge.dispute.created"))
    stripe_stand_in.close_dispute(dispute["id"], "won")
    post_event(client, latest(stripe_stand_in, "charge.dispute.closed"))
    assert order_state(app)[0] == "paid"
    assert effect_status(app)["packing_order"] == "done"
    assert len(partner.accepted) == 1


def test_a_dispute_closed_event_arriving_first_still_ends_right(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in)
    post_event(client, paid)
    intent = stripe_get(stripe_stand_in, f"payment_intents/{payment_intent_of(paid)}")
    dispute = stripe_stand_in.dispute(intent["latest_charge"])
    created = latest(stripe_stand_in, "charge.dispute.created")
    stripe_stand_in.close_dispute(dispute["id"], "lost")
    post_event(client, latest(stripe_stand_in, "charge.dispute.closed"))
    post_event(client, created)
    assert order_state(app)[0] == "dispute_lost"


def test_a_refund_of_a_payment_the_shop_did_not_take_is_ignored(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in)
    post_event(client, paid)
    refund(stripe_stand_in, payment_intent_of(paid), 100)
    event = latest(stripe_stand_in, "charge.refunded")
    event["id"] = "evt_someone_elses"
    event["data"]["object"]["payment_intent"] = "pi_not_from_the_shop"
    stripe_stand_in.fault(method="GET", path_prefix="/v1/payment_intents/pi_not", status=404,
                          error_type="invalid_request_error")
    response = post_event(client, event)
    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored"
    assert order_state(app) == ("paid", 0)


def test_stripe_unreachable_while_linking_a_refund_asks_for_redelivery(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in)
    refund(stripe_stand_in, payment_intent_of(paid), 100)
    stripe_stand_in.fault(method="GET", path_prefix="/v1/payment_intents/", status=500)
    response = post_event(client, latest(stripe_stand_in, "charge.refunded"))
    assert response.status_code == 503
    assert order_state(app) == ("pending", 0)
    again = post_event(client, latest(stripe_stand_in, "charge.refunded"))
    assert again.status_code == 200
    assert order_state(app) == ("partially_refunded", 100)
