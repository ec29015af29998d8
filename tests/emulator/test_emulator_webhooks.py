"""Webhook signing, delivery, retries, drops, hold mode and the control endpoints."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import stripe

from stripe_emulator import EmulatorServer
from stripe_emulator.encoding import parse_qs

from .helpers import WEBHOOK_SECRET, Receiver, payment_params, subscription_params


def _events(deliveries: list[tuple[bytes, str]]) -> list[stripe.Event]:
    return [stripe.Webhook.construct_event(body, sig, WEBHOOK_SECRET) for body, sig in deliveries]


def test_payment_webhooks_are_signed_and_typed(client: stripe.StripeClient,
                                               webhooks: Receiver) -> None:
    session = client.v1.checkout.sessions.create(params=payment_params())
    assert session.url is not None
    requests.post(session.url, data={"action": "pay", "email": "e@example.com"}, timeout=5,
                  allow_redirects=False)
    events = _events(webhooks.wait_for(3))
    assert [e.type for e in events] == ["payment_intent.succeeded", "charge.succeeded",
                                        "checkout.session.completed"]
    completed = events[2]
    assert isinstance(completed.data.object, stripe.checkout.Session)
    assert completed.data.object.id == session.id
    assert completed.data.object.payment_status == "paid"
    assert completed.api_version == "2026-10-28.endive" and completed.livemode is False
    assert completed.id.startswith("evt_")
    body, sig = webhooks.received[2]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, sig, "whsec_wrong")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace(b"paid", b"PAID"), sig, WEBHOOK_SECRET)


def test_subscription_webhooks(client: stripe.StripeClient, ctl: Callable[..., Any],
                               webhooks: Receiver) -> None:
    session = client.v1.checkout.sessions.create(params=subscription_params())
    ctl("POST", f"/checkout/sessions/{session.id}/pay", {"email": "d@example.com"})
    events = _events(webhooks.wait_for(3))
    assert [e.type for e in events] == ["customer.subscription.created", "invoice.paid",
                                        "checkout.session.completed"]
    invoice = events[1].data.object
    assert isinstance(invoice, stripe.Invoice)
    assert invoice.parent.subscription_details.metadata.to_dict() == {"donor_ref": "donor_77"}  # type: ignore[union-attr]


def test_failed_deliveries_are_retried(client: stripe.StripeClient, ctl: Callable[..., Any],
                                       webhooks: Receiver) -> None:
    webhooks.statuses = [500, 503]
    session = client.v1.checkout.sessions.create(params=payment_params())
    client.v1.checkout.sessions.expire(session.id)
    received = webhooks.wait_for(3)
    assert len({body for body, _ in received}) == 1

    def attempts() -> list[Any]:
        listed = ctl("GET", "/events?type=checkout.session.expired")["data"]
        return [a["status"] for a in listed[0]["_emulator"]["attempts"]]

    # The stand-in writes an attempt down once the answer is back, a moment after the
    # receiver has the request.
    deadline = time.monotonic() + 5
    while len(attempts()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert attempts() == [500, 503, 200]
    listed = ctl("GET", "/events?type=checkout.session.expired")["data"]
    assert listed[0]["_emulator"]["delivered"] is True
    ok = client.v1.events.list(params={"delivery_success": True}).data
    assert [e.type for e in ok] == ["checkout.session.expired"]


def test_gives_up_after_max_attempts(client: stripe.StripeClient, ctl: Callable[..., Any],
                                     webhooks: Receiver) -> None:
    webhooks.statuses = [500] * 10
    session = client.v1.checkout.sessions.create(params=payment_params())
    client.v1.checkout.sessions.expire(session.id)
    webhooks.wait_for(3)
    time.sleep(0.3)
    assert len(webhooks.received) == 3
    undelivered = client.v1.events.list(params={"delivery_success": False}).data
    assert [e.type for e in undelivered] == ["checkout.session.expired"]


def test_webhook_drop_and_delivery_success_filter(client: stripe.StripeClient,
                                                  ctl: Callable[..., Any],
                                                  webhooks: Receiver) -> None:
    ctl("POST", "/faults", {"webhook_drop": 2})
    session = client.v1.checkout.sessions.create(params=payment_params())
    ctl("POST", f"/checkout/sessions/{session.id}/pay", {})
    events = _events(webhooks.wait_for(1))
    assert [e.type for e in events] == ["checkout.session.completed"]
    missed = client.v1.events.list(params={"delivery_success": False,
                                           "types": ["payment_intent.succeeded",
                                                     "charge.succeeded"]}).data
    assert [e.type for e in missed] == ["charge.succeeded", "payment_intent.succeeded"]
    only_completed = client.v1.events.list(params={"types": ["checkout.session.completed"]})
    assert [e.id for e in only_completed.data] == [events[0].id]
    wildcard = client.v1.events.list(params={"type": "charge.*"}).data
    assert [e.type for e in wildcard] == ["charge.succeeded"]


def test_hold_mode_and_deliver_pending(client: stripe.StripeClient, ctl: Callable[..., Any],
                                       webhooks: Receiver) -> None:
    ctl("POST", "/config", {"delivery_mode": "hold"})
    session = client.v1.checkout.sessions.create(params=payment_params())
    ctl("POST", f"/checkout/sessions/{session.id}/pay", {})
    time.sleep(0.2)
    assert webhooks.received == []
    pending = ctl("GET", "/events?undelivered=1")["data"]
    assert [e["type"] for e in pending] == ["payment_intent.succeeded", "charge.succeeded",
                                            "checkout.session.completed"]
    one = ctl("POST", f"/events/{pending[2]['id']}/deliver")
    assert (one["status"], one["body"]) == (200, "ok")
    assert _events(webhooks.received)[0].type == "checkout.session.completed"
    webhooks.statuses = [400]
    result = ctl("POST", "/events/deliver_pending")
    assert result["statuses"] == [400, 200]
    assert [r["event"] for r in result["delivered"]] == [pending[0]["id"], pending[1]["id"]]
    assert [e["type"] for e in ctl("GET", "/events?undelivered=1")["data"]] == [
        "payment_intent.succeeded"]
    ctl("POST", "/config", {"delivery_mode": "auto"})
    session2 = client.v1.checkout.sessions.create(params=payment_params())
    client.v1.checkout.sessions.expire(session2.id)
    assert _events(webhooks.wait_for(4))[3].type == "checkout.session.expired"


def test_config_reset_and_state(emulator: EmulatorServer, client: stripe.StripeClient,
                                ctl: Callable[..., Any]) -> None:
    config = ctl("POST", "/config", {"retry_delays": [0.5], "max_attempts": 2})
    assert config["retry_delays"] == [0.5] and config["max_attempts"] == 2
    assert ctl("GET", "/config")["delivery_mode"] == "auto"
    client.v1.checkout.sessions.create(params=payment_params(),
                                       options={"idempotency_key": "k"})
    assert ctl("GET", "/state")["sessions"] == 1
    ctl("POST", "/faults", {"status": 503, "count": 5})
    ctl("DELETE", "/faults")
    ctl("POST", "/reset")
    state = ctl("GET", "/state")
    assert (state["sessions"], state["events"], state["idempotency_records"]) == (0, 0, 0)
    assert emulator.state.config.max_attempts == 2
    ctl("POST", "/config", {"delivery_mode": "later"}, expect=400)


def test_fault_on_get_and_delay(client: stripe.StripeClient, ctl: Callable[..., Any]) -> None:
    session = client.v1.checkout.sessions.create(params=payment_params())
    ctl("POST", "/faults", {"method": "GET", "path_prefix": "/v1/checkout/sessions/",
                            "status": 503, "count": 2})
    for _ in range(2):
        with pytest.raises(stripe.APIError) as err:
            client.v1.checkout.sessions.retrieve(session.id)
        assert err.value.http_status == 503
    assert client.v1.checkout.sessions.retrieve(session.id).id == session.id


def test_encoding_of_brackets() -> None:
    parsed = parse_qs("line_items[0][price_data][product_data][name]=A+b&line_items[0]"
                      "[quantity]=2&line_items[1][quantity]=3&expand%5B0%5D=line_items"
                      "&types[]=a&types[]=b&metadata[k]=v&metadata[0]=zero&created[gte]=123"
                      "&success_url=https%3A%2F%2Fx%2F%3Fid%3D%7BCHECKOUT_SESSION_ID%7D")
    assert parsed == {
        "line_items": [{"price_data": {"product_data": {"name": "A b"}}, "quantity": "2"},
                       {"quantity": "3"}],
        "expand": ["line_items"], "types": ["a", "b"],
        "metadata": {"k": "v", "0": "zero"}, "created": {"gte": "123"},
        "success_url": "https://x/?id={CHECKOUT_SESSION_ID}",
    }
    assert json.dumps(parse_qs("a[10]=x&a[2]=y")) == '{"a": ["y", "x"]}'
