"""Stripe's API fails (500) and times out at checkout: the donor keeps the cart, pays once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from shop.extensions import db
from shop.orders.models import Order
from tests.conftest import LiveShop
from tests.faults.conftest import (
    GUNICORN_WORKERS,
    Scenario,
    Seen,
    all_at_once,
    all_delivered,
    deliveries,
)
from tests.gunicorn_server import Gunicorn
from tests.servers import PartnerServer, SmtpSink
from tests.support import (
    CSRF,
    StripeStandIn,
    add_to_cart,
    checkout,
    session_id_from,
    wait_for,
)

SESSIONS = "/v1/checkout/sessions"


def sessions_of(stand_in: StripeStandIn, app: Flask) -> list[str]:
    """Checkout Sessions Stripe holds for this test's order (found by its secret token).

    Another test's slow request can still land in the stand-in after it was reset.
    """
    with app.app_context():
        token = db.session.scalars(db.select(Order.token)).one()
    return [s["id"] for s in stand_in.sessions() if f"/orders/{token}?" in s["success_url"]]


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
    wait_for(lambda: len(sessions_of(stripe_stand_in, app)) == 1)

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
            "one Checkout Session at Stripe": sessions_of(stripe_stand_in, app) == [session_id],
            "the order is linked to the session paid": attached == session_id,
            "one move to paid": seen.paid_transitions == {number: 1},
            "one receipt": seen.receipts == {number: 1},
            "one packing order": seen.packing_orders == {number: 1},
            "the cart is empty once paid":
                'data-testid="cart-empty"' in client.get("/cart").get_data(as_text=True),
        }

    run.finish(app, stripe_stand_in, mailbox, partner, checks)


def test_checkout_clicked_10_times_at_once_while_stripe_is_slow_makes_one_session(
    app: Flask, gunicorn_shop: Gunicorn, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("checkout clicked 10 times at once, Stripe slow",
                   "10 simultaneous POST /checkout from one browser to gunicorn with "
                   f"{GUNICORN_WORKERS} worker processes; Stripe takes 1 s to make the session")
    browser = requests.Session()
    match = CSRF.search(browser.get(f"{gunicorn_shop.url}/").text)
    assert match
    token = match.group(1)
    browser.post(f"{gunicorn_shop.url}/cart/add", data={
        "variant": "unit-ten-pack", "quantity": "1", "note": "", "csrf_token": token})
    stripe_stand_in.fault(method="POST", path_prefix=SESSIONS, delay=1.0, status=0)

    def click() -> requests.Response:
        return browser.post(f"{gunicorn_shop.url}/checkout", allow_redirects=False, timeout=30,
                            data={"email": "donor@example.org", "name": "",
                                  "csrf_token": token})

    answers = all_at_once([click] * 10)
    run.sent = 10
    stripe_stand_in.pay(sessions_of(stripe_stand_in, app)[0])
    wait_for(lambda: all_delivered(stripe_stand_in))
    run.sent += deliveries(stripe_stand_in)
    wait_for(lambda: len(mailbox.to("@", "receipt")) == 1 and len(partner.requests) == 1,
             timeout=60)

    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        return {
            "every click sent to the same session": all(
                a.status_code == 303 for a in answers)
                and len({a.headers["Location"] for a in answers}) == 1,
            "one Checkout Session at Stripe": len(sessions_of(stripe_stand_in, app)) == 1,
            "order paid": status == "paid",
            "one receipt": seen.receipts == {number: 1},
            "one packing order": seen.packing_orders == {number: 1},
        }

    run.finish(app, stripe_stand_in, mailbox, partner, checks)
