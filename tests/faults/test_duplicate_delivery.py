"""The same paid event many times at once, and the donor's return racing the webhook, sent to
gunicorn with several worker processes (as the Procfile runs the shop)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.faults.conftest import (
    GUNICORN_WORKERS,
    Scenario,
    Seen,
    all_at_once,
    side_effects,
)
from tests.gunicorn_server import Gunicorn
from tests.servers import PartnerServer, SmtpSink
from tests.support import StripeStandIn, buy_and_pay, sign, wait_for

COPIES = 20


def signed_body(event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({k: v for k, v in event.items() if k != "_emulator"}).encode()
    return body, {"Stripe-Signature": sign(body), "Content-Type": "application/json"}


def all_done(app: Flask) -> bool:
    """The receipt and packing order are done (in-process, on a gunicorn worker's thread),
    and so is the donor's shipping notice that the partner's acceptance sets off."""
    effects = side_effects(app)
    return set(effects) == {"receipt", "packing_order", "shipped_notice"} \
        and {e.status for e in effects.values()} == {"done"}


def paid_once(app: Flask, seen: Seen) -> dict[str, bool]:
    [(number, status)] = seen.orders.items()
    effects = side_effects(app)
    return {
        "order paid": status == "paid",
        "one move to paid on the timeline": seen.paid_transitions == {number: 1},
        "one receipt received": seen.receipts == {number: 1},
        "one packing order accepted": seen.packing_orders == {number: 1},
        "receipt and packing order done": {e.status for e in effects.values()} == {"done"},
    }


def test_the_same_paid_event_20_times_at_once_pays_once(
    app: Flask, client: FlaskClient, gunicorn_shop: Gunicorn, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("duplicate delivery x20 concurrent",
                   f"the same signed checkout.session.completed posted by {COPIES} threads at "
                   f"once to gunicorn with {GUNICORN_WORKERS} worker processes")
    stripe_stand_in.configure(delivery_mode="hold")  # the test is Stripe's sender here
    _, event = buy_and_pay(client, stripe_stand_in)
    body, headers = signed_body(event)
    url = f"{gunicorn_shop.url}/stripe/webhook"

    statuses = [r.status_code for r in all_at_once([
        lambda: requests.post(url, data=body, headers=headers, timeout=60)
        for _ in range(COPIES)
    ])]
    run.sent = COPIES

    assert statuses == [200] * COPIES
    wait_for(lambda: all_done(app), timeout=60)
    run.finish(app, stripe_stand_in, mailbox, partner, lambda seen: paid_once(app, seen))


def test_the_webhook_and_the_donors_return_racing_pay_once(
    app: Flask, client: FlaskClient, gunicorn_shop: Gunicorn, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("webhook x10 racing the success page x10",
                   "10 copies of checkout.session.completed and 10 loads of "
                   "/orders/<token>?session_id= at once, to gunicorn with "
                   f"{GUNICORN_WORKERS} worker processes")
    stripe_stand_in.configure(delivery_mode="hold")
    token, event = buy_and_pay(client, stripe_stand_in)
    body, headers = signed_body(event)
    session_id = event["data"]["object"]["id"]
    webhook = f"{gunicorn_shop.url}/stripe/webhook"
    page = f"{gunicorn_shop.url}/orders/{token}?session_id={session_id}"

    calls: list[Callable[[], requests.Response]] = []
    for _ in range(COPIES // 2):
        calls.append(lambda: requests.post(webhook, data=body, headers=headers, timeout=60))
        calls.append(lambda: requests.get(page, timeout=60))
    statuses = [r.status_code for r in all_at_once(calls)]
    run.sent = len(calls)

    assert statuses == [200] * len(calls)
    assert "Paid" in requests.get(page, timeout=10).text
    wait_for(lambda: all_done(app), timeout=60)
    run.finish(app, stripe_stand_in, mailbox, partner, lambda seen: paid_once(app, seen))
