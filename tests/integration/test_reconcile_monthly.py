"""Reconciliation covers monthly giving: invoices paid or failed, subscriptions Stripe ended."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop.extensions import db
from shop.orders.models import OrderEvent
from tests.integration.test_monthly_gifts import gifts, plan, start_monthly, subscribe
from tests.integration.test_staff import manager  # noqa: F401  (fixture)
from tests.servers import SmtpSink, text_of
from tests.support import StripeStandIn, session_id_from


def reconcile(runner: FlaskCliRunner) -> str:
    result = runner.invoke(args=["reconcile", "--since", "2d"])
    assert result.exit_code == 0, result.output
    return str(result.output)


def plan_timeline(app: Flask) -> list[str]:
    with app.app_context():
        from shop.donations.models import MonthlyGiftEvent

        return [e.message for e in db.session.scalars(
            db.select(MonthlyGiftEvent).order_by(MonthlyGiftEvent.id))]


def order_notes(app: Flask) -> list[str]:
    with app.app_context():
        return [e.message for e in db.session.scalars(
            db.select(OrderEvent).where(OrderEvent.kind == "reconciliation"))]


def test_a_paid_invoice_whose_webhook_never_came_becomes_a_gift_with_its_receipt(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, manager: FlaskClient,  # noqa: F811
) -> None:
    subscribe(client, stripe_stand_in)
    subscription = plan(app).stripe_subscription_id
    assert subscription
    invoice = stripe_stand_in.cycle(subscription, "paid")  # invoice.paid never delivered
    assert gifts(app) == [("paid", 1800)]
    output = reconcile(runner)
    assert f"gift CP-000002 made for paid invoice {invoice['id']}" in output
    assert gifts(app) == [("paid", 1800), ("paid", 1800)]
    receipts = mailbox.to("monthly@example.org")
    assert len(receipts) == 2 and "Monthly gift" in text_of(receipts[-1])
    assert any(invoice["id"] in note and "the webhook never came" in note
               for note in order_notes(app))
    assert any("Reconciliation: CP-000002" in line for line in plan_timeline(app))
    page = manager.get(f"/staff/monthly/{plan(app).id}").get_data(as_text=True)
    assert "Reconciliation: CP-000002" in page and 'data-testid="staff-monthly-event"' in page
    again = reconcile(runner)
    assert "repaired" not in again and len(mailbox.to("monthly@example.org")) == 2


def test_a_plan_whose_every_webhook_was_lost_is_started_with_its_first_gift(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    session_id = session_id_from(start_monthly(client).location)
    stripe_stand_in.pay(session_id, email="monthly@example.org")
    assert plan(app).status == "pending" and gifts(app) == []
    output = reconcile(runner)
    assert plan(app).status == "active" and gifts(app) == [("paid", 1800)]
    assert "started; the webhook never came" in output


def test_a_failed_month_and_a_subscription_stripe_ended_are_repaired(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink,
) -> None:
    subscribe(client, stripe_stand_in)
    subscription = plan(app).stripe_subscription_id
    assert subscription
    failed = stripe_stand_in.cycle(subscription, "failed")
    output = reconcile(runner)
    assert plan(app).status == "past_due"
    assert gifts(app)[-1] == ("awaiting_payment", 1800)
    assert f"the charge for invoice {failed['id']} failed" in output
    assert "could not be charged" in str(mailbox.to("monthly@example.org")[-1]["Subject"])

    stripe_stand_in.end_subscription(subscription)
    output = reconcile(runner)
    assert plan(app).status == "cancelled" and plan(app).cancel_reason == "payment_failed"
    assert gifts(app)[-1] == ("failed", 1800)
    assert f"subscription {subscription} ended at Stripe (payment_failed)" in output
    assert any("ended at Stripe" in line for line in plan_timeline(app))
    assert "repaired" not in reconcile(runner)
