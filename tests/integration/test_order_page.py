"""The donor's order page and its JSON twin tell the truth: where the receipt went, each
gift's dedication, a note waiting or left out, and a bank payment that takes days."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from shop.extensions import db
from shop.orders.models import Order
from shop.text import mask_email
from tests.support import (
    StripeStandIn,
    add_to_cart,
    buy_and_pay,
    checkout,
    csrf_token,
    post_event,
    session_id_from,
)


def token_of_last_order(app: Flask) -> str:
    with app.app_context():
        order: Order | None = db.session.scalars(
            db.select(Order).order_by(Order.id.desc())).first()
        assert order is not None
        return order.token


def test_masked_addresses_keep_the_first_letter_and_the_domain() -> None:
    assert mask_email("dana@example.org") == "d***@example.org"
    assert mask_email("d@example.org") == "d***@example.org"
    assert mask_email("weird@name@example.org") == "w***@example.org"
    assert mask_email("") == "***" and mask_email("no-at-sign") == "***"


def test_the_page_and_the_api_say_where_the_receipt_went_and_each_gifts_dedication(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    client.post("/donate", data={"amount": "36", "dedication_type": "memory",
                                 "dedication_name": "Grandpa Joe",
                                 "csrf_token": csrf_token(client, "/donate")})
    token, event = buy_and_pay(client, stripe_stand_in, variant="single-package",
                               email="dana.rivera@example.org")
    post_event(client, event)

    api = client.get(f"/api/orders/{token}").get_json()
    assert api["receipt_email"] == "d***@example.org"
    dedications = {line["name"]: line["dedication"] for line in api["lines"]}
    assert dedications.pop("Donation") == {"type": "memory", "name": "Grandpa Joe"}
    assert list(dedications.values()) == [None]
    assert "dana.rivera" not in str(api)

    html = client.get(f"/orders/{token}").get_data(as_text=True)
    assert "dana.rivera" not in html
    receipt = re.search(r'data-testid="order-receipt" data-receipt-status="done">\s*(.*?)\s*</p>',
                        html, re.S)
    assert receipt and receipt.group(1) == "Your receipt was emailed to d***@example.org."
    lines = html.split('data-testid="order-line"')[1:]
    assert [("In memory of Grandpa Joe" in line, "Donation" in line) for line in lines] in (
        [(True, True), (False, False)], [(False, False), (True, True)])
    assert "http-equiv" not in html


def test_a_bank_payment_says_it_takes_days_and_the_page_stops_reloading(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    add_to_cart(client, "single-package")
    session_id = session_id_from(checkout(client, email="bank@example.org").location)
    stripe_stand_in.pay(session_id, outcome="delayed")
    post_event(client, stripe_stand_in.event("checkout.session.completed"))
    html = client.get(f"/orders/{token_of_last_order(app)}").get_data(as_text=True)
    assert 'data-status="awaiting_payment"' in html
    assert "a few business days" in html and "b***@example.org" in html
    assert "http-equiv" not in html


def test_a_pending_order_reloads_only_while_stripes_answer_can_still_come(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    add_to_cart(client, "single-package")
    checkout(client)
    token = token_of_last_order(app)
    assert 'http-equiv="refresh" content="3"' in client.get(f"/orders/{token}").get_data(
        as_text=True)
    with app.app_context():
        order = db.session.scalars(db.select(Order)).one()
        order.created_at = order.created_at - timedelta(hours=3)
        db.session.commit()
    html = client.get(f"/orders/{token}").get_data(as_text=True)
    assert "http-equiv" not in html
    assert "nothing was charged" in html


def test_a_note_waiting_for_review_is_said_to_wait(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    app.config["NOTE_REVIEW_TERMS"] = "hospital"
    token, event = buy_and_pay(client, stripe_stand_in, variant="single-package",
                               note="Get well, everyone at the hospital")
    post_event(client, event)
    html = client.get(f"/orders/{token}").get_data(as_text=True)
    assert 'data-testid="order-note-waiting"' in html
    assert "ships once your note has been read" in html
