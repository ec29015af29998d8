"""Webhook events in: store each once by its Stripe id, then move the order it is about."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from shop.extensions import db, utcnow
from shop.orders import service as orders
from shop.orders.models import Order
from shop.payments.client import (
    CheckoutSession,
    retrieve_checkout_session,
    session_from_object,
)
from shop.payments.models import StripeEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: str  # processed | ignored | duplicate | unmatched
    detail: str
    order_number: str | None = None

    @property
    def http_status(self) -> int:
        # Unmatched events answer 400 so Stripe delivers them again; we keep them too.
        return 400 if self.status == "unmatched" else 200


Handler = Callable[[dict[str, Any], StripeEvent], Outcome]


def _claim(event: dict[str, Any]) -> StripeEvent:
    """The event's row, locked; created on first sight. Concurrent twins wait here."""
    query = db.select(StripeEvent).where(StripeEvent.stripe_id == event["id"]).with_for_update()
    row = db.session.scalar(query)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = StripeEvent(
                stripe_id=event["id"],
                type=str(event["type"]),
                livemode=bool(event.get("livemode")),
                stripe_created=event.get("created") if isinstance(event.get("created"), int)
                else None,
                payload=event,
            )
            db.session.add(row)
    except IntegrityError:
        # Another delivery of the same event inserted it first; wait for its verdict.
        row = db.session.scalar(query)
        if row is None:  # pragma: no cover - the other insert rolled back and vanished
            raise
    return row


def receive_event(event: dict[str, Any]) -> Outcome:
    """Record and act on one verified event. Flushes; the caller commits."""
    row = _claim(event)
    if row.status in ("processed", "ignored"):
        log.info("stripe event %s (%s) already handled", row.stripe_id, row.type)
        return Outcome("duplicate", f"event already {row.status}")
    row.attempts += 1
    handler = HANDLERS.get(row.type)
    if handler is None:
        outcome = Outcome("ignored", f"event type {row.type} is not used by the shop")
    else:
        outcome = handler(event, row)
    row.status = "unmatched" if outcome.status == "unmatched" else outcome.status
    row.detail = outcome.detail
    if outcome.status != "unmatched":
        row.processed_at = utcnow()
    log.info(
        "stripe event %s %s: %s (%s) order=%s",
        row.stripe_id, row.type, outcome.status, outcome.detail, outcome.order_number,
    )
    return outcome


def find_order_for_session(session: CheckoutSession) -> Order | None:
    """The order a checkout session pays for, locked; None when we have no such order."""
    order_id = session.order_id
    if order_id is None:
        return None
    order = orders.lock_order(order_id)
    if order is None:
        return None
    number = session.metadata.get("order_number")
    if number and number != order.number:
        return None  # an id from another database (e.g. a reset test shop)
    return order


def apply_session(session: CheckoutSession, order: Order, *, kind: str, source: str) -> bool:
    """Move the order as a checkout session event of this kind says. Idempotent."""
    report = orders.PaymentReport(
        session_id=session.id,
        payment_intent_id=session.payment_intent_id,
        amount_cents=session.amount_total,
        currency=session.currency,
        source=source,
    )
    actor = "stripe"
    if kind in ("completed", "async_payment_succeeded"):
        if session.payment_status in ("paid", "no_payment_required"):
            return orders.mark_paid(order, report, actor=actor)
        if kind == "completed" and session.payment_status == "unpaid":
            return orders.mark_awaiting_payment(order, report, actor=actor)
        return False
    if kind == "async_payment_failed":
        return orders.mark_failed(order, report, actor=actor)
    if kind == "expired":
        return orders.mark_expired(order, report, actor=actor)
    raise ValueError(f"unknown checkout session event kind {kind}")


def _checkout_session_handler(kind: str) -> Handler:
    def handle(event: dict[str, Any], row: StripeEvent) -> Outcome:
        session = session_from_object(event["data"]["object"])
        if session.order_id is None:
            return Outcome("ignored", "not a checkout session made by the shop")
        order = find_order_for_session(session)
        if order is None:
            return Outcome("unmatched", f"no order {session.order_id} for session {session.id}")
        row.order_id = order.id
        changed = apply_session(session, order, kind=kind, source=f"webhook {row.stripe_id}")
        detail = f"order is {order.status}" + ("" if changed else " (unchanged)")
        return Outcome("processed", detail, order.number)

    return handle


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _checkout_session_handler("completed"),
    "checkout.session.async_payment_succeeded": _checkout_session_handler(
        "async_payment_succeeded"
    ),
    "checkout.session.async_payment_failed": _checkout_session_handler("async_payment_failed"),
    "checkout.session.expired": _checkout_session_handler("expired"),
}


def confirm_on_return(order: Order, session_id: str) -> bool:
    """The donor came back from Checkout: ask Stripe for the session and apply it.

    Stripe recommends this next to the webhook, so a donor who arrives first still
    sees the truth. Raises PaymentError when Stripe cannot be reached.
    """
    if order.stripe_session_id is not None and session_id != order.stripe_session_id:
        return False
    session = retrieve_checkout_session(session_id)
    if session.order_id != order.id:
        return False
    locked = find_order_for_session(session)
    if locked is None:
        return False
    if session.status == "complete":
        return apply_session(session, locked, kind="completed", source="return from Checkout")
    if session.status == "expired":
        return apply_session(session, locked, kind="expired", source="return from Checkout")
    return False
