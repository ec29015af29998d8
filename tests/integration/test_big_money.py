"""Money past 2^31 cents ($21,474,836.47): payments, refunds and totals keep working."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import insert

from shop.extensions import db
from shop.orders.models import Order
from shop.orders.service import new_order_token
from shop.staff.service import create_or_update_staff
from tests.support import StripeStandIn, buy_and_pay, csrf_token, post_event, refund_at_stripe

INT32_MAX = 2**31 - 1
HISTORY_ORDERS = 500
HISTORY_GIFT = 4_300_000  # $43,000 each: together $21.5M, past what 32 bits hold
HISTORY_CENTS = HISTORY_ORDERS * HISTORY_GIFT
TEN_PACK = 59000


def _paid_history(app: Flask) -> None:
    """Large gifts already paid today, inside the campaign."""
    paid_at = datetime.now(UTC) - timedelta(minutes=5)
    with app.app_context():
        db.session.execute(insert(Order), [
            {"number": f"CP-9{n:05d}", "token": new_order_token(), "status": "paid",
             "kind": "donation", "email": f"major{n}@example.org", "currency": "usd",
             "total_cents": HISTORY_GIFT, "amount_received_cents": HISTORY_GIFT,
             "packages": 0, "paid_at": paid_at, "created_at": paid_at}
            for n in range(HISTORY_ORDERS)
        ])
        db.session.commit()


def _raised(client: FlaskClient) -> int:
    response = client.get("/api/campaign")
    assert response.status_code == 200
    return int(response.get_json()["raised_cents"])


def test_payments_refunds_and_totals_past_two_to_the_31_cents(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    assert HISTORY_CENTS > INT32_MAX
    _paid_history(app)
    recount = runner.invoke(args=["campaign-totals"])
    assert recount.exit_code == 0, recount.output
    assert "$21,500,000.00 raised" in recount.output
    assert _raised(client) == HISTORY_CENTS

    token, paid = buy_and_pay(client, stripe_stand_in, "unit-ten-pack")
    answer = post_event(client, paid)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    order = client.get(f"/api/orders/{token}").get_json()
    assert order["status"] == "paid"
    assert _raised(client) == HISTORY_CENTS + TEN_PACK

    answer = post_event(client, refund_at_stripe(stripe_stand_in, paid, 9000))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert client.get(f"/api/orders/{token}").get_json()["status"] == "partially_refunded"
    assert _raised(client) == HISTORY_CENTS + TEN_PACK - 9000

    # The staff dashboard adds up today's money past 32 bits too.
    with app.app_context():
        create_or_update_staff("admin@charity.example", "admin", "correct horse battery")
        db.session.commit()
    staff = app.test_client()
    staff.post("/staff/login", data={"email": "admin@charity.example",
                                     "password": "correct horse battery",
                                     "csrf_token": csrf_token(staff, "/staff/login")})
    page = staff.get("/staff/dashboard")
    assert page.status_code == 200
    text = " ".join(page.get_data(as_text=True).split())
    assert "501 orders, $21,500,500.00" in text
