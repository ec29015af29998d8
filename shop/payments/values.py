"""Plain values of what Stripe returns: sessions, charges, refunds, disputes, invoices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shop.text import row_id


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

    invoice_id: str | None = None

    @property
    def order_id(self) -> int | None:
        if self.mode == "subscription":
            return None
        raw = self.metadata.get("order_id") or self.client_reference_id
        return row_id(raw)

    @property
    def monthly_gift_id(self) -> int | None:
        raw = self.metadata.get("monthly_gift_id")
        return row_id(raw) if self.mode == "subscription" else None


@dataclass(frozen=True)
class LineItem:
    name: str
    unit_amount: int
    quantity: int
    description: str = ""
    monthly: bool = False  # a recurring price, billed every month (subscription mode)


def as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return dict(obj)
    to_dict = getattr(obj, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else dict(obj)


def session_from_object(obj: Any) -> CheckoutSession:
    """A checkout.session from the API or from an event payload, as a plain value."""
    data = as_dict(obj)
    details = as_dict(data.get("customer_details"))
    return CheckoutSession(
        id=str(data["id"]),
        status=data.get("status"),
        payment_status=data.get("payment_status"),
        mode=data.get("mode"),
        url=data.get("url"),
        amount_total=data.get("amount_total"),
        currency=(data.get("currency") or None),
        payment_intent_id=id_of(data.get("payment_intent")),
        subscription_id=id_of(data.get("subscription")),
        customer_id=id_of(data.get("customer")),
        client_reference_id=data.get("client_reference_id"),
        customer_email=details.get("email") or data.get("customer_email"),
        customer_name=details.get("name"),
        created=data.get("created"),
        metadata={str(k): str(v) for k, v in as_dict(data.get("metadata")).items()},
        invoice_id=id_of(data.get("invoice")),
    )


def id_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(as_dict(value).get("id")) or None


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
    failure_reason: str | None = None


def charge_from_object(obj: Any) -> Charge:
    data = as_dict(obj)
    return Charge(
        id=str(data["id"]),
        payment_intent_id=id_of(data.get("payment_intent")),
        amount=int(data.get("amount") or 0),
        amount_refunded=int(data.get("amount_refunded") or 0),
        currency=str(data.get("currency") or ""),
        refunded=bool(data.get("refunded")),
        disputed=bool(data.get("disputed")),
    )


def dispute_from_object(obj: Any) -> Dispute:
    data = as_dict(obj)
    return Dispute(
        id=str(data["id"]),
        charge_id=id_of(data.get("charge")),
        payment_intent_id=id_of(data.get("payment_intent")),
        amount=int(data.get("amount") or 0),
        currency=str(data.get("currency") or ""),
        reason=str(data.get("reason") or "unknown"),
        status=str(data.get("status") or ""),
    )


def refund_from_object(obj: Any) -> Refund:
    data = as_dict(obj)
    return Refund(
        id=str(data["id"]),
        amount=int(data.get("amount") or 0),
        currency=str(data.get("currency") or ""),
        status=data.get("status"),
        charge_id=id_of(data.get("charge")),
        payment_intent_id=id_of(data.get("payment_intent")),
        metadata={str(k): str(v) for k, v in as_dict(data.get("metadata")).items()},
        failure_reason=data.get("failure_reason"),
    )


@dataclass(frozen=True)
class Invoice:
    id: str
    subscription_id: str | None
    customer_id: str | None
    amount_paid: int
    amount_due: int
    currency: str
    status: str | None
    billing_reason: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    # Only invoices rendered before 2025-03-31.basil name their payment; later ones are
    # found through invoice payments.
    payment_intent_id: str | None = None
    attempted: bool = False  # Stripe tried to charge it (an open one: the charge failed)

    @property
    def monthly_gift_id(self) -> int | None:
        raw = self.metadata.get("monthly_gift_id")
        return row_id(raw)


@dataclass(frozen=True)
class Subscription:
    id: str
    status: str
    customer_id: str | None
    cancellation_reason: str | None
    metadata: dict[str, str] = field(default_factory=dict)


def invoice_from_object(obj: Any) -> Invoice:
    """An invoice in either shape: since API 2025-03-31.basil its subscription and the
    subscription's metadata sit under `parent.subscription_details`; before, `subscription`
    and `subscription_details.metadata` were at its top level, with its `payment_intent`."""
    data = as_dict(obj)
    details = as_dict(as_dict(data.get("parent")).get("subscription_details"))
    if not details and data.get("subscription"):
        details = as_dict(data.get("subscription_details")) | {
            "subscription": data.get("subscription")}
    return Invoice(
        id=str(data["id"]),
        subscription_id=id_of(details.get("subscription")),
        customer_id=id_of(data.get("customer")),
        amount_paid=int(data.get("amount_paid") or 0),
        amount_due=int(data.get("amount_due") or 0),
        currency=str(data.get("currency") or ""),
        status=data.get("status"),
        billing_reason=data.get("billing_reason"),
        metadata={str(k): str(v) for k, v in as_dict(details.get("metadata")).items()},
        payment_intent_id=id_of(data.get("payment_intent")),
        attempted=bool(data.get("attempted")),
    )


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str
    api_version: str | None  # None: the account's default version
    enabled_events: tuple[str, ...]
    status: str  # enabled | disabled
    metadata: dict[str, str] = field(default_factory=dict)


def webhook_endpoint_from_object(obj: Any) -> WebhookEndpoint:
    data = as_dict(obj)
    return WebhookEndpoint(
        id=str(data["id"]),
        url=str(data.get("url") or ""),
        api_version=data.get("api_version") or None,
        enabled_events=tuple(str(e) for e in data.get("enabled_events") or ()),
        status=str(data.get("status") or "enabled"),
        metadata={str(k): str(v) for k, v in as_dict(data.get("metadata")).items()},
    )


def subscription_from_object(obj: Any) -> Subscription:
    data = as_dict(obj)
    return Subscription(
        id=str(data["id"]),
        status=str(data.get("status") or ""),
        customer_id=id_of(data.get("customer")),
        cancellation_reason=as_dict(data.get("cancellation_details")).get("reason"),
        metadata={str(k): str(v) for k, v in as_dict(data.get("metadata")).items()},
    )
