"""Stripe's API fails (500) and times out at checkout: the donor keeps the cart, pays once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.extensions import db
from shop.orders.models import Order
from tests.conftest import LiveShop
from tests.faults.conftest import Scenario, Seen, all_delivered, deliveries
from tests.servers import PartnerServer, SmtpSink
from tests.support import StripeStandIn, add_to_cart, checkout, session_id_from, wait_for

SESSIONS = "/v1/checkout/sessions"


def friendly_page_keeps_the_cart(client: FlaskClient) -> bool:
    response = checkout(client, name="Sam")
    page = response.get_data(as_text=True)
    return (response.status_code == 503 and "payment service is unavailable" in page
            and "your cart is kept" in page
            and 'data-testid="cart-line"' in client.get("/cart").get_data(as_text=True))


@pytest.mark.shop_config({"STRIPE_TIMEOUT": 0.5})
def test_stripe_500_then_a_timeout_at_checkout_then_one_session_paid_once(
    app: Flask, client: FlaskClient, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("Stripe API 500 and timeout at checkout",
                   "POST /v1/checkout/sessions answers 500, then answers after 2 s "
                   "(shop's timeout 0.5 s, Stripe still makes the session); donor retries")
    add_to_cart(client, "unit-ten-pack", 1, "Hold on, help is coming")

    stripe_stand_in.fault(method="POST", path_prefix=SESSIONS, status=500)
    assert friendly_page_keeps_the_cart(client)
    stripe_stand_in.fault(method="POST", path_prefix=SESSIONS, delay=2.0, status=0)
    assert friendly_page_keeps_the_cart(client)
    # Stripe finished the request the shop gave up on: that session exists.
    wait_for(lambda: len(stripe_stand_in.sessions()) == 1)

    retry = checkout(client, name="Sam")
    assert retry.status_code == 303
    session_id = session_id_from(retry.location)
    stripe_stand_in.pay(session_id)
    wait_for(lambda: all_delivered(stripe_stand_in))
    run.sent = 3 + deliveries(stripe_stand_in)

    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        with app.app_context():
            order = db.session.scalars(db.select(Order)).one()
            attached = order.stripe_session_id
        return {
            "order paid": status == "paid",
            "one Checkout Session at Stripe": [
                s["id"] for s in stripe_stand_in.sessions()] == [session_id],
            "the order is linked to the session paid": attached == session_id,
            "one move to paid": seen.paid_transitions == {number: 1},
            "one receipt": seen.receipts == {number: 1},
            "one packing order": seen.packing_orders == {number: 1},
            "the cart is empty once paid":
                'data-testid="cart-empty"' in client.get("/cart").get_data(as_text=True),
        }

    run.finish(app, stripe_stand_in, mailbox, partner, checks)
