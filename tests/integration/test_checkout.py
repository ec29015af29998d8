"""POST /checkout: one pending order, one Checkout Session, and a kept cart when Stripe fails."""

from __future__ import annotations

import threading

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from shop.extensions import db
from shop.orders.models import Order
from tests.conftest import LiveShop
from tests.support import (
    CSRF,
    StripeStandIn,
    add_to_cart,
    checkout,
    donate,
    session_id_from,
    wait_for,
)


def orders(app: Flask) -> list[Order]:
    with app.app_context():
        return list(db.session.scalars(db.select(Order).order_by(Order.id)))


def test_checkout_makes_a_pending_order_and_sends_the_donor_to_stripe(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    add_to_cart(client, "unit-ten-pack", 1, "Stay warm 🧤")
    donate(client, "25")
    response = checkout(client, email="donor@example.org", name="Dana Donor")
    assert response.status_code == 303
    assert response.location.startswith(stripe_stand_in.url + "/c/pay/cs_test_")

    [order] = orders(app)
    assert (order.status, order.kind, order.total_cents, order.packages) == (
        "pending", "mixed", 61500, 10
    )
    assert order.email == "donor@example.org" and order.name == "Dana Donor"
    assert len(order.token) >= 22 and order.token != str(order.id)
    with app.app_context():
        order = db.session.get(Order, order.id)  # type: ignore[assignment]
        assert [(line.name, line.unit_price_cents, line.quantity, line.note)
                for line in order.lines] == [
            ("Unit ten-pack", 59000, 1, "Stay warm 🧤"), ("Donation", 2500, 1, "")
        ]

    [session] = stripe_stand_in.sessions()
    assert session["id"] == session_id_from(response.location) == order.stripe_session_id
    assert session["amount_total"] == 61500 and session["currency"] == "usd"
    assert session["client_reference_id"] == str(order.id)
    assert session["metadata"]["order_id"] == str(order.id)
    assert session["success_url"] == (
        f"http://shop.test/orders/{order.token}?session_id={{CHECKOUT_SESSION_ID}}"
    )
    assert session["cancel_url"] == "http://shop.test/cart?checkout=cancelled"
    assert session["customer_email"] == "donor@example.org"
    assert session["submit_type"] == "pay"


def test_payment_intent_carries_the_order_id(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    add_to_cart(client, "single-package")
    session_id = session_id_from(checkout(client).location)
    paid = stripe_stand_in.pay(session_id)
    pi = requests.get(
        f"{stripe_stand_in.url}/v1/payment_intents/{paid['payment_intent']}",
        headers={"Authorization": "Bearer sk_test_suite"}, timeout=10,
    ).json()
    assert pi["metadata"]["order_id"] == str(orders(app)[0].id)


def test_a_donation_only_checkout_says_donate(client: FlaskClient,
                                               stripe_stand_in: StripeStandIn) -> None:
    donate(client, "36")
    assert checkout(client).status_code == 303
    [session] = stripe_stand_in.sessions()
    assert session["submit_type"] == "donate"


def test_a_double_click_reuses_the_order_and_the_session(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    add_to_cart(client, "unit-ten-pack")
    first = checkout(client)
    second = checkout(client)
    assert first.location == second.location
    assert len(orders(app)) == 1
    assert len(stripe_stand_in.sessions()) == 1


def test_changing_the_cart_after_checkout_starts_a_new_order(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    add_to_cart(client, "unit-ten-pack")
    first = checkout(client)
    add_to_cart(client, "single-package")
    second = checkout(client)
    assert first.location != second.location
    assert [o.total_cents for o in orders(app)] == [59000, 65500]


def test_simultaneous_clicks_create_one_session(
    app: Flask, live_shop: LiveShop, stripe_stand_in: StripeStandIn
) -> None:
    browser = requests.Session()
    page = browser.get(f"{live_shop.url}/").text
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    browser.post(f"{live_shop.url}/cart/add", data={
        "variant": "unit-ten-pack", "quantity": "1", "note": "", "csrf_token": token})
    locations: list[str] = []

    def click() -> None:
        response = browser.post(
            f"{live_shop.url}/checkout",
            data={"email": "donor@example.org", "name": "", "csrf_token": token},
            allow_redirects=False, timeout=30,
        )
        locations.append(f"{response.status_code} {response.headers.get('Location')}")

    threads = [threading.Thread(target=click) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(locations)) == 1 and locations[0].startswith("303 ")
    assert len(orders(app)) == 1
    assert len(stripe_stand_in.sessions()) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"email": "not-an-email"}, "valid email"), ({"email": ""}, "email address"),
     ({"price": "1"}, "Prices come from the shop")],
)
def test_bad_checkout_is_refused_and_stripe_is_not_called(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
    fields: dict[str, str], message: str,
) -> None:
    add_to_cart(client, "single-package")
    response = checkout(client, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert orders(app) == []
    assert stripe_stand_in.sessions() == []


def test_an_empty_cart_cannot_check_out(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    response = checkout(client)
    assert response.status_code == 422
    assert "Your cart is empty" in response.get_data(as_text=True)
    assert orders(app) == [] and stripe_stand_in.sessions() == []


def test_stripe_failing_keeps_the_cart_and_a_retry_succeeds(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    add_to_cart(client, "unit-ten-pack", 1, "Keep going")
    stripe_stand_in.fault(method="POST", path_prefix="/v1/checkout/sessions", status=500)
    response = checkout(client)
    assert response.status_code == 503
    assert "payment service is unavailable" in response.get_data(as_text=True)
    assert "cart is kept" in response.get_data(as_text=True)
    [order] = orders(app)
    assert order.status == "pending" and order.stripe_session_id is None
    assert 'data-testid="cart-line"' in client.get("/cart").get_data(as_text=True)

    retry = checkout(client)
    assert retry.status_code == 303
    [order] = orders(app)
    assert order.stripe_session_id == session_id_from(retry.location)
    assert len(stripe_stand_in.sessions()) == 1


@pytest.mark.shop_config({"STRIPE_TIMEOUT": 0.5})
def test_stripe_timing_out_shows_the_friendly_page(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    add_to_cart(client, "single-package")
    stripe_stand_in.fault(method="POST", path_prefix="/v1/checkout/sessions", delay=2.0,
                          status=0)
    response = checkout(client)
    assert response.status_code == 503
    assert "cart is kept" in response.get_data(as_text=True)
    [order] = orders(app)
    assert order.status == "pending"
    # Stripe finishes the slow request after the shop gave up. Without an answer the shop
    # keeps the idempotency key, so the donor's retry gets that very session, not a second.
    wait_for(lambda: len(stripe_stand_in.sessions()) == 1)
    retry = checkout(client)
    assert retry.status_code == 303
    assert len(stripe_stand_in.sessions()) == 1
    assert orders(app)[0].stripe_session_id == session_id_from(retry.location)
