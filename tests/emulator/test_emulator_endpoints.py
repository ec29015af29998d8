"""Webhook endpoints made through the API: their events, their API version, their secret."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import stripe

from stripe_emulator import EmulatorServer

from .helpers import Receiver, payment_params, subscription_params

OLD = "2024-06-20"  # before 2025-03-31.basil moved an invoice's subscription under `parent`


def _endpoint(client: stripe.StripeClient, url: str, events: list[str],
              version: str | None = None) -> stripe.WebhookEndpoint:
    params: dict[str, Any] = {"url": url, "enabled_events": events}
    if version:
        params["api_version"] = version
    return client.v1.webhook_endpoints.create(params=params)  # type: ignore[arg-type]


def _subscribe(client: stripe.StripeClient, ctl: Callable[..., Any]) -> str:
    session = client.v1.checkout.sessions.create(params=subscription_params())
    ctl("POST", f"/checkout/sessions/{session.id}/pay", {"email": "d@example.com"})
    sub = client.v1.checkout.sessions.retrieve(session.id).subscription
    assert isinstance(sub, str)
    return sub


def _types(deliveries: list[tuple[bytes, str]]) -> list[str]:
    return [json.loads(body)["type"] for body, _ in deliveries]


def test_each_endpoint_gets_only_its_events_in_its_version_signed_with_its_secret(
    client: stripe.StripeClient, ctl: Callable[..., Any], receiver: Receiver,
) -> None:
    new = _endpoint(client, receiver.url + "/new", ["invoice.paid", "charge.refunded"])
    old = _endpoint(client, receiver.url + "/old", ["invoice.paid"], OLD)
    assert new.secret and old.secret and new.secret != old.secret
    assert new.api_version == "2026-10-28.endive" and old.api_version == OLD
    _subscribe(client, ctl)
    receiver.wait_for(2)
    time.sleep(0.2)
    [(new_body, new_sig)] = receiver.to("/new")
    [(old_body, old_sig)] = receiver.to("/old")
    fresh = stripe.Webhook.construct_event(new_body, new_sig, new.secret)
    aged = stripe.Webhook.construct_event(old_body, old_sig, old.secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(old_body, old_sig, new.secret)
    assert fresh.id == aged.id and fresh.type == aged.type == "invoice.paid"
    assert (fresh.api_version, aged.api_version) == ("2026-10-28.endive", OLD)
    current, before = json.loads(new_body)["data"]["object"], json.loads(old_body)["data"]["object"]
    sub_id = current["parent"]["subscription_details"]["subscription"]
    assert "subscription" not in current and "payment_intent" not in current
    assert "parent" not in before
    assert before["subscription"] == sub_id
    assert before["subscription_details"] == {"metadata": {"donor_ref": "donor_77"}}
    assert before["payment_intent"].startswith("pi_") and before["charge"].startswith("ch_")
    assert before["paid"] is True


def test_endpoints_are_listed_updated_disabled_and_keep_their_version(
    client: stripe.StripeClient, ctl: Callable[..., Any], receiver: Receiver,
    emulator: EmulatorServer,
) -> None:
    made = _endpoint(client, receiver.url, ["invoice.paid"], OLD)
    [listed] = client.v1.webhook_endpoints.list().data
    assert listed.id == made.id and "secret" not in listed.to_dict()
    assert "secret" not in client.v1.webhook_endpoints.retrieve(made.id).to_dict()
    changed = client.v1.webhook_endpoints.update(
        made.id, params={"enabled_events": ["checkout.session.expired"]})
    assert changed.enabled_events == ["checkout.session.expired"]
    assert changed.api_version == OLD
    response = requests.post(f"{emulator.url}/v1/webhook_endpoints/{made.id}",
                             data={"api_version": "2026-10-28.endive"},
                             headers={"Authorization": "Bearer sk_test_x"}, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "api_version"
    client.v1.webhook_endpoints.update(made.id, params={"disabled": True})
    session = client.v1.checkout.sessions.create(params=payment_params())
    client.v1.checkout.sessions.expire(session.id)
    time.sleep(0.3)
    assert receiver.received == []
    client.v1.webhook_endpoints.update(made.id, params={"disabled": False})
    again = client.v1.checkout.sessions.create(params=payment_params())
    client.v1.checkout.sessions.expire(again.id)
    assert _types(receiver.wait_for(1)) == ["checkout.session.expired"]
    client.v1.webhook_endpoints.delete(made.id)
    assert client.v1.webhook_endpoints.list().data == []


def test_unknown_event_types_and_versions_are_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        _endpoint(client, "https://shop.example/stripe/webhook", ["invoice.pay"])
    assert err.value.param == "enabled_events[0]"
    with pytest.raises(stripe.InvalidRequestError) as err:
        _endpoint(client, "https://shop.example/stripe/webhook", ["invoice.paid"], "2025-13-01")
    assert err.value.param == "api_version"
    with pytest.raises(stripe.InvalidRequestError):
        _endpoint(client, "not a url", ["invoice.paid"])
    assert client.v1.webhook_endpoints.list().data == []


def test_objects_are_answered_in_the_requests_version(
    client: stripe.StripeClient, ctl: Callable[..., Any], emulator: EmulatorServer,
) -> None:
    sub = _subscribe(client, ctl)
    [invoice] = client.v1.invoices.list(params={"subscription": sub}).data
    assert invoice.parent is not None and "subscription" not in invoice.to_dict()
    old = requests.get(f"{emulator.url}/v1/invoices/{invoice.id}",
                       headers={"Authorization": "Bearer sk_test_x", "Stripe-Version": OLD},
                       timeout=5).json()
    assert old["subscription"] == sub and "parent" not in old
    charge = requests.get(f"{emulator.url}/v1/charges/{old['charge']}",
                          headers={"Authorization": "Bearer sk_test_x", "Stripe-Version": OLD},
                          timeout=5).json()
    assert charge["invoice"] == invoice.id
    bad = requests.get(f"{emulator.url}/v1/invoices/{invoice.id}",
                       headers={"Authorization": "Bearer sk_test_x",
                                "Stripe-Version": "2019-13-45"}, timeout=5)
    assert bad.status_code == 400 and "API version" in bad.json()["error"]["message"]


def test_the_default_endpoint_follows_the_configuration(
    client: stripe.StripeClient, ctl: Callable[..., Any], receiver: Receiver,
) -> None:
    ctl("POST", "/config", {"webhook_url": receiver.url, "webhook_secret": "whsec_default",
                            "webhook_events": ["checkout.session.expired"]})
    [default] = client.v1.webhook_endpoints.list().data
    assert (default.url, default.enabled_events) == (receiver.url, ["checkout.session.expired"])
    session = client.v1.checkout.sessions.create(params=payment_params())
    ctl("POST", f"/checkout/sessions/{session.id}/pay", {})
    other = client.v1.checkout.sessions.create(params=payment_params())
    client.v1.checkout.sessions.expire(other.id)
    [(body, sig)] = receiver.wait_for(1)
    assert stripe.Webhook.construct_event(body, sig, "whsec_default").type == \
        "checkout.session.expired"
    ctl("POST", "/config", {"webhook_url": None})
    assert client.v1.webhook_endpoints.list().data == []


def test_refund_events_reach_an_endpoint_only_in_versions_that_have_them(
    client: stripe.StripeClient, ctl: Callable[..., Any], receiver: Receiver,
) -> None:
    events = ["refund.failed", "refund.updated", "charge.refund.updated"]
    _endpoint(client, receiver.url + "/new", events)
    _endpoint(client, receiver.url + "/old", events, "2024-09-30.acacia")
    session = client.v1.checkout.sessions.create(params=payment_params())
    ctl("POST", f"/checkout/sessions/{session.id}/pay", {})
    intent = str(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    refund = client.v1.refunds.create(params={"payment_intent": intent})
    ctl("POST", f"/refunds/{refund.id}/status", {"status": "failed"})
    receiver.wait_for(4)
    time.sleep(0.2)
    assert sorted(_types(receiver.to("/new"))) == sorted(events)
    assert _types(receiver.to("/old")) == ["charge.refund.updated"]
