"""One handler per Stripe event type the shop acts on."""

from __future__ import annotations

from typing import Any

from shop.payments import client
from shop.payments.events import Handler, Outcome
from shop.payments.models import StripeEvent
from shop.payments.service import (
    apply_dispute,
    apply_refunded_charge,
    apply_session,
    find_order_for_payment,
    find_order_for_session,
)


def _checkout_session(kind: str) -> Handler:
    def handle(event: dict[str, Any], row: StripeEvent) -> Outcome:
        session = client.session_from_object(event["data"]["object"])
        if session.order_id is None:
            return Outcome("ignored", "not a checkout session made by the shop")
        order = find_order_for_session(session)
        if order is None:
            return Outcome("unmatched", f"no order {session.order_id} for session {session.id}")
        row.order_id = order.id
        changed = apply_session(session, order, kind=kind, source=f"webhook {row.stripe_id}")
        return Outcome("processed", f"order is {order.status}" + ("" if changed
                       else " (unchanged)"), order.number)

    return handle


def _charge_refunded(event: dict[str, Any], row: StripeEvent) -> Outcome:
    charge = client.charge_from_object(event["data"]["object"])
    if not charge.payment_intent_id:
        return Outcome("ignored", "charge without a payment intent")
    found = find_order_for_payment(charge.payment_intent_id)
    if found.order is None:
        if found.ours:
            return Outcome("unmatched", f"no order for payment {charge.payment_intent_id}")
        return Outcome("ignored", "not a payment made through the shop")
    row.order_id = found.order.id
    changed = apply_refunded_charge(charge, found.order, source=f"webhook {row.stripe_id}")
    return Outcome("processed", f"order is {found.order.status}" + ("" if changed
                   else " (unchanged)"), found.order.number)


def _dispute(event: dict[str, Any], row: StripeEvent) -> Outcome:
    dispute = client.dispute_from_object(event["data"]["object"])
    if not dispute.payment_intent_id:
        return Outcome("ignored", "dispute without a payment intent")
    found = find_order_for_payment(dispute.payment_intent_id)
    if found.order is None:
        if found.ours:
            return Outcome("unmatched", f"no order for payment {dispute.payment_intent_id}")
        return Outcome("ignored", "not a payment made through the shop")
    row.order_id = found.order.id
    changed = apply_dispute(dispute, found.order, source=f"webhook {row.stripe_id}")
    return Outcome("processed", f"order is {found.order.status}" + ("" if changed
                   else " (unchanged)"), found.order.number)


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _checkout_session("completed"),
    "checkout.session.async_payment_succeeded": _checkout_session("async_payment_succeeded"),
    "checkout.session.async_payment_failed": _checkout_session("async_payment_failed"),
    "checkout.session.expired": _checkout_session("expired"),
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute,
    "charge.dispute.closed": _dispute,
    "charge.dispute.updated": _dispute,
}
