"""What one request may cost: body limits, webhook bodies that are not events, proxies."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.config import DEFAULT_STRIPE_API_VERSION
from shop.extensions import db
from shop.payments.models import StripeEvent
from tests.support import csrf_token, sign

EVENT: dict[str, Any] = {
    "id": "evt_limits_1", "object": "event", "type": "checkout.session.completed",
    "livemode": False, "created": 0,
    "data": {"object": {"id": "cs_test_x", "object": "checkout.session"}},
}


def post_signed(client: FlaskClient, body: bytes, timestamp: int | None = None) -> Any:
    return client.post("/stripe/webhook", data=body, headers={
        "Stripe-Signature": sign(body, timestamp=timestamp), "Content-Type": "application/json"})


def stored_events(app: Flask) -> int:
    with app.app_context():
        return len(db.session.scalars(db.select(StripeEvent)).all())


@pytest.mark.shop_config({"WEBHOOK_MAX_BYTES": 16 * 1024})
def test_a_webhook_body_over_the_cap_is_refused_unread(app: Flask, client: FlaskClient) -> None:
    body = json.dumps(EVENT | {"padding": "x" * 20_000}).encode()
    response = post_signed(client, body)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"
    assert stored_events(app) == 0


@pytest.mark.shop_config({"MAX_CONTENT_LENGTH": 64 * 1024})
def test_any_form_over_the_app_limit_is_refused(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post("/cart/add", data={
        "csrf_token": token, "variant": "single-package", "quantity": "1",
        "note": "x" * 70_000})
    assert response.status_code == 413
    assert "That request is too large." in response.get_data(as_text=True)


@pytest.mark.parametrize("body", [
    b"[]", b'"evt_1"', b"42", b"null", b'{"id": 5, "type": "checkout.session.completed"}',
    b'{"id": ["evt_1"], "type": "x", "data": {"object": {}}}',
    b'{"id": "evt_1", "type": "charge.refunded", "data": {"object": []}}',
    b'{"id": "evt_1", "type": "charge.refunded", "created": "yesterday", '
    b'"data": {"object": {}}}',
])
def test_a_signed_body_that_is_not_an_event_answers_400(app: Flask, client: FlaskClient,
                                                        body: bytes) -> None:
    response = post_signed(client, body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_event"
    assert stored_events(app) == 0


def test_a_body_that_is_not_text_answers_400(app: Flask, client: FlaskClient) -> None:
    response = client.post("/stripe/webhook", data=b"\xff\xfe\x00 not utf-8",
                           headers={"Stripe-Signature": f"t={int(time.time())},v1=00"})
    assert response.status_code == 400
    assert stored_events(app) == 0


def test_a_live_event_is_refused_by_a_shop_on_test_keys(app: Flask, client: FlaskClient) -> None:
    body = json.dumps(EVENT | {"livemode": True, "created": int(time.time())}).encode()
    response = post_signed(client, body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "livemode_mismatch"
    assert stored_events(app) == 0


@pytest.mark.shop_config({"STRIPE_SECRET_KEY": "sk_live_suite0000000"})
def test_a_test_event_is_refused_by_a_shop_on_live_keys(app: Flask, client: FlaskClient) -> None:
    body = json.dumps(EVENT | {"created": int(time.time())}).encode()
    response = post_signed(client, body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "livemode_mismatch"
    assert stored_events(app) == 0


def test_a_signature_from_the_future_is_refused(app: Flask, client: FlaskClient) -> None:
    tolerance = app.config["STRIPE_WEBHOOK_TOLERANCE"]
    body = json.dumps(EVENT | {"created": int(time.time())}).encode()
    response = post_signed(client, body, timestamp=int(time.time()) + tolerance + 60)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_signature"
    body = json.dumps(EVENT | {"created": int(time.time()) + tolerance + 60}).encode()
    response = post_signed(client, body)
    assert response.status_code == 400
    assert stored_events(app) == 0


def _login_attempts(client: FlaskClient, address: str, forwarded_for: str, count: int) -> list[int]:
    # The per-account lockout is set high in these tests: they count the per-address limit.
    token = csrf_token(client, "/staff/login")
    data = {"email": "someone@example.org", "password": "guess", "csrf_token": token}
    return [
        client.post("/staff/login", data=data, environ_base={"REMOTE_ADDR": address},
                    headers={"X-Forwarded-For": forwarded_for}).status_code
        for _ in range(count)
    ]


@pytest.mark.shop_config({"RATELIMIT_ENABLED": True, "TRUSTED_PROXY_HOPS": 0,
                         "STAFF_LOGIN_MAX_FAILURES": 100})
def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(
    client: FlaskClient,
) -> None:
    answers = _login_attempts(client, "203.0.113.9", "198.51.100.1", 10)
    assert answers == [401] * 10
    # A new X-Forwarded-For on every try does not give a fresh bucket.
    assert _login_attempts(client, "203.0.113.9", "198.51.100.2", 1) == [429]


@pytest.mark.shop_config({"RATELIMIT_ENABLED": True, "TRUSTED_PROXY_HOPS": 1,
                         "STAFF_LOGIN_MAX_FAILURES": 100})
def test_behind_one_proxy_each_client_has_its_own_bucket(client: FlaskClient) -> None:
    proxy = "10.0.0.2"
    assert _login_attempts(client, proxy, "198.51.100.1", 10) == [401] * 10
    assert _login_attempts(client, proxy, "198.51.100.1", 1) == [429]
    # Another donor behind the same proxy is not locked out by the first one.
    assert _login_attempts(client, proxy, "198.51.100.2", 1) == [401]
    # A client that prepends its own X-Forwarded-For is still counted by the proxy's entry.
    assert _login_attempts(client, proxy, "198.51.100.7, 198.51.100.1", 1) == [429]


@pytest.mark.shop_config({"TRUSTED_HOSTS": ["shop.test"]})
def test_a_host_not_trusted_is_refused(client: FlaskClient) -> None:
    assert client.get("/", headers={"Host": "shop.test"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def _event(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"id": f"evt_bad_{kind}", "object": "event", "type": kind,
                       "created": int(time.time()), "livemode": False,
                       "api_version": DEFAULT_STRIPE_API_VERSION,
                       "data": {"object": obj}}).encode()


@pytest.mark.parametrize("body", [
    b'{"a":' * 5000 + b"1" + b"}" * 5000,  # deeper than Python's parser goes
    _event("checkout.session.completed", {}),
    _event("charge.refunded", {}),
    _event("charge.dispute.created", {}),
    _event("invoice.paid", {"id": "in_1", "subscription": 5}),
    _event("customer.subscription.deleted", {}),
])
def test_a_signed_event_whose_object_cannot_be_read_answers_400_and_keeps_nothing(
    app: Flask, client: FlaskClient, body: bytes,
) -> None:
    response = post_signed(client, body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_event"
    assert stored_events(app) == 0


@pytest.mark.parametrize("order_id", ["9" * 23, "2147483648", "\u0663", "-1", "1.0"])
def test_a_session_naming_an_order_id_no_order_can_have_is_not_the_shops(
    app: Flask, client: FlaskClient, order_id: str,
) -> None:
    body = _event("checkout.session.completed", {
        "id": "cs_1", "object": "checkout.session", "mode": "payment",
        "status": "complete", "payment_status": "paid", "amount_total": 3600,
        "currency": "usd", "metadata": {"order_id": order_id}})
    response = post_signed(client, body)
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "ignored"

