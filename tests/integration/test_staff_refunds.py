"""Managers refund from the order page: Stripe refunds once, the order follows its event."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.extensions import db
from shop.orders.models import Order
from shop.payments.models import RefundRequest
from tests.integration.test_staff import manager, viewer  # noqa: F401  (fixtures)
from tests.support import (
    StripeStandIn,
    buy_and_pay,
    csrf_token,
    post_event,
    stripe_get,
    wait_for,
)

FORM_TOKEN = re.compile(r'name="form_token"[^>]*value="([^"]+)"')


def paid_order(client: FlaskClient, stand_in: StripeStandIn) -> str:
    _, event = buy_and_pay(client, stand_in)
    post_event(client, event)
    return "CP-000001"


def refund_form(staff: FlaskClient, number: str) -> dict[str, str]:
    html = staff.get(f"/staff/orders/{number}").get_data(as_text=True)
    match = FORM_TOKEN.search(html)
    assert match, "no refund form on the order page"
    return {"csrf_token": csrf_token(staff, f"/staff/orders/{number}"),
            "form_token": match.group(1), "reason": "requested_by_customer"}


def stripe_refunds(stand_in: StripeStandIn) -> list[dict]:
    return list(stripe_get(stand_in, "refunds", limit=100)["data"])


def order(app: Flask) -> Order:
    with app.app_context():
        found = db.session.scalars(db.select(Order)).one()
        db.session.expunge(found)
        return found


def test_a_partial_refund_goes_to_stripe_once_and_the_event_moves_the_order(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    number = paid_order(client, stripe_stand_in)
    form = refund_form(manager, number) | {"amount": "90.00"}
    first = manager.post(f"/staff/orders/{number}/refund", data=form)
    second = manager.post(f"/staff/orders/{number}/refund", data=form)  # a double click
    assert first.status_code == second.status_code == 303
    [refund] = stripe_refunds(stripe_stand_in)
    assert refund["amount"] == 9000 and refund["metadata"]["order_id"] == "1"
    assert order(app).status == "paid"
    page = manager.get(f"/staff/orders/{number}").get_data(as_text=True)
    assert "Stripe accepted the refund of $90.00" in page

    post_event(client, stripe_stand_in.events("charge.refunded")[-1])
    assert (order(app).status, order(app).refunded_cents) == ("partially_refunded", 9000)
    assert "Up to $500.00 can be refunded" in manager.get(
        f"/staff/orders/{number}").get_data(as_text=True)


def test_a_refund_larger_than_what_is_left_is_refused_before_stripe(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    number = paid_order(client, stripe_stand_in)
    response = manager.post(f"/staff/orders/{number}/refund",
                            data=refund_form(manager, number) | {"amount": "590.01"},
                            follow_redirects=True)
    assert "At most $590.00 can still be refunded" in response.get_data(as_text=True)
    assert stripe_refunds(stripe_stand_in) == []
    bad = manager.post(f"/staff/orders/{number}/refund",
                       data=refund_form(manager, number) | {"amount": "-3"},
                       follow_redirects=True)
    assert "cannot be negative" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(db.select(RefundRequest)).all() == []


def test_a_full_refund_when_stripe_fails_refunds_nothing_and_can_be_tried_again(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    number = paid_order(client, stripe_stand_in)
    stripe_stand_in.fault(method="POST", path_prefix="/v1/refunds", status=500)
    failed = manager.post(f"/staff/orders/{number}/refund", data=refund_form(manager, number),
                          follow_redirects=True)
    assert "nothing was refunded" in failed.get_data(as_text=True)
    assert stripe_refunds(stripe_stand_in) == []
    manager.post(f"/staff/orders/{number}/refund", data=refund_form(manager, number))
    [refund] = stripe_refunds(stripe_stand_in)
    assert refund["amount"] == 59000
    post_event(client, stripe_stand_in.events("charge.refunded")[-1])
    assert order(app).status == "refunded"


def test_a_viewer_cannot_refund(
    app: Flask, client: FlaskClient, viewer: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    number = paid_order(client, stripe_stand_in)
    assert 'data-testid="staff-refund-form"' not in viewer.get(
        f"/staff/orders/{number}").get_data(as_text=True)
    response = viewer.post(f"/staff/orders/{number}/refund", data={
        "csrf_token": csrf_token(viewer, f"/staff/orders/{number}"), "form_token": "x"})
    assert response.status_code == 403
    assert stripe_refunds(stripe_stand_in) == []


def test_an_order_under_review_is_approved_and_then_ships_its_packing_order(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, partner: object,
) -> None:
    _, event = buy_and_pay(client, stripe_stand_in)
    event["data"]["object"]["amount_total"] = 100
    post_event(client, event)
    assert order(app).status == "needs_review"
    token = csrf_token(manager, "/staff/orders/CP-000001")
    manager.post("/staff/orders/CP-000001/approve", data={"csrf_token": token})
    assert order(app).status == "paid"
    assert len(partner.accepted) == 1  # type: ignore[attr-defined]


@pytest.mark.shop_config({"STRIPE_TIMEOUT": 0.5})
def test_a_refund_stripe_never_answered_is_asked_again_with_the_same_key(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    number = paid_order(client, stripe_stand_in)
    stripe_stand_in.fault(method="POST", path_prefix="/v1/refunds", delay=1.5, status=0)
    slow = manager.post(f"/staff/orders/{number}/refund",
                        data=refund_form(manager, number) | {"amount": "100.00"},
                        follow_redirects=True)
    assert "may have been made" in slow.get_data(as_text=True)
    wait_for(lambda: len(stripe_refunds(stripe_stand_in)) == 1)  # Stripe did refund
    # A fresh form, even for another amount, asks Stripe again for the unanswered refund.
    again = manager.post(f"/staff/orders/{number}/refund",
                         data=refund_form(manager, number) | {"amount": "50.00"},
                         follow_redirects=True)
    assert "Refund of $100.00 sent to Stripe" in again.get_data(as_text=True)
    [refund] = stripe_refunds(stripe_stand_in)
    assert refund["amount"] == 10000
