"""POST /stripe/webhook: verified, recorded once, and moving the order as Stripe reports."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.extensions import db
from shop.orders.models import Order, OrderEvent
from shop.payments.models import StripeEvent
from tests.conftest import LiveShop
from tests.support import (
    StripeStandIn,
    add_to_cart,
    checkout,
    post_event,
    session_id_from,
    sign,
    wait_for,
)


def place_order(client: FlaskClient, variant: str = "unit-ten-pack") -> str:
    add_to_cart(client, variant, 1, "For the unit ❄️")
    return session_id_from(checkout(client).location)


def the_order(app: Flask) -> Order:
    with app.app_context():
        order: Order = db.session.scalars(db.select(Order)).one()
        db.session.expunge(order)
        return order


def status_events(app: Flask) -> list[tuple[str | None, str | None]]:
    with app.app_context():
        return [
            (e.from_status, e.to_status)
            for e in db.session.scalars(
                db.select(OrderEvent).where(OrderEvent.kind == "status").order_by(OrderEvent.id)
            )
        ]


def stored_events(app: Flask) -> list[StripeEvent]:
    with app.app_context():
        return list(db.session.scalars(db.select(StripeEvent)))


def test_completed_and_paid_marks_the_order_paid_once(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    session_id = place_order(client)
    stripe_stand_in.pay(session_id)
    event = stripe_stand_in.event("checkout.session.completed")
    first = post_event(client, event)
    assert first.status_code == 200 and first.get_json()["outcome"] == "processed"
    order = the_order(app)
    assert order.status == "paid" and order.paid_at is not None
    assert order.stripe_payment_intent_id and order.stripe_payment_intent_id.startswith("pi_")
    api = client.get(f"/api/orders/{order.token}").get_json()
    assert api["status"] == "paid" and api["total_cents"] == 59000 and api["packages"] == 10
    assert api["lines"] == [{"name": "Unit ten-pack", "quantity": 1, "packages": 10,
                             "price_cents": 59000, "note": "For the unit ❄️",
                             "dedication": None}]

    again = post_event(client, event)
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    assert status_events(app) == [("pending", "paid")]
    assert len(stored_events(app)) == 1
    assert 'data-testid="cart-empty"' in client.get("/cart").get_data(as_text=True)


def test_events_the_shop_does_not_use_are_acknowledged(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    session_id = place_order(client)
    stripe_stand_in.pay(session_id)
    charge_event = stripe_stand_in.event("charge.succeeded")
    response = post_event(client, charge_event)
    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored"
    assert the_order(app).status == "pending"


def test_delayed_payment_waits_then_succeeds(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    session_id = place_order(client)
    stripe_stand_in.pay(session_id, outcome="delayed")
    post_event(client, stripe_stand_in.event("checkout.session.completed"))
    assert the_order(app).status == "awaiting_payment"
    stripe_stand_in.settle(session_id, "succeeded")
    post_event(client, stripe_stand_in.event("checkout.session.async_payment_succeeded"))
    assert the_order(app).status == "paid"
    assert status_events(app) == [("pending", "awaiting_payment"), ("awaiting_payment", "paid")]


def test_delayed_payment_that_fails_marks_the_order_failed(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    session_id = place_order(client)
    stripe_stand_in.pay(session_id, outcome="delayed")
    post_event(client, stripe_stand_in.event("checkout.session.completed"))
    stripe_stand_in.settle(session_id, "failed")
    post_event(client, stripe_stand_in.event("checkout.session.async_payment_failed"))
    order = the_order(app)
    assert order.status == "failed"
    html = client.get(f"/orders/{order.token}").get_data(as_text=True)
    assert "Payment failed" in html


def test_an_expired_session_expires_the_order(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    session_id = place_order(client)
    stripe_stand_in.expire(session_id)
    post_event(client, stripe_stand_in.event("checkout.session.expired"))
    assert the_order(app).status == "expired"


def test_a_wrong_amount_holds_the_order_for_staff(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    session_id = place_order(client)
    stripe_stand_in.pay(session_id)
    event = stripe_stand_in.event("checkout.session.completed")
    event["id"] = "evt_tampered_amount"
    event["data"]["object"]["amount_total"] = 100
    assert post_event(client, event).status_code == 200
    order = the_order(app)
    assert order.status == "needs_review"
    assert order.review_reason and "$1.00" in order.review_reason


def test_a_late_completed_event_never_reopens_a_closed_order(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    session_id = place_order(client)
    stripe_stand_in.pay(session_id)
    completed = stripe_stand_in.event("checkout.session.completed")
    post_event(client, completed)
    expired = dict(completed, id="evt_out_of_order", type="checkout.session.expired")
    expired["data"] = {"object": dict(completed["data"]["object"], status="expired")}
    assert post_event(client, expired).status_code == 200
    assert the_order(app).status == "paid"
    with app.app_context():
        refused = db.session.scalars(
            db.select(OrderEvent).where(OrderEvent.kind == "refused")
        ).all()
        assert len(refused) == 1 and "paid -> expired" in refused[0].message


def _raw(client: FlaskClient, body: bytes, signature: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client.post("/stripe/webhook", data=body, headers=headers)


@pytest.mark.parametrize("case", ["missing", "wrong_secret", "stale", "garbage", "tampered"])
def test_unverified_webhooks_are_refused_and_nothing_is_recorded(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, case: str
) -> None:
    session_id = place_order(client)
    stripe_stand_in.pay(session_id)
    event = stripe_stand_in.event("checkout.session.completed")
    event.pop("_emulator", None)
    body = json.dumps(event).encode()
    signature = {
        "missing": None,
        "wrong_secret": sign(body, secret="whsec_someone_else"),
        "stale": sign(body, timestamp=int(time.time()) - 301),
        "garbage": "this is not a signature",
        "tampered": sign(body),
    }[case]
    if case == "tampered":
        body = body.replace(b'"paid"', b'"unpaid"', 1)
    response = _raw(client, body, signature)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert stored_events(app) == []
    assert the_order(app).status == "pending"


def test_malformed_json_with_a_valid_signature_is_refused(app: Flask, client: FlaskClient) -> None:
    body = b'{"id": "evt_1", "type": "checkout.session.completed", '
    response = _raw(client, body, sign(body))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_event"
    assert stored_events(app) == []


def test_an_event_for_an_unknown_order_is_kept_and_answered_400(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    session_id = place_order(client)
    stripe_stand_in.pay(session_id)
    event = stripe_stand_in.event("checkout.session.completed")
    event["data"]["object"]["metadata"] = {"order_id": "99999", "order_number": "CP-099999"}
    event["data"]["object"]["client_reference_id"] = "99999"
    response = post_event(client, event)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "unknown_order"
    assert the_order(app).status == "pending"
    [row] = stored_events(app)
    assert row.status == "unmatched" and row.processed_at is None


def test_returning_from_checkout_before_the_webhook_shows_paid(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    session_id = place_order(client)
    stripe_stand_in.pay(session_id)
    token = the_order(app).token
    pending_page = client.get(f"/orders/{token}")
    assert 'data-testid="order-waiting"' in pending_page.get_data(as_text=True)
    assert 'http-equiv="refresh"' in pending_page.get_data(as_text=True)

    page = client.get(f"/orders/{token}?session_id={session_id}").get_data(as_text=True)
    assert 'data-status="paid"' in page and ">Paid<" in page
    # The webhook arriving afterwards changes nothing more.
    post_event(client, stripe_stand_in.event("checkout.session.completed"))
    assert status_events(app) == [("pending", "paid")]


def test_a_session_id_of_another_order_is_not_applied(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    first = place_order(client)
    stripe_stand_in.pay(first)
    other = app.test_client()
    add_to_cart(other, "single-package")
    checkout(other)
    with app.app_context():
        second = db.session.scalars(db.select(Order).order_by(Order.id.desc())).first()
        assert second is not None
        token = second.token
    page = client.get(f"/orders/{token}?session_id={first}").get_data(as_text=True)
    assert 'data-status="pending"' in page


def test_the_order_page_is_reached_by_token_only(app: Flask, client: FlaskClient) -> None:
    place_order(client)
    order = the_order(app)
    assert client.get(f"/orders/{order.id}").status_code == 404
    assert client.get(f"/orders/{order.number}").status_code == 404
    assert client.get(f"/orders/{order.token}").status_code == 200


def test_stripe_delivers_over_http_and_the_order_becomes_paid(
    app: Flask, client: FlaskClient, live_shop: LiveShop, stripe_stand_in: StripeStandIn
) -> None:
    session_id = place_order(client)
    stripe_stand_in.pay(session_id)
    token = the_order(app).token
    wait_for(lambda: client.get(f"/api/orders/{token}").get_json()["status"] == "paid")
    completed = wait_for(lambda: [
        e for e in stripe_stand_in.events("checkout.session.completed")
        if e["_emulator"]["delivered"]
    ])
    assert completed[0]["_emulator"]["attempts"][-1]["status"] == 200
