"""Events in every API version the shop reads are understood; others are refused, kept and
can be replayed; monthly gifts work with an endpoint on a version before 2025-03-31."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop.extensions import db
from shop.payments.handlers import HANDLERS
from shop.payments.models import StripeEvent
from tests.conftest import LiveShop
from tests.integration.test_monthly_gifts import gifts, plan, start_monthly
from tests.support import (
    StripeStandIn,
    buy_and_pay,
    post_event,
    session_id_from,
    stripe_get,
    stripe_post,
    wait_for,
)

BEFORE_BASIL = "2025-02-24.acacia"
UNREAD = "2024-06-20"


def stored(app: Flask, event_id: str) -> StripeEvent | None:
    with app.app_context():
        row: StripeEvent | None = db.session.scalar(
            db.select(StripeEvent).where(StripeEvent.stripe_id == event_id))
        if row is not None:
            db.session.expunge(row)
        return row


def order_status(client: FlaskClient, token: str) -> str:
    return str(client.get(f"/api/orders/{token}").get_json()["status"])


def test_monthly_gifts_work_with_the_endpoint_on_a_version_before_basil(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, live_shop: LiveShop,
) -> None:
    stripe_stand_in.configure(webhook_api_version=BEFORE_BASIL)
    session_id = session_id_from(start_monthly(client).location)
    stripe_stand_in.pay(session_id, email="monthly@example.org", name="Mona")
    wait_for(lambda: gifts(app) == [("paid", 1800)])
    assert plan(app).status == "active"
    paid = stripe_stand_in.event("invoice.paid")
    row = stored(app, paid["id"])
    assert row is not None and row.status == "processed"
    assert row.payload["api_version"] == BEFORE_BASIL
    invoice = row.payload["data"]["object"]
    assert "parent" not in invoice and invoice["subscription"] == plan(app).stripe_subscription_id

    subscription = plan(app).stripe_subscription_id
    assert subscription
    stripe_stand_in.cycle(subscription, "paid")
    wait_for(lambda: gifts(app) == [("paid", 1800), ("paid", 1800)])
    stripe_stand_in.cycle(subscription, "failed")
    wait_for(lambda: plan(app).status == "past_due")
    assert gifts(app)[-1] == ("awaiting_payment", 1800)

    first_invoice = invoice["id"]
    [payment] = stripe_get(stripe_stand_in, "invoice_payments", invoice=first_invoice)["data"]
    stripe_post(stripe_stand_in, "refunds", payment_intent=payment["payment"]["payment_intent"])
    wait_for(lambda: gifts(app)[0] == ("refunded", 1800))

    stripe_stand_in.end_subscription(subscription)
    wait_for(lambda: plan(app).status == "cancelled")
    assert gifts(app)[-1] == ("failed", 1800)
    with app.app_context():
        kept = db.session.execute(db.select(StripeEvent.type, StripeEvent.status)).all()
    assert {status for type_, status in kept if type_ in HANDLERS} == {"processed"}, kept


def test_an_event_in_a_version_the_shop_does_not_read_is_refused_then_replayed(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token, _ = buy_and_pay(client, stripe_stand_in)
    event = stripe_stand_in.event("checkout.session.completed", api_version=UNREAD)
    with caplog.at_level(logging.ERROR, logger="shop.payments.events"):
        response = post_event(client, event)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "unsupported_api_version"
    assert any(event["id"] in r.message and UNREAD in r.message and "replay-event" in r.message
               for r in caplog.records)
    row = stored(app, event["id"])
    assert row is not None and row.status == "refused"
    assert order_status(client, token) == "pending"
    assert post_event(client, event).status_code == 400  # Stripe's retry: refused again

    result = runner.invoke(args=["replay-event", event["id"]])
    assert result.exit_code == 0, result.output
    assert "processed" in result.output
    assert order_status(client, token) == "paid"
    again = runner.invoke(args=["replay-event", event["id"]])
    assert again.exit_code != 0 and "already processed" in again.output


def test_an_event_kept_as_ignored_or_never_received_can_be_replayed(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    token, paid = buy_and_pay(client, stripe_stand_in)
    with app.app_context():
        db.session.add(StripeEvent(stripe_id=paid["id"], type=paid["type"], status="ignored",
                                   detail="not understood then", payload=paid))
        db.session.commit()
    assert post_event(client, paid).get_json()["outcome"] == "duplicate"
    assert order_status(client, token) == "pending"
    assert runner.invoke(args=["replay-event", paid["id"]]).exit_code == 0
    assert order_status(client, token) == "paid"

    other, _ = buy_and_pay(client, stripe_stand_in, email="other@example.org")
    never = stripe_stand_in.events("checkout.session.completed")[-1]
    assert stored(app, never["id"]) is None
    result = runner.invoke(args=["replay-event", never["id"]])
    assert result.exit_code == 0, result.output
    assert order_status(client, other) == "paid"
    missing = runner.invoke(args=["replay-event", "evt_no_such_event"])
    assert missing.exit_code != 0 and "30 days" in missing.output


def test_an_old_invoice_without_its_plans_id_is_looked_up_never_ignored(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    session_id = session_id_from(start_monthly(client).location)
    stripe_stand_in.pay(session_id, email="monthly@example.org")
    event: dict[str, Any] = stripe_stand_in.event("invoice.paid", api_version=BEFORE_BASIL)
    event["data"]["object"]["subscription_details"] = None  # made before Stripe kept it
    response = post_event(client, event)  # before checkout.session.completed linked the plan
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outcome"] == "processed"
    assert gifts(app) == [("paid", 1800)]


def test_reconciliation_applies_a_refused_event_through_its_current_object(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    token, _ = buy_and_pay(client, stripe_stand_in)
    refused = stripe_stand_in.event("checkout.session.completed", api_version=UNREAD)
    assert post_event(client, refused).status_code == 400
    result = runner.invoke(args=["reconcile", "--since", "1h"])
    assert result.exit_code == 0, result.output
    assert order_status(client, token) == "paid"
    row = stored(app, refused["id"])
    assert row is not None and row.status == "processed"
