"""Money that arrives for an order the shop had closed goes to staff, with its amount."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.extensions import db
from shop.orders.models import Order
from shop.orders.state import CLOSED, OrderStatus
from tests.integration.test_monthly_gifts import gifts, plan, subscribe
from tests.servers import PartnerServer
from tests.support import (
    StripeStandIn,
    add_to_cart,
    checkout,
    post_event,
    session_id_from,
    stripe_get,
)


def timeline(app: Flask, order_id: int | None = None) -> list[str]:
    with app.app_context():
        order = (db.session.get(Order, order_id) if order_id
                 else db.session.scalars(db.select(Order)).one())
        assert order is not None
        return [event.message for event in order.events]


def close_order(client: FlaskClient, stand_in: StripeStandIn, status: OrderStatus) -> str:
    """An order the shop closed, through Stripe's own events; returns its session id."""
    add_to_cart(client, "unit-ten-pack")
    session_id = session_id_from(checkout(client).location)
    if status is OrderStatus.EXPIRED:
        stand_in.expire(session_id)
        post_event(client, stand_in.event("checkout.session.expired"))
    elif status is OrderStatus.FAILED:
        stand_in.pay(session_id, outcome="delayed")
        post_event(client, stand_in.event("checkout.session.completed"))
        stand_in.settle(session_id, "failed")
        post_event(client, stand_in.event("checkout.session.async_payment_failed"))
    else:  # pragma: no cover - a new closed status needs its way here
        raise AssertionError(f"no way to close an order as {status}")
    return session_id


def paid_event(stand_in: StripeStandIn, session_id: str) -> dict[str, Any]:
    """Stripe reports the session paid after all (a late bank payment, a stale close)."""
    session = stripe_get(stand_in, f"checkout/sessions/{session_id}")
    session |= {"status": "complete", "payment_status": "paid",
                "payment_intent": session.get("payment_intent") or "pi_late_payment"}
    return {"id": f"evt_late_{session_id[-8:]}", "object": "event", "type":
            "checkout.session.completed", "api_version": "2026-10-28.endive",
            "created": session["created"], "livemode": False, "data": {"object": session}}


@pytest.mark.parametrize("closed", sorted(CLOSED))
def test_a_payment_for_a_closed_order_lands_in_review_with_its_amount(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
    closed: OrderStatus,
) -> None:
    session_id = close_order(client, stripe_stand_in, closed)
    with app.app_context():
        order = db.session.scalars(db.select(Order)).one()
        token = order.token
        assert order.status == closed
    assert post_event(client, paid_event(stripe_stand_in, session_id)).status_code == 200
    api = client.get(f"/api/orders/{token}").get_json()
    assert api["status"] == "needs_review"
    assert any(f"Payment of $590.00 received while the order was {closed}" in line
               for line in timeline(app))
    assert "Paid, under review" in client.get(f"/orders/{token}").get_data(as_text=True)
    assert partner.requests == []  # nothing ships before staff look


def test_a_monthly_invoice_paid_after_its_plan_ended_unpaid_lands_in_review(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    subscribe(client, stripe_stand_in)
    subscription = plan(app).stripe_subscription_id
    assert subscription
    seen = len(stripe_stand_in.events())
    unpaid = stripe_stand_in.cycle(subscription, "failed")
    stripe_stand_in.end_subscription(subscription)
    seen = stripe_stand_in.deliver_all(client, seen)
    assert plan(app).status == "cancelled" and gifts(app)[-1] == ("failed", 1800)

    stripe_stand_in.pay_invoice(unpaid["id"])  # the donor pays on the invoice's page
    stripe_stand_in.deliver_all(client, seen)
    assert gifts(app)[-1] == ("needs_review", 1800)
    assert plan(app).status == "cancelled"
    with app.app_context():
        gift = db.session.scalars(db.select(Order).order_by(Order.id.desc())).first()
        assert gift is not None
        gift_id = gift.id
    assert any("Payment of $18.00 received while the order was failed" in line
               for line in timeline(app, gift_id))
