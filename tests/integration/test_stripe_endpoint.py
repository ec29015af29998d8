"""The shop sets up its own Stripe webhook endpoint, checks it, and pins its API version."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskCliRunner

from shop.donations.models import MonthlyGift
from shop.extensions import db
from shop.orders.models import Order
from shop.payments.handlers import HANDLERS
from tests.conftest import LiveShop
from tests.support import (
    StripeStandIn,
    add_to_cart,
    checkout,
    csrf_token,
    session_id_from,
    stripe_get,
    stripe_post,
    wait_for,
)

SECRET = re.compile(r"^(whsec_\w+)$", re.MULTILINE)
OLD = "2025-02-24.acacia"


def endpoints(stand_in: StripeStandIn) -> list[dict[str, Any]]:
    return list(stripe_get(stand_in, "webhook_endpoints", limit=100)["data"])


@pytest.fixture
def shop(app: Flask, stripe_stand_in: StripeStandIn) -> Iterator[LiveShop]:
    """The shop over HTTP, with no endpoint at Stripe yet; the stand-in sends as Stripe."""
    with LiveShop(app) as live:
        app.config["PUBLIC_URL"] = live.url
        stripe_stand_in.configure(delivery_mode="auto")
        yield live
        stripe_stand_in.configure(delivery_mode="hold")


def setup(runner: FlaskCliRunner, url: str, *extra: str) -> Any:
    return runner.invoke(args=["stripe-webhook-setup", "--url", url, *extra])


def test_the_endpoint_made_by_setup_gets_every_event_the_shop_needs_and_no_other(
    app: Flask, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn, shop: LiveShop,
) -> None:
    url = f"{shop.url}/stripe/webhook"
    result = setup(runner, url)
    assert result.exit_code == 0, result.output
    secret = SECRET.search(result.output)
    assert secret and "STRIPE_WEBHOOK_SECRET" in result.output
    [made] = endpoints(stripe_stand_in)
    assert made["url"] == url and made["api_version"] == app.config["STRIPE_API_VERSION"]
    assert sorted(made["enabled_events"]) == sorted(HANDLERS)
    for needed in ("checkout.session.completed", "checkout.session.expired",
                   "checkout.session.async_payment_succeeded",
                   "checkout.session.async_payment_failed", "charge.refunded",
                   "charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed",
                   "invoice.paid", "invoice.payment_failed", "customer.subscription.deleted"):
        assert needed in made["enabled_events"]
    app.config["STRIPE_WEBHOOK_SECRET"] = secret.group(1)

    client = app.test_client()
    add_to_cart(client, "unit-ten-pack")
    session_id = session_id_from(checkout(client).location)
    stripe_stand_in.pay(session_id)
    intent = stripe_get(stripe_stand_in, f"checkout/sessions/{session_id}")["payment_intent"]
    stripe_post(stripe_stand_in, "refunds", payment_intent=intent, amount=1000)
    donate = {"amount": "18", "frequency": "monthly", "email": "m@example.org",
              "csrf_token": csrf_token(client, "/donate")}
    monthly = session_id_from(client.post("/donate", data=donate).location)
    stripe_stand_in.pay(monthly)

    def settled() -> bool:
        return all(e["_emulator"]["attempts"] or e["type"] not in HANDLERS
                   for e in stripe_stand_in.events())

    wait_for(settled, timeout=30)
    for event in stripe_stand_in.events():
        statuses = [a["status"] for a in event["_emulator"]["attempts"]]
        if event["type"] in HANDLERS:
            assert statuses and statuses[-1] == 200, (event["type"], statuses)
        else:
            assert statuses == [], f"{event['type']} was sent to the shop"
    assert {e["type"] for e in stripe_stand_in.events()} - set(HANDLERS)  # there were others
    with app.app_context():
        order = db.session.scalars(db.select(Order).where(Order.kind == "package")).one()
        assert (order.status, order.refunded_cents) == ("partially_refunded", 1000)
        plan = db.session.scalars(db.select(MonthlyGift)).one()
        assert plan.status == "active"
        assert db.session.scalar(db.select(Order).where(Order.monthly_gift_id == plan.id))

    check = runner.invoke(args=["stripe-check"])
    assert check.exit_code == 0, check.output
    assert check.output.startswith("ok:")


def test_setup_again_says_what_it_changed(
    app: Flask, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    url = "https://shop.example/stripe/webhook"
    assert setup(runner, url).exit_code == 0
    again = setup(runner, url)
    assert "is up to date" in again.output and not SECRET.search(again.output)
    [made] = endpoints(stripe_stand_in)
    stripe_post(stripe_stand_in, f"webhook_endpoints/{made['id']}",
                **{"enabled_events[0]": "invoice.paid", "enabled_events[1]": "charge.captured",
                   "disabled": "true"})
    fixed = setup(runner, url)
    assert fixed.exit_code == 0, fixed.output
    assert "No longer sends: charge.captured." in fixed.output
    assert "checkout.session.completed" in fixed.output and "Enabled again." in fixed.output
    assert not SECRET.search(fixed.output)  # same endpoint, same secret
    [same] = endpoints(stripe_stand_in)
    assert same["id"] == made["id"] and same["status"] == "enabled"
    assert sorted(same["enabled_events"]) == sorted(HANDLERS)


def test_an_endpoint_on_another_version_is_replaced_only_when_asked(
    app: Flask, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    url = "https://shop.example/stripe/webhook"
    old = stripe_post(stripe_stand_in, "webhook_endpoints", url=url, api_version=OLD,
                      **{"enabled_events[0]": "*"})
    refused = setup(runner, url)
    assert refused.exit_code != 0
    assert "--recreate" in refused.output and OLD in refused.output
    assert [e["id"] for e in endpoints(stripe_stand_in)] == [old["id"]]
    replaced = setup(runner, url, "--recreate")
    assert replaced.exit_code == 0, replaced.output
    secret = SECRET.search(replaced.output)
    assert secret and secret.group(1) != old["secret"]
    [new] = endpoints(stripe_stand_in)
    assert new["id"] != old["id"] and new["api_version"] == app.config["STRIPE_API_VERSION"]
    assert f"Deleted endpoint {old['id']}" in replaced.output


@pytest.mark.shop_config({"PUBLIC_URL": "https://shop.example"})
def test_stripe_check_exits_non_zero_on_drift(
    app: Flask, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    url = "https://shop.example/stripe/webhook"
    none = runner.invoke(args=["stripe-check"])
    assert none.exit_code == 1 and "No enabled webhook endpoint sends events to" in none.output
    assert setup(runner, url).exit_code == 0
    assert runner.invoke(args=["stripe-check"]).exit_code == 0
    [made] = endpoints(stripe_stand_in)
    events = [e for e in made["enabled_events"] if e != "invoice.paid"]
    stripe_post(stripe_stand_in, f"webhook_endpoints/{made['id']}",
                **{f"enabled_events[{i}]": e for i, e in enumerate(events)})
    missing = runner.invoke(args=["stripe-check"])
    assert missing.exit_code == 1 and "does not send invoice.paid" in missing.output
    assert setup(runner, url).exit_code == 0
    stripe_post(stripe_stand_in, f"webhook_endpoints/{made['id']}",
                url="https://old-host.example/stripe/webhook")
    moved = runner.invoke(args=["stripe-check"])
    assert moved.exit_code == 1
    assert "No enabled webhook endpoint sends events to https://shop.example" in moved.output
    assert "old-host.example" in moved.output
    stripe_post(stripe_stand_in, f"webhook_endpoints/{made['id']}", url=url)
    stripe_post(stripe_stand_in, "webhook_endpoints", url="https://shop.example/other",
                api_version=OLD, **{"enabled_events[0]": "invoice.paid"})
    assert runner.invoke(args=["stripe-check"]).exit_code == 0  # not the shop's endpoint
    app.config["STRIPE_API_VERSION"] = "2026-09-30.endive"
    versioned = runner.invoke(args=["stripe-check"])
    assert versioned.exit_code == 1 and "the shop pins 2026-09-30.endive" in versioned.output


@pytest.mark.shop_config({"PUBLIC_URL": "https://shop.example", "STRIPE_CHECK_INTERVAL": 3600})
def test_readyz_warns_of_drift_without_asking_stripe_on_every_probe(
    app: Flask, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    client = app.test_client()

    def stripe_webhook() -> Any:
        body = client.get("/readyz").get_json()
        return body if body["stripe_webhook"] not in ("checking",) else None

    found = wait_for(stripe_webhook)
    assert found["status"] == "ok" and found["stripe_webhook"] == "drift"
    assert any("No enabled webhook endpoint" in w for w in found["warnings"])
    # Cached: Stripe is not asked again, even when it would now answer otherwise.
    stripe_stand_in.fault(method="GET", path_prefix="/v1/webhook_endpoints", status=500)
    for _ in range(5):
        assert client.get("/readyz").get_json()["stripe_webhook"] == "drift"
    assert requests.get(f"{stripe_stand_in.url}/_emulator/state", timeout=5).json()["faults"]


def test_requests_name_the_pinned_api_version(
    app: Flask, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    app.config["STRIPE_API_VERSION"] = OLD
    app.extensions.pop("stripe_client", None)
    assert setup(runner, "https://shop.example/stripe/webhook").exit_code == 0
    [made] = endpoints(stripe_stand_in)
    assert made["api_version"] == OLD
    from shop.payments import client as payments

    with app.app_context():
        client = payments._client()
        response = client.raw_request("get", "/v1/webhook_endpoints")
    assert response.headers["Stripe-Version"] == OLD
