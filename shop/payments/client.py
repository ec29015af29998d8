"""Calls to Stripe's API through StripeClient; returns plain values, raises PaymentError."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import stripe
from flask import current_app

from shop.payments.values import (
    Charge,
    CheckoutSession,
    Dispute,
    Invoice,
    LineItem,
    Refund,
    Subscription,
    WebhookEndpoint,
    as_dict,
    charge_from_object,
    dispute_from_object,
    id_of,
    invoice_from_object,
    refund_from_object,
    session_from_object,
    subscription_from_object,
    webhook_endpoint_from_object,
)
from shop.text import row_id

# What the rest of the shop uses, the shapes of Stripe's objects (from values.py) included.
__all__ = [
    "Charge", "CheckoutSession", "Dispute", "Invoice", "LineItem", "PaymentError",
    "PaymentInProgress", "PaymentOutcomeUnknown", "PaymentRequestRejected",
    "PaymentServiceUnavailable", "Subscription", "WebhookLivemodeError", "WebhookSignatureError",
    "cancel_subscription", "charge_from_object", "create_checkout_session", "create_refund",
    "create_webhook_endpoint", "delete_webhook_endpoint", "dispute_from_object",
    "invoice_for_payment_intent", "invoice_from_object", "key_is_live", "list_webhook_endpoints",
    "payment_intent_for_invoice", "payment_intent_order_id", "recent_disputes",
    "recent_event_objects", "recent_invoices", "recent_refunds", "recent_sessions",
    "refund_from_object",
    "retrieve_charge", "retrieve_checkout_session", "retrieve_dispute", "retrieve_event",
    "retrieve_invoice", "retrieve_object", "retrieve_subscription", "session_from_object",
    "sessions_for_payment_intent", "subscription_from_object", "subscription_plan_id",
    "update_webhook_endpoint", "verify_webhook",
]

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


class PaymentInProgress(PaymentOutcomeUnknown):
    """Stripe is still answering an earlier request with the same idempotency key."""


class PaymentRequestRejected(PaymentError):
    message = "The payment service refused this payment."

    def __init__(self, text: str = "", *, code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(text)
        self.code = code  # Stripe's error code, e.g. amount_too_large
        self.param = param  # the parameter Stripe names, e.g. line_items


class PaymentRefused(PaymentRequestRejected):
    """Stripe refused the request as it stands (400 invalid_request_error): asking again
    cannot help; only a change to what is asked for can (a smaller amount, fewer items)."""


class WebhookSignatureError(Exception):
    """The webhook's signature is missing, wrong, too old or in the future."""


class WebhookLivemodeError(WebhookSignatureError):
    """A correctly signed event of the other mode (test vs live) than the shop's key."""


def _client() -> stripe.StripeClient:
    app = current_app
    client = app.extensions.get("stripe_client")
    if client is None:
        base = app.config.get("STRIPE_API_BASE")
        client = stripe.StripeClient(
            app.config["STRIPE_SECRET_KEY"],
            base_addresses={"api": base} if base else None,
            # Every request, and so every object returned, in the version the shop reads.
            stripe_version=app.config["STRIPE_API_VERSION"],
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
    if exc.http_status == 409:
        # The same key is still running (a double click): nothing is stored under it yet,
        # so asking again with it is the safe retry.
        return PaymentInProgress(str(exc))
    if isinstance(exc, stripe.APIConnectionError):
        # No answer: Stripe may have done it; only the same key finds out safely.
        return PaymentOutcomeUnknown(str(exc))
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError):
        return PaymentServiceUnavailable(str(exc))
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return PaymentServiceUnavailable(str(exc))
    if isinstance(exc, stripe.InvalidRequestError):
        return PaymentRefused(str(exc), code=exc.code, param=exc.param)
    return PaymentRequestRejected(str(exc), code=exc.code)


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
                }
                | ({"recurring": {"interval": "month"}} if item.monthly else {}),
                "quantity": item.quantity,
            }
            for item in line_items
        ],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "metadata": metadata,
    }
    # Refund and dispute events name the payment, not the session: the ids travel along.
    if mode == "subscription":
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["payment_intent_data"] = {"metadata": metadata}
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


def key_is_live(secret_key: str) -> bool:
    """Whether a Stripe secret key acts on live money (`sk_live_`, `rk_live_`)."""
    return secret_key.startswith(("sk_live_", "rk_live_"))


def _signed_at(signature: str) -> int | None:
    """The `t=` timestamp of a Stripe-Signature header (unix seconds), if it has one."""
    for part in signature.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return None


def verify_webhook(payload: bytes, signature: str | None) -> dict[str, Any]:
    """Check the Stripe-Signature header on the raw body; return the event as a dict.

    Raises WebhookSignatureError when the signature is missing or wrong, older than
    STRIPE_WEBHOOK_TOLERANCE seconds or more than that in the future (Stripe's library
    checks only the past), or when the event's `livemode` is not the mode of
    STRIPE_SECRET_KEY (a test event sent to a live shop, or the reverse). Raises
    ValueError when the signed body is not a Stripe event (not a JSON object with a
    string `id` and `type` and an object `data.object`).
    """
    config = current_app.config
    secret = config["STRIPE_WEBHOOK_SECRET"]
    tolerance = int(config["STRIPE_WEBHOOK_TOLERANCE"])
    if not signature:
        raise WebhookSignatureError("missing Stripe-Signature header")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8") from None
    try:
        # Only the signature: the library's own parsing fails on JSON that is not an object.
        stripe.WebhookSignature.verify_header(text, signature, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureError(str(exc)) from exc
    now = time.time()
    signed_at = _signed_at(signature)
    if signed_at is not None and signed_at > now + tolerance:
        raise WebhookSignatureError(f"signature timestamp {signed_at} is in the future")
    # The signature covers these exact bytes; keep them as plain JSON, not Stripe objects.
    try:
        data = json.loads(text)
    except RecursionError:  # nested deeper than Python's parser goes: no Stripe event is
        raise ValueError("the body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError("the body is not a JSON object")
    if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
        raise ValueError("not a Stripe event")
    if not data["id"] or not data["type"] or len(data["id"]) > 255:
        raise ValueError("not a Stripe event")
    if not isinstance(data.get("data"), dict) or not isinstance(data["data"].get("object"), dict):
        raise ValueError("the event has no data.object")
    created = data.get("created")
    if created is not None and (not isinstance(created, int) or isinstance(created, bool)):
        raise ValueError("the event's created is not a timestamp")
    if isinstance(created, int) and created > now + tolerance:
        raise WebhookSignatureError(f"event created {created} is in the future")
    livemode = data.get("livemode")
    if livemode is not None and livemode is not key_is_live(config["STRIPE_SECRET_KEY"]):
        mode = "live" if livemode else "test"
        raise WebhookLivemodeError(f"a {mode}-mode event sent to a shop using "
                                   f"{'test' if mode == 'live' else 'live'}-mode keys")
    return data


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
        intent = as_dict(_client().v1.payment_intents.retrieve(payment_intent_id))
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None  # not a payment of this Stripe account: nothing of ours
        raise _translate(exc) from exc
    except stripe.StripeError as exc:
        raise _translate(exc) from exc
    raw = as_dict(intent.get("metadata")).get("order_id")
    return row_id(raw) if isinstance(raw, str) else None


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


def recent_invoices(since: int, status: str, limit: int = 5000) -> list[Invoice]:
    """Invoices created since `since` (unix seconds) with this status, newest first."""
    objects = _paged(_client().v1.invoices.list, {"created": {"gte": since}, "status": status},
                     limit)
    return [invoice_from_object(obj) for obj in objects]


def recent_event_objects(since: int, types: list[str], limit: int = 5000
                         ) -> list[tuple[str, str, str]]:
    """(event type, object kind, object id) of Stripe's events of these types since
    `since`, newest first. Only ids: events keep the version they were made in, so the
    objects are read again where they matter."""
    objects = _paged(_client().v1.events.list, {"created": {"gte": since}, "types": types},
                     limit)
    found = []
    for event in objects:
        data = as_dict(event)
        obj = as_dict(as_dict(data.get("data")).get("object"))
        found.append((str(data.get("type")), str(obj.get("object")), str(obj.get("id"))))
    return found


def recent_refunds(since: int, limit: int = 5000) -> list[Refund]:
    objects = _paged(_client().v1.refunds.list, {"created": {"gte": since}}, limit)
    return [refund_from_object(obj) for obj in objects]


def recent_disputes(since: int, limit: int = 5000) -> list[Dispute]:
    objects = _paged(_client().v1.disputes.list, {"created": {"gte": since}}, limit)
    return [dispute_from_object(obj) for obj in objects]


def refunds_of_charge(charge_id: str, limit: int = 1000) -> list[Refund]:
    """Every refund of a charge as Stripe holds it now, whatever its status, newest first."""
    objects = _paged(_client().v1.refunds.list, {"charge": charge_id}, limit)
    return [refund_from_object(obj) for obj in objects]


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


def retrieve_refund(refund_id: str) -> Refund | None:
    """The refund as Stripe holds it now; None when Stripe has no such refund."""
    found = retrieve_object("refund", refund_id)
    return refund_from_object(found) if found is not None else None


def retrieve_dispute(dispute_id: str) -> Dispute:
    return dispute_from_object(_call(_client().v1.disputes.retrieve, dispute_id))


def retrieve_invoice(invoice_id: str) -> Invoice:
    return invoice_from_object(_call(_client().v1.invoices.retrieve, invoice_id))


def retrieve_subscription(subscription_id: str) -> Subscription | None:
    found = retrieve_object("subscription", subscription_id)
    return subscription_from_object(found) if found is not None else None


def cancel_subscription(subscription_id: str) -> Subscription:
    return subscription_from_object(_call(_client().v1.subscriptions.cancel, subscription_id))


def invoice_for_payment_intent(payment_intent_id: str) -> str | None:
    """The invoice a PaymentIntent paid (a monthly gift), through Stripe's invoice payments."""
    page = _call(_client().v1.invoice_payments.list, params={
        "payment": {"type": "payment_intent", "payment_intent": payment_intent_id},
        "limit": 1,
    })
    for payment in page.data:
        invoice = id_of(as_dict(payment).get("invoice"))
        if invoice:
            return invoice
    return None


def list_webhook_endpoints() -> list[WebhookEndpoint]:
    """Every webhook endpoint of the account (Stripe allows 16), oldest first."""
    objects = _paged(_client().v1.webhook_endpoints.list, {}, 100)
    return [webhook_endpoint_from_object(obj) for obj in reversed(objects)]


def create_webhook_endpoint(*, url: str, events: list[str], version: str, description: str,
                            metadata: dict[str, str]) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, which Stripe shows only in this answer."""
    made = _call(_client().v1.webhook_endpoints.create, params={
        "url": url, "enabled_events": events, "api_version": version,
        "description": description, "metadata": metadata,
    })
    return webhook_endpoint_from_object(made), str(as_dict(made).get("secret") or "")


def update_webhook_endpoint(endpoint_id: str, **changes: Any) -> WebhookEndpoint:
    """Change url, enabled_events, disabled, description or metadata (not the version)."""
    return webhook_endpoint_from_object(
        _call(_client().v1.webhook_endpoints.update, endpoint_id, params=changes))


def delete_webhook_endpoint(endpoint_id: str) -> None:
    _call(_client().v1.webhook_endpoints.delete, endpoint_id)


_RETRIEVERS = {
    "checkout.session": lambda c: c.v1.checkout.sessions,
    "charge": lambda c: c.v1.charges,
    "dispute": lambda c: c.v1.disputes,
    "invoice": lambda c: c.v1.invoices,
    "refund": lambda c: c.v1.refunds,
    "subscription": lambda c: c.v1.subscriptions,
    "payment_intent": lambda c: c.v1.payment_intents,
}


def retrieve_object(kind: str, object_id: str) -> dict[str, Any] | None:
    """An object as Stripe holds it now, in the pinned API version, as plain JSON; None
    when Stripe has no such object or the kind is not one the shop reads."""
    service = _RETRIEVERS.get(kind)
    if service is None:
        return None
    try:
        found = service(_client()).retrieve(object_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise _translate(exc) from exc
    except stripe.StripeError as exc:
        raise _translate(exc) from exc
    return as_dict(found)


def retrieve_event(event_id: str) -> dict[str, Any] | None:
    """The event as Stripe lists it (kept 30 days; in the version it was created in)."""
    try:
        found = _client().v1.events.retrieve(event_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise _translate(exc) from exc
    except stripe.StripeError as exc:
        raise _translate(exc) from exc
    return as_dict(found)


def subscription_plan_id(subscription_id: str) -> int | None:
    """The monthly gift a subscription was made for (its `monthly_gift_id` metadata)."""
    found = retrieve_object("subscription", subscription_id)
    raw = as_dict((found or {}).get("metadata")).get("monthly_gift_id")
    return row_id(raw) if isinstance(raw, str) else None


def payment_intent_for_invoice(invoice_id: str) -> str | None:
    """The PaymentIntent that paid an invoice, through Stripe's invoice payments."""
    page = _call(_client().v1.invoice_payments.list,
                 params={"invoice": invoice_id, "status": "paid", "limit": 10})
    for payment in page.data:
        intent = id_of(as_dict(as_dict(payment).get("payment")).get("payment_intent"))
        if intent:
            return intent
    return None
