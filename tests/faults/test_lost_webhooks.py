"""Webhooks Stripe sent that never arrived: `flask --app shop reconcile` repairs the orders."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import LiveShop
from tests.faults.conftest import Scenario, Seen, deliveries, flask_cli, order_status
from tests.servers import PartnerServer, SmtpSink
from tests.support import StripeStandIn, buy_and_pay, stripe_post, wait_for


def all_dropped(stand_in: StripeStandIn, count: int) -> bool:
    dropped = [e for e in stand_in.events()
               if any(a["dropped"] for a in e["_emulator"]["attempts"])]
    return len(dropped) == count


def test_a_paid_order_whose_webhooks_never_came_is_repaired_by_reconciliation(
    app: Flask, client: FlaskClient, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("webhook never delivered -> reconcile",
                   "all 3 webhooks of the payment dropped by Stripe; "
                   "`flask reconcile --since 2d` run twice")
    stripe_stand_in.fault(webhook_drop=3)
    token, _ = buy_and_pay(client, stripe_stand_in)
    wait_for(lambda: all_dropped(stripe_stand_in, 3))
    assert order_status(app) == "pending"

    first = flask_cli(app, "reconcile", "--since", "2d")
    assert "repaired: CP-000001: pending -> paid, the webhook never came" in first.stdout
    again = flask_cli(app, "reconcile", "--since", "2d")
    assert "repaired" not in again.stdout
    run.sent = deliveries(stripe_stand_in) + 2

    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        api = client.get(f"/api/orders/{token}").get_json()
        return {
            "order paid": status == "paid" and api["status"] == "paid",
            "donor's page shows the receipt sent": api["receipt_sent"] is True,
            "one receipt": seen.receipts == {number: 1},
            "one packing order": seen.packing_orders == {number: 1},
        }

    run.finish(app, stripe_stand_in, mailbox, partner, checks)


def test_a_refund_whose_webhooks_were_dropped_is_applied_by_reconciliation(
    app: Flask, client: FlaskClient, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("refund webhook dropped -> reconcile",
                   "refund.created and charge.refunded dropped by Stripe; "
                   "`flask reconcile --since 2d`")
    token, paid = buy_and_pay(client, stripe_stand_in)
    wait_for(lambda: order_status(app) == "paid")
    wait_for(lambda: len(partner.accepted) == 1)
    stripe_stand_in.fault(webhook_drop=2)
    stripe_post(stripe_stand_in, "refunds", payment_intent=paid["data"]["object"]
                ["payment_intent"], amount=20000)
    wait_for(lambda: all_dropped(stripe_stand_in, 2))
    assert order_status(app) == "paid"

    result = flask_cli(app, "reconcile", "--since", "2d")
    assert "refund" in result.stdout and "partially_refunded" in result.stdout
    run.sent = deliveries(stripe_stand_in) + 1

    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        api = client.get(f"/api/orders/{token}").get_json()
        return {
            "order partly refunded, $200.00": status == "partially_refunded"
            and api["refunded_cents"] == 20000,
            "one receipt (sent when paid)": seen.receipts == {number: 1},
            "one packing order (accepted when paid)": seen.packing_orders == {number: 1},
        }

    run.finish(app, stripe_stand_in, mailbox, partner, checks)
