"""Calls to Stripe's API through StripeClient; returns plain values, raises PaymentError."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import stripe
from flask import current_app

log = logging.getLogger(__name__)


class PaymentError(Exception):
    """Stripe could not do what we asked; `message` is safe to show a donor."""

    message = "The payment service could not complete the request."


class PaymentServiceUnavailable(PaymentError):
    message = "The payment service is unavailable right now."


class PaymentOutcomeUnknown(PaymentServiceUnavailable):
    """No answer from Stripe (a timeout, a lost connection, the same key still running).

    Stripe may have done what was asked; only repeating the same idempotency key finds
    out without doing it twice.
    """


class PaymentRequestRejected(PaymentError):
    message = "The payment service refused this payment."


class WebhookSignatureError(Exception):
    """The webhook's signature is missing, wrong or too old."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    status: str | None
    payment_status: str | None
    mode: str | None
    url: str | None
    amount_total: int | None
    currency: str | None
    payment_intent_id: str | None
    subscription_id: str | None
    customer_id: str | None
    client_reference_id: str | None
    customer_email: str | None
    customer_name: str | None
    created: int | None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def order_id(self) -> int | None:
        raw = self.metadata.get("order_id") or self.client_reference_id
        return int(raw) if raw and raw.isdigit() else None


@dataclass(frozen=True)
class LineItem:
    name: str
    unit_amount: int
    quantity: int
    description: str = ""


def _client() -> stripe.StripeClient:
    app = current_app
    client = app.extensions.get("stripe_client")
    if client is None:
        base = app.config.get("STRIPE_API_BASE")
        client = stripe.StripeClient(
            app.config["STRIPE_SECRET_KEY"],
            base_addresses={"api": base} if base else None,
            max_network_retries=app.config["STRIPE_MAX_NETWORK_RETRIES"],
            http_client=stripe.RequestsClient(timeout=app.config["STRIPE_TIMEOUT"]),
        )
        app.extensions["stripe_client"] = client
    return client


def _translate(exc: stripe.StripeError) -> PaymentError:
    log.warning(
        "stripe error %s status=%s code=%s request=%s: %s",
        type(exc).__name__, exc.http_status, exc.code, exc.request_id, exc.user_message,
    )
    if isinstance(exc, stripe.APIConnectionError) or exc.http_status == 409:
        # 409: the same key is still running (or the object is locked); nothing is stored
        # under the key yet, so asking again with it is the safe retry.
        return PaymentOutcomeUnknown(str(exc))
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError):
        return PaymentServiceUnavailable(str(exc))
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return PaymentServiceUnavailable(str(exc))
    return PaymentRequestRejected(str(exc))


def _as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return dict(obj)
    to_dict = getattr(obj, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else dict(obj)


def session_from_object(obj: Any) -> CheckoutSession:
    """A checkout.session from the API or from an event payload, as a plain value."""
    data = _as_dict(obj)
    details = _as_dict(data.get("customer_details"))
    return CheckoutSession(
        id=str(data["id"]),
        status=data.get("status"),
        payment_status=data.get("payment_status"),
        mode=data.get("mode"),
        url=data.get("url"),
        amount_total=data.get("amount_total"),
        currency=(data.get("currency") or None),
        payment_intent_id=_id_of(data.get("payment_intent")),
        subscription_id=_id_of(data.get("subscription")),
        customer_id=_id_of(data.get("customer")),
        client_reference_id=data.get("client_reference_id"),
        customer_email=details.get("email") or data.get("customer_email"),
        customer_name=details.get("name"),
        created=data.get("created"),
        metadata={str(k): str(v) for k, v in _as_dict(data.get("metadata")).items()},
    )


def _id_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(_as_dict(value).get("id")) or None


def create_checkout_session(
    *,
    line_items: list[LineItem],
    currency: str,
    mode: str,
    success_url: str,
    cancel_url: str,
    client_reference_id: str,
    metadata: dict[str, str],
    customer_email: str | None,
    submit_type: str | None,
    idempotency_key: str,
) -> CheckoutSession:
    params: dict[str, Any] = {
        "mode": mode,
        "line_items": [
            {
                "price_data": {
                    "currency": currency,
                    "unit_amount": item.unit_amount,
                    "product_data": {"name": item.name}
                    | ({"description": item.description} if item.description else {}),
                },
                "quantity": item.quantity,
            }
            for item in line_items
        ],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
    }
    if customer_email:
        params["customer_email"] = customer_email
    if submit_type:
        params["submit_type"] = submit_type
    try:
        session = _client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        raise _translate(exc) from exc
    return session_from_object(session)


def retrieve_checkout_session(session_id: str) -> CheckoutSession:
    try:
        session = _client().v1.checkout.sessions.retrieve(session_id)
    except stripe.StripeError as exc:
        raise _translate(exc) from exc
    return session_from_object(session)


def verify_webhook(payload: bytes, signature: str | None) -> dict[str, Any]:
    """Check the Stripe-Signature header on the raw body; return the event as a dict."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not signature:
        raise WebhookSignatureError("missing Stripe-Signature header")
    try:
        stripe.Webhook.construct_event(
            payload, signature, secret, tolerance=current_app.config["STRIPE_WEBHOOK_TOLERANCE"]
        )
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureError(str(exc)) from exc
    # The signature covers these exact bytes; keep them as plain JSON, not Stripe objects.
    data = json.loads(payload)
    if not isinstance(data, dict) or not data.get("id") or not data.get("type"):
        raise ValueError("not a Stripe event")
    if not isinstance(data.get("data"), dict) or not isinstance(data["data"].get("object"), dict):
        raise ValueError("the event has no data.object")
    return data


@dataclass(frozen=True)
class Charge:
    id: str
    payment_intent_id: str | None
    amount: int
    amount_refunded: int
    currency: str
    refunded: bool
    disputed: bool


@dataclass(frozen=True)
class Dispute:
    id: str
    charge_id: str | None
    payment_intent_id: str | None
    amount: int
    currency: str
    reason: str
    status: str


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    currency: str
    status: str | None
    charge_id: str | None
    payment_intent_id: str | None
    metadata: dict[str, str] = field(default_factory=dict)


def charge_from_object(obj: Any) -> Charge:
    data = _as_dict(obj)
    return Charge(
        id=str(data["id"]),
        payment_intent_id=_id_of(data.get("payment_intent")),
        amount=int(data.get("amount") or 0),
        amount_refunded=int(data.get("amount_refunded") or 0),
        currency=str(data.get("currency") or ""),
        refunded=bool(data.get("refunded")),
        disputed=bool(data.get("disputed")),
    )


def dispute_from_object(obj: Any) -> Dispute:
    data = _as_dict(obj)
    return Dispute(
        id=str(data["id"]),
        charge_id=_id_of(data.get("charge")),
        payment_intent_id=_id_of(data.get("payment_intent")),
        amount=int(data.get("amount") or 0),
        currency=str(data.get("currency") or ""),
        reason=str(data.get("reason") or "unknown"),
        status=str(data.get("status") or ""),
    )


def refund_from_object(obj: Any) -> Refund:
    data = _as_dict(obj)
    return Refund(
        id=str(data["id"]),
        amount=int(data.get("amount") or 0),
        currency=str(data.get("currency") or ""),
        status=data.get("status"),
        charge_id=_id_of(data.get("charge")),
        payment_intent_id=_id_of(data.get("payment_intent")),
        metadata={str(k): str(v) for k, v in _as_dict(data.get("metadata")).items()},
    )


def _call(func: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return func(*args, **kwargs)
    except stripe.StripeError as exc:
        raise _translate(exc) from exc


def retrieve_charge(charge_id: str) -> Charge:
    return charge_from_object(_call(_client().v1.charges.retrieve, charge_id))


def payment_intent_order_id(payment_intent_id: str) -> int | None:
    """The order id the PaymentIntent carries in its metadata (set at checkout)."""
    try:
        intent = _as_dict(_client().v1.payment_intents.retrieve(payment_intent_id))
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None  # not a payment of this Stripe account: nothing of ours
        raise _translate(exc) from exc
    except stripe.StripeError as exc:
        raise _translate(exc) from exc
    raw = _as_dict(intent.get("metadata")).get("order_id")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def sessions_for_payment_intent(payment_intent_id: str) -> list[CheckoutSession]:
    page = _call(_client().v1.checkout.sessions.list,
                 params={"payment_intent": payment_intent_id, "limit": 10})
    return [session_from_object(obj) for obj in page.data]


def _paged(lister: Any, params: dict[str, Any], limit: int) -> list[Any]:
    """Walk a Stripe list newest first, following `starting_after`, up to `limit` objects."""
    found: list[Any] = []
    query = dict(params) | {"limit": 100}
    while len(found) < limit:
        page = _call(lister, params=query)
        found.extend(page.data)
        if not page.has_more or not page.data:
            break
        query["starting_after"] = page.data[-1]["id"]
    return found[:limit]


def recent_sessions(since: int, status: str, limit: int = 5000) -> list[CheckoutSession]:
    objects = _paged(_client().v1.checkout.sessions.list,
                     {"created": {"gte": since}, "status": status}, limit)
    return [session_from_object(obj) for obj in objects]


def recent_refunds(since: int, limit: int = 5000) -> list[Refund]:
    objects = _paged(_client().v1.refunds.list, {"created": {"gte": since}}, limit)
    return [refund_from_object(obj) for obj in objects]


def recent_disputes(since: int, limit: int = 5000) -> list[Dispute]:
    objects = _paged(_client().v1.disputes.list, {"created": {"gte": since}}, limit)
    return [dispute_from_object(obj) for obj in objects]


def create_refund(
    *, payment_intent_id: str, amount_cents: int | None, reason: str,
    metadata: dict[str, str], idempotency_key: str,
) -> Refund:
    params: dict[str, Any] = {"payment_intent": payment_intent_id, "metadata": metadata}
    if amount_cents is not None:
        params["amount"] = amount_cents
    if reason:
        params["reason"] = reason
    refund = _call(_client().v1.refunds.create, params=params,
                   options={"idempotency_key": idempotency_key})
    return refund_from_object(refund)


def retrieve_dispute(dispute_id: str) -> Dispute:
    return dispute_from_object(_call(_client().v1.disputes.retrieve, dispute_id))
