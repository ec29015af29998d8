"""Card testers meet limits on new payment pages; names carry no one's links or numbers."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.checkout.abuse import REFUSED_MESSAGE
from shop.extensions import db
from shop.orders.models import Order
from tests.servers import SmtpSink, text_of
from tests.support import StripeStandIn, add_to_cart, checkout, csrf_token

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

GENEROUS = "1000 per minute"


def limits(address: str = GENEROUS, email: str = GENEROUS,
           shop: str = GENEROUS) -> pytest.MarkDecorator:
    return pytest.mark.shop_config({
        "RATELIMIT_ENABLED": True, "CHECKOUT_LIMIT_PER_ADDRESS": address,
        "CHECKOUT_LIMIT_PER_EMAIL": email, "CHECKOUT_LIMIT_GLOBAL": shop,
        "STAFF_ALERT_EMAIL": "alerts@charity.test",
    })


def from_address(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def cart_checkout(client: FlaskClient, email: str) -> Any:
    add_to_cart(client, "single-package")
    return checkout(client, email=email)


def give(client: FlaskClient, email: str, amount: str = "18", **extra: str) -> Any:
    return client.post("/donate", data={"amount": amount, "email": email,
                                        "csrf_token": csrf_token(client, "/donate")} | extra)


@limits(address="2 per minute")
def test_one_address_opens_only_so_many_payment_pages(
    app: Flask, stripe_stand_in: StripeStandIn,
) -> None:
    tester = from_address(app, "203.0.113.7")
    assert cart_checkout(tester, "a@example.org").status_code == 303
    assert give(tester, "b@example.org").status_code == 303
    # Going back to a payment page already open is no new attempt.
    assert checkout(tester, email="a@example.org").status_code == 303
    refused = cart_checkout(tester, "c@example.org")
    assert refused.status_code == 429
    assert REFUSED_MESSAGE in refused.get_data(as_text=True)
    assert give(tester, "d@example.org").status_code == 429
    assert give(tester, "e@example.org", frequency="monthly").status_code == 429
    assert len(stripe_stand_in.sessions()) == 2
    # A donor elsewhere is not held up by the tester.
    assert cart_checkout(from_address(app, "198.51.100.20"), "f@example.org").status_code == 303


@limits(email="2 per minute")
def test_one_email_opens_only_so_many_payment_pages_from_any_address(
    app: Flask, stripe_stand_in: StripeStandIn,
) -> None:
    answers = [give(from_address(app, f"203.0.113.{n}"), "Tester@Example.org", amount)
               .status_code for n, amount in ((1, "18"), (2, "36"), (3, "100"))]
    assert answers == [303, 303, 429]
    assert give(from_address(app, "203.0.113.4"), "tester@example.org ", "180",
                frequency="monthly").status_code == 429
    assert len(stripe_stand_in.sessions()) == 2


@limits(shop="3 per minute")
def test_the_whole_shops_ceiling_refuses_and_alerts_staff_once(
    app: Flask, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    answers = [cart_checkout(from_address(app, f"198.51.100.{n}"), f"d{n}@example.org")
               .status_code for n in range(1, 6)]
    assert answers == [303, 303, 303, 429, 429]
    [alert] = mailbox.to("alerts@charity.test")
    assert "checkout limit was reached" in alert["Subject"]
    assert "3 per 1 minute" in text_of(alert)
    assert len(stripe_stand_in.sessions()) == 3


@pytest.mark.parametrize(("field", "typed"), [
    ("dedication_name", "Grandma, see evil.example.com"),
    ("dedication_name", "Call +1 (555) 010-2233"),
    ("name", "\uff37\uff57\uff57\uff0e\uff57\uff49\uff4e\uff0e\uff43\uff4f\uff4d"),  # full-width
    ("name", "write to prize@example.org"),
])
def test_names_with_links_emails_or_phone_numbers_are_refused(
    app: Flask, client: FlaskClient, field: str, typed: str,
) -> None:
    response = give(client, "donor@example.org", dedication_type="honor",
                    **({"dedication_name": "Grandpa Joe"} | {field: typed}))
    assert response.status_code == 422
    assert "Names cannot include links, email addresses or phone numbers" in \
        response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(db.select(Order)).first() is None


def test_a_donor_name_at_checkout_is_screened_too(app: Flask, client: FlaskClient) -> None:
    add_to_cart(client, "single-package")
    response = checkout(client, email="donor@example.org", name="Sam www.example.net")
    assert response.status_code == 422
    assert "Names cannot include links" in response.get_data(as_text=True)
    assert checkout(client, email="donor@example.org", name="Sam O'Neil").status_code == 303
