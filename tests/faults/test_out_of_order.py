"""Stripe's events arriving in the wrong order, delivered by the stand-in over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import LiveShop
from tests.faults.conftest import Scenario, Seen, deliveries, side_effects
from tests.servers import PartnerServer, SmtpSink
from tests.support import (
    StripeStandIn,
    add_to_cart,
    buy_and_pay,
    checkout,
    session_id_from,
    sign,
    stripe_get,
    stripe_post,
)


def deliver_in_order(stand_in: StripeStandIn, events: list[dict[str, Any]]) -> list[int]:
    """Have the stand-in send these events, signed, one after the other; their statuses."""
    return [stand_in.deliver(event["id"])["status"] for event in events]


def newest_first(stand_in: StripeStandIn) -> list[dict[str, Any]]:
    return list(reversed(stand_in.events()))


def intent_of(event: dict[str, Any]) -> str:
    return str(event["data"]["object"]["payment_intent"])


def test_refunded_before_completed_ends_refunded_with_nothing_sent(
    app: Flask, client: FlaskClient, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("out of order: refunded before completed",
                   "every event of a paid then fully refunded order delivered newest first")
    stripe_stand_in.configure(delivery_mode="hold")
    _, paid = buy_and_pay(client, stripe_stand_in)
    stripe_post(stripe_stand_in, "refunds", payment_intent=intent_of(paid))

    events = newest_first(stripe_stand_in)
    assert events[0]["type"] == "charge.refunded"
    assert deliver_in_order(stripe_stand_in, events) == [200] * len(events)
    run.sent = deliveries(stripe_stand_in)

    def checks(seen: Seen) -> dict[str, bool]:
        [(_, status)] = seen.orders.items()
        return {
            "order refunded": status == "refunded",
            "no receipt for a refunded order": seen.receipts == {},
            "nothing sent to the partner": partner.requests == [],
            "receipt and packing order cancelled": {
                kind: e.status for kind, e in side_effects(app).items()
                if kind in ("receipt", "packing_order")} == {"receipt": "cancelled",
                                                             "packing_order": "cancelled"},
        }

    run.finish(app, stripe_stand_in, mailbox, partner, checks)


def test_async_payment_succeeded_before_completed_pays_once(
    app: Flask, client: FlaskClient, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("out of order: async_payment_succeeded before completed",
                   "a bank payment's events delivered newest first (success before checkout)")
    stripe_stand_in.configure(delivery_mode="hold")
    add_to_cart(client, "unit-ten-pack")
    session_id = session_id_from(checkout(client).location)
    stripe_stand_in.pay(session_id, outcome="delayed")
    stripe_stand_in.settle(session_id, "succeeded")

    events = newest_first(stripe_stand_in)
    assert events[0]["type"] == "checkout.session.async_payment_succeeded"
    assert deliver_in_order(stripe_stand_in, events) == [200] * len(events)
    run.sent = deliveries(stripe_stand_in)

    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        return {
            "order paid": status == "paid",
            "one move to paid": seen.paid_transitions == {number: 1},
            "one receipt": seen.receipts == {number: 1},
            "one packing order": seen.packing_orders == {number: 1},
        }

    run.finish(app, stripe_stand_in, mailbox, partner, checks)


def test_an_expired_event_after_completed_leaves_the_order_paid(
    app: Flask, client: FlaskClient, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("out of order: expired after completed",
                   "checkout.session.completed, then a stale signed checkout.session.expired "
                   "for the same session")
    stripe_stand_in.configure(delivery_mode="hold")
    token, paid = buy_and_pay(client, stripe_stand_in)
    assert deliver_in_order(stripe_stand_in, stripe_stand_in.events()) == [200] * 3
    # Stripe never expires a completed session; the stale event is what a mixed-up or
    # replayed delivery would carry: the session as it was before payment, expired.
    session = paid["data"]["object"] | {"status": "expired", "payment_status": "unpaid",
                                        "url": None}
    expired = {"id": "evt_stale_expired", "object": "event", "type": "checkout.session.expired",
               "created": paid["created"] + 1, "livemode": False, "data": {"object": session},
               "api_version": paid["api_version"]}
    body = json.dumps(expired).encode()
    answer = requests.post(f"{live_shop.url}/stripe/webhook", data=body, timeout=30,
                           headers={"Stripe-Signature": sign(body),
                                    "Content-Type": "application/json"})
    assert answer.status_code == 200
    run.sent = deliveries(stripe_stand_in) + 1

    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        api = client.get(f"/api/orders/{token}").get_json()
        return {
            "order still paid": status == "paid" and api["status"] == "paid",
            "one receipt": seen.receipts == {number: 1},
            "one packing order": seen.packing_orders == {number: 1},
        }

    run.finish(app, stripe_stand_in, mailbox, partner, checks)


def test_dispute_closed_before_created_ends_lost(
    app: Flask, client: FlaskClient, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("out of order: dispute closed before created",
                   "charge.dispute.closed (lost) delivered before charge.dispute.created")
    stripe_stand_in.configure(delivery_mode="hold")
    _, paid = buy_and_pay(client, stripe_stand_in)
    assert deliver_in_order(stripe_stand_in, stripe_stand_in.events()) == [200] * 3
    charge = stripe_get(stripe_stand_in, f"payment_intents/{intent_of(paid)}")["latest_charge"]
    dispute = stripe_stand_in.dispute(charge)
    stripe_stand_in.close_dispute(dispute["id"], "lost")

    closed, created = (stripe_stand_in.event(t) for t in
                       ("charge.dispute.closed", "charge.dispute.created"))
    assert deliver_in_order(stripe_stand_in, [closed, created]) == [200, 200]
    run.sent = deliveries(stripe_stand_in)

    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        return {
            "order dispute_lost": status == "dispute_lost",
            "one receipt (sent when paid)": seen.receipts == {number: 1},
            "one packing order (accepted before the dispute)":
                seen.packing_orders == {number: 1},
        }

    run.finish(app, stripe_stand_in, mailbox, partner, checks)
