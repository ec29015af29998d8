"""Managers refund from the order page: a review first, Stripe refunds once, the order
follows Stripe's event, and two staff refunding at once are told about each other."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop.extensions import db
from shop.orders.models import Order
from shop.payments.models import RefundRequest
from tests.integration.test_staff import (  # noqa: F401  (fixtures)
    manager,
    staff_client,
    viewer,
)
from tests.support import (
    StripeStandIn,
    buy_and_pay,
    csrf_token,
    post_event,
    stripe_get,
    wait_for,
)

HIDDEN = re.compile(
    r'<input[^>]*name="(form_token|seen|confirm|amount|reason)"[^>]*value="([^"]*)"')


def paid_order(client: FlaskClient, stand_in: StripeStandIn) -> str:
    _, event = buy_and_pay(client, stand_in)
    post_event(client, event)
    return "CP-000001"


def review(staff: FlaskClient, number: str, amount: str,
           reason: str = "requested_by_customer") -> Any:
    """The first post: the review page (or the order page with an error)."""
    return staff.post(f"/staff/orders/{number}/refund", data={
        "csrf_token": csrf_token(staff, f"/staff/orders/{number}"),
        "amount": amount, "reason": reason})


def confirm_form(page: str) -> dict[str, str]:
    """What the review page's "Refund now" button sends."""
    fields = dict(HIDDEN.findall(page))
    assert fields.get("confirm") == "yes", "no confirm button on the review page"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    return fields | {"csrf_token": token.group(1)}


def refund(staff: FlaskClient, number: str, amount: str) -> Any:
    """Review, then confirm, as a manager clicking through would."""
    page = review(staff, number, amount)
    assert page.status_code == 200, page.get_data(as_text=True)
    return staff.post(f"/staff/orders/{number}/refund",
                      data=confirm_form(page.get_data(as_text=True)))


def stripe_refunds(stand_in: StripeStandIn) -> list[dict[str, Any]]:
    return list(stripe_get(stand_in, "refunds", limit=100)["data"])


def order(app: Flask) -> Order:
    with app.app_context():
        found: Order = db.session.scalars(db.select(Order)).one()
        db.session.expunge(found)
        return found


def requests_made(app: Flask) -> list[RefundRequest]:
    with app.app_context():
        return list(db.session.scalars(db.select(RefundRequest)))


def test_a_refund_shows_its_review_and_only_the_confirmation_reaches_stripe(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    number = paid_order(client, stripe_stand_in)
    page = review(manager, number, "90.00", "duplicate")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="staff-refund-review"' in html
    summary = " ".join(re.sub(r"<[^>]+>", "", html).split())
    assert ("Refund $90.00 of $590.00 to d***@example.org for order CP-000001? "
            "Reason: duplicate payment.") in summary
    assert 'class="danger"' in html
    assert stripe_refunds(stripe_stand_in) == [] and requests_made(app) == []

    form = confirm_form(html)
    first = manager.post(f"/staff/orders/{number}/refund", data=form)
    second = manager.post(f"/staff/orders/{number}/refund", data=form)  # a double click
    assert first.status_code == second.status_code == 303
    [made] = stripe_refunds(stripe_stand_in)
    assert made["amount"] == 9000 and made["reason"] == "duplicate"
    assert order(app).status == "paid"
    page_after = manager.get(f"/staff/orders/{number}").get_data(as_text=True)
    assert "Stripe accepted the refund of $90.00" in page_after
    assert 'data-testid="staff-timeline-audit" data-action="order.refund"' in page_after

    post_event(client, stripe_stand_in.events("charge.refunded")[-1])
    assert (order(app).status, order(app).refunded_cents) == ("partially_refunded", 9000)
    assert "Up to $500.00 can be refunded" in manager.get(
        f"/staff/orders/{number}").get_data(as_text=True)


def test_confirm_yes_with_the_amount_acts_and_without_it_nothing_is_refunded(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    number = paid_order(client, stripe_stand_in)
    token = csrf_token(manager, f"/staff/orders/{number}")
    data = {"csrf_token": token, "amount": "80.08", "reason": "requested_by_customer"}
    assert manager.post(f"/staff/orders/{number}/refund", data=data).status_code == 200
    assert manager.post(f"/staff/orders/{number}/refund",
                        data=data | {"confirm": "no"}).status_code == 200
    assert stripe_refunds(stripe_stand_in) == []
    acted = manager.post(f"/staff/orders/{number}/refund", data=data | {"confirm": "yes"})
    assert acted.status_code == 303
    [made] = stripe_refunds(stripe_stand_in)
    assert made["amount"] == 8008


@pytest.mark.parametrize(("amount", "message"), [
    ("", "Please enter the amount to refund"),
    ("0", "must be more than zero"),
    ("0.00", "must be more than zero"),
    ("-3", "cannot be negative"),
    ("590.01", "At most $590.00 can still be refunded"),
    ("10.001", "at most 2 decimal places"),
    ("ten", "as a number"),
    ("1e3", "as a number"),
])
def test_bad_refund_amounts_are_refused_before_stripe(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, amount: str, message: str,
) -> None:
    number = paid_order(client, stripe_stand_in)
    token = csrf_token(manager, f"/staff/orders/{number}")
    for confirm in ("", "yes"):
        response = manager.post(f"/staff/orders/{number}/refund", data={
            "csrf_token": token, "amount": amount, "reason": "requested_by_customer",
            "confirm": confirm})
        assert response.status_code == 400, (amount, confirm)
        assert message in response.get_data(as_text=True), (amount, confirm)
    bad_reason = manager.post(f"/staff/orders/{number}/refund", data={
        "csrf_token": token, "amount": "5", "reason": "because", "confirm": "yes"})
    assert bad_reason.status_code == 400
    assert stripe_refunds(stripe_stand_in) == [] and requests_made(app) == []


def test_a_refund_made_by_someone_else_during_the_review_is_reported_not_doubled(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner,
    manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    number = paid_order(client, stripe_stand_in)
    other = staff_client(app, runner, "second@charity.example", "manager")
    mine = review(manager, number, "500.00").get_data(as_text=True)
    theirs = review(other, number, "300.00").get_data(as_text=True)
    assert other.post(f"/staff/orders/{number}/refund",
                      data=confirm_form(theirs)).status_code == 303
    response = manager.post(f"/staff/orders/{number}/refund", data=confirm_form(mine),
                            follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "While you were reviewing" in html
    assert "$300.00 asked by second@charity.example" in html
    assert "Nothing was refunded by you" in html and "$290.00 is left to refund" in html
    assert "Refund of $500.00 sent to Stripe" not in html
    [made] = stripe_refunds(stripe_stand_in)
    assert made["amount"] == 30000
    # A new review shows the earlier refund with its amount and who asked for it.
    again = review(manager, number, "290.00").get_data(as_text=True)
    assert 'data-testid="staff-refund-earlier"' in again
    assert "$300.00 asked by second@charity.example" in again


def test_a_full_refund_when_stripe_fails_refunds_nothing_and_can_be_tried_again(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    number = paid_order(client, stripe_stand_in)
    stripe_stand_in.fault(method="POST", path_prefix="/v1/refunds", status=500)
    failed = refund(manager, number, "590.00")
    assert "nothing was refunded" in manager.get(failed.location).get_data(as_text=True)
    assert stripe_refunds(stripe_stand_in) == []
    refund(manager, number, "590.00")
    [made] = stripe_refunds(stripe_stand_in)
    assert made["amount"] == 59000
    post_event(client, stripe_stand_in.events("charge.refunded")[-1])
    assert order(app).status == "refunded"


def test_a_viewer_cannot_refund(
    app: Flask, client: FlaskClient, viewer: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    number = paid_order(client, stripe_stand_in)
    assert 'data-testid="staff-refund-form"' not in viewer.get(
        f"/staff/orders/{number}").get_data(as_text=True)
    token = csrf_token(viewer, f"/staff/orders/{number}")
    for data in ({"amount": "5"}, {"amount": "5", "confirm": "yes"}):
        response = viewer.post(f"/staff/orders/{number}/refund",
                               data=data | {"csrf_token": token,
                                            "reason": "requested_by_customer"})
        assert response.status_code == 403
    assert viewer.post(f"/staff/orders/{number}/refund/1/retry",
                       data={"csrf_token": token}).status_code == 403
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
def test_a_refund_in_flight_is_told_to_the_next_person_and_asked_again_with_its_key(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner,
    manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    number = paid_order(client, stripe_stand_in)
    stripe_stand_in.fault(method="POST", path_prefix="/v1/refunds", delay=1.5, status=0)
    slow = refund(manager, number, "100.00")
    assert "may have been made" in manager.get(slow.location).get_data(as_text=True)
    wait_for(lambda: len(stripe_refunds(stripe_stand_in)) == 1)  # Stripe did refund

    other = staff_client(app, runner, "second@charity.example", "manager")
    page = other.get(f"/staff/orders/{number}").get_data(as_text=True)
    assert 'data-testid="staff-refund-unanswered"' in page
    assert "$100.00 asked by manager@charity.example" in page
    assert 'data-testid="staff-refund-form"' not in page
    refused = review(other, number, "50.00")
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "Another refund of this order is in flight" in text and "$100.00" in text

    retry_path = re.search(r'action="(/staff/orders/[^"]+/retry)"', page)
    assert retry_path
    again = other.post(retry_path.group(1), data={"csrf_token": csrf_token(
        other, f"/staff/orders/{number}")}, follow_redirects=True)
    assert "Refund of $100.00 sent to Stripe" in again.get_data(as_text=True)
    [made] = stripe_refunds(stripe_stand_in)  # the same refund, not a second one
    assert made["amount"] == 10000
    assert [r.status for r in requests_made(app)] == ["submitted"]
