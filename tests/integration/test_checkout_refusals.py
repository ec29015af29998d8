"""Checkouts Stripe can never take are refused with what to change, not as an outage."""

from __future__ import annotations

import html

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.cart.models import Cart, CartLine
from shop.catalog.models import Bundle
from shop.extensions import db
from shop.orders.models import Order
from tests.support import StripeStandIn, add_to_cart, checkout, csrf_token

TOO_LARGE = ("This order is over the $999,999.99 a single card payment can be; please split "
             "it into smaller orders.")


def orders_made(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        return [(o.status, o.number or "") for o in db.session.scalars(db.select(Order))]


def text_of(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


@pytest.mark.shop_config({"CART_MAX_QUANTITY": 2000})
def test_a_cart_over_the_card_limit_is_refused_before_stripe_is_asked(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    assert add_to_cart(client, "unit-ten-pack", 1700).status_code == 302  # $1,003,000.00
    response = checkout(client)
    assert response.status_code == 422
    page = text_of(response)
    assert TOO_LARGE in page and "unavailable" not in page
    assert orders_made(app) == [] and stripe_stand_in.sessions() == []


def test_a_cart_with_more_lines_than_stripe_takes_is_refused_before_stripe_is_asked(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    add_to_cart(client, "single-package")
    with app.app_context():  # 100 more lines, each with a note of its own
        cart = db.session.scalars(db.select(Cart)).one()
        bundle = db.session.scalars(db.select(Bundle).where(
            Bundle.slug == "single-package")).one()
        for n in range(100):
            cart.lines.append(CartLine(kind="package", bundle=bundle, quantity=1,
                                       note=f"Stay warm, number {n}",
                                       price_seen_cents=bundle.price_cents))
        db.session.commit()
    response = checkout(client)
    assert response.status_code == 422
    assert ("This order has 101 separate lines and a single card payment can hold at most "
            "100; please split it into smaller orders.") in text_of(response)
    assert orders_made(app) == [] and stripe_stand_in.sessions() == []


@pytest.mark.parametrize(("code", "param", "message"), [
    ("amount_too_large", "line_items", TOO_LARGE),
    ("parameter_invalid_integer", "line_items[0][quantity]",
     "Stripe refused this order as it stands, so nothing was charged."),
])
def test_a_permanent_refusal_by_stripe_tells_the_donor_what_to_change(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, code: str, param: str,
    message: str,
) -> None:
    stripe_stand_in.fault(method="POST", path_prefix="/v1/checkout/sessions", status=400,
                          error_type="invalid_request_error", code=code, param=param,
                          message="Refused by Stripe")
    add_to_cart(client, "unit-ten-pack")
    response = checkout(client)
    assert response.status_code == 422
    page = text_of(response)
    assert message in page and "try again in a few minutes" not in page
    assert 'data-testid="cart-line"' in page  # the cart is kept
    assert [status for status, _ in orders_made(app)] == ["failed"]  # closed, not half-made
    assert stripe_stand_in.sessions() == []
    # The same cart, once Stripe takes it, is a new order that goes to Checkout.
    assert checkout(client).status_code == 303
    assert len(orders_made(app)) == 2


def test_a_gift_stripe_refuses_shows_the_form_again_with_what_to_change(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    stripe_stand_in.fault(method="POST", path_prefix="/v1/checkout/sessions", status=400,
                          error_type="invalid_request_error", code="amount_too_large",
                          param="line_items")
    response = client.post("/donate", data={
        "amount": "250", "frequency": "once", "email": "giver@example.org", "name": "G",
        "csrf_token": csrf_token(client, "/donate")})
    assert response.status_code == 422
    assert TOO_LARGE in text_of(response)
    assert orders_made(app)[0][0] == "failed"
