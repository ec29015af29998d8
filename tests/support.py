"""Test helpers: drive the shop like a browser does and the Stripe stand-in like Stripe."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import requests
import stripe
from flask.testing import FlaskClient

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WEBHOOK_SECRET = "whsec_test_suite"


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def add_to_cart(
    client: FlaskClient, variant: str, quantity: Any = 1, note: str = "", **extra: Any
) -> Any:
    data = {"variant": variant, "quantity": quantity, "note": note,
            "csrf_token": csrf_token(client)} | extra
    return client.post("/cart/add", data=data)


def donate(client: FlaskClient, amount: str, **extra: Any) -> Any:
    data = {"amount": amount, "csrf_token": csrf_token(client, "/donate")} | extra
    return client.post("/donate", data=data)


def checkout(client: FlaskClient, email: str = "donor@example.org", name: str = "",
             **extra: Any) -> Any:
    data = {"email": email, "name": name, "csrf_token": csrf_token(client)} | extra
    return client.post("/checkout", data=data)


def session_id_from(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    header: str = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=ts
    )
    return header


def post_event(client: FlaskClient, event: dict[str, Any], **sign_args: Any) -> Any:
    body = json.dumps({k: v for k, v in event.items() if k != "_emulator"}).encode()
    return client.post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": sign(body, **sign_args),
                 "Content-Type": "application/json"},
    )


def wait_for(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {check}")
        time.sleep(interval)


class StripeStandIn:
    """The test's handle on the local Stripe stand-in's control API."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(f"{self.url}/_emulator{path}", json=body or {}, timeout=30)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def reset(self) -> None:
        self._post("/reset")
        requests.delete(f"{self.url}/_emulator/faults", timeout=10).raise_for_status()

    def configure(self, **config: Any) -> Any:
        return self._post("/config", config)

    def fault(self, **fault: Any) -> Any:
        return self._post("/faults", fault)

    def pay(self, session_id: str, outcome: str = "paid", **details: Any) -> dict[str, Any]:
        return self._post(f"/checkout/sessions/{session_id}/pay", {"outcome": outcome} | details)

    def settle(self, session_id: str, outcome: str) -> dict[str, Any]:
        return self._post(f"/checkout/sessions/{session_id}/settle", {"outcome": outcome})

    def expire(self, session_id: str) -> dict[str, Any]:
        return self._post(f"/checkout/sessions/{session_id}/expire")

    def events(self, type: str | None = None, undelivered: bool = False,
               api_version: str | None = None) -> list[dict[str, Any]]:
        """The events Stripe made, oldest first; in `api_version`'s shape when given."""
        params: dict[str, str] = {}
        if type:
            params["type"] = type
        if undelivered:
            params["undelivered"] = "1"
        if api_version:
            params["api_version"] = api_version
        response = requests.get(f"{self.url}/_emulator/events", params=params, timeout=10)
        response.raise_for_status()
        return list(response.json()["data"])

    def event(self, type: str, api_version: str | None = None) -> dict[str, Any]:
        [event] = self.events(type, api_version=api_version)
        return event

    def deliver(self, event_id: str) -> dict[str, Any]:
        """Send one event to the webhook URL now, signed, as Stripe would; returns the attempt."""
        return dict(self._post(f"/events/{event_id}/deliver"))

    def deliver_pending(self) -> list[dict[str, Any]]:
        return list(self._post("/events/deliver_pending")["delivered"])

    def dispute(self, charge_id: str, reason: str = "fraudulent",
                status: str = "needs_response") -> dict[str, Any]:
        return self._post(f"/charges/{charge_id}/dispute", {"reason": reason, "status": status})

    def close_dispute(self, dispute_id: str, outcome: str) -> dict[str, Any]:
        return self._post(f"/disputes/{dispute_id}/close", {"outcome": outcome})

    def update_dispute(self, dispute_id: str, status: str) -> dict[str, Any]:
        return self._post(f"/disputes/{dispute_id}/update", {"status": status})

    def cycle(self, subscription_id: str, outcome: str = "paid") -> dict[str, Any]:
        return self._post(f"/subscriptions/{subscription_id}/cycle", {"outcome": outcome})

    def end_subscription(self, subscription_id: str,
                         reason: str = "payment_failed") -> dict[str, Any]:
        """Stripe ends the subscription itself; its open invoices stay open."""
        return self._post(f"/subscriptions/{subscription_id}/end", {"reason": reason})

    def pay_invoice(self, invoice_id: str) -> dict[str, Any]:
        """The donor pays an open invoice on its hosted page."""
        return self._post(f"/invoices/{invoice_id}/pay")

    def refund_status(self, refund_id: str, status: str) -> dict[str, Any]:
        """A refund settles later: succeeded, failed or canceled."""
        return self._post(f"/refunds/{refund_id}/status", {"status": status})

    def pending_refunds(self, count: int = 1) -> None:
        """The next `count` refunds made through the API stay pending."""
        self._post("/refunds/pending_next", {"count": count})

    def deliver_all(self, client: FlaskClient, since: int = 0) -> int:
        """Post every event from index `since` on through the test client; returns the count."""
        events = self.events()
        for event in events[since:]:
            post_event(client, event)
        return len(events)

    def sessions(self) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.url}/v1/checkout/sessions", params={"limit": 100},
            headers={"Authorization": "Bearer sk_test_suite"}, timeout=10,
        )
        response.raise_for_status()
        return list(response.json()["data"])


def buy_and_pay(
    client: FlaskClient,
    stand_in: StripeStandIn,
    variant: str | None = "unit-ten-pack",
    note: str = "",
    gift: str | None = None,
    email: str = "donor@example.org",
    name: str = "",
    join_unit: bool = False,
    quantity: int = 1,
) -> tuple[str, dict[str, Any]]:
    """Cart, checkout, pay at the stand-in; returns the order token and the paid event."""
    if variant:
        extra = {"join_unit": "y"} if join_unit else {}
        response = add_to_cart(client, variant, quantity, note, **extra)
        assert response.status_code == 302, response.get_data(as_text=True)
    if gift:
        donate(client, gift)
    location = checkout(client, email=email, name=name).location
    session_id = session_id_from(location)
    stand_in.pay(session_id)
    session = requests.get(
        f"{stand_in.url}/v1/checkout/sessions/{session_id}",
        headers={"Authorization": "Bearer sk_test_suite"}, timeout=10,
    ).json()
    token = session["success_url"].split("/orders/")[1].split("?")[0]
    events = [e for e in stand_in.events("checkout.session.completed")
              if e["data"]["object"]["id"] == session_id]
    return token, events[0]


def stripe_get(stand_in: StripeStandIn, path: str, **params: Any) -> Any:
    response = requests.get(f"{stand_in.url}/v1/{path}", params=params,
                            headers={"Authorization": "Bearer sk_test_suite"}, timeout=10)
    response.raise_for_status()
    return response.json()


def stripe_post(stand_in: StripeStandIn, path: str, key: str | None = None,
                **data: Any) -> Any:
    headers = {"Authorization": "Bearer sk_test_suite"}
    if key:
        headers["Idempotency-Key"] = key
    response = requests.post(f"{stand_in.url}/v1/{path}", data=data, headers=headers,
                             timeout=10)
    response.raise_for_status()
    return response.json()


def payment_intent_of(event: dict[str, Any]) -> str:
    return str(event["data"]["object"]["payment_intent"])


def refund_at_stripe(stand_in: StripeStandIn, event: dict[str, Any],
                     amount: int | None = None) -> dict[str, Any]:
    """Refund the payment behind a paid event, as staff would in Stripe's dashboard;
    returns the charge.refunded event Stripe sends."""
    data: dict[str, Any] = {"payment_intent": payment_intent_of(event)}
    if amount is not None:
        data["amount"] = amount
    stripe_post(stand_in, "refunds", **data)
    return stand_in.events("charge.refunded")[-1]


def dispute_at_stripe(stand_in: StripeStandIn, event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A cardholder disputes the payment; returns the dispute id and the created event."""
    intent = stripe_get(stand_in, f"payment_intents/{payment_intent_of(event)}")
    dispute = stand_in.dispute(intent["latest_charge"])
    return str(dispute["id"]), stand_in.events("charge.dispute.created")[-1]
