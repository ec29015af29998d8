"""One handler per Stripe event type the shop acts on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shop.donations.models import MonthlyGift
from shop.orders.models import Order
from shop.payments import client, monthly
from shop.payments.event_state import EventStatus
from shop.payments.events import Handler, Outcome
from shop.payments.models import StripeEvent
from shop.payments.service import (
    apply_dispute,
    apply_refund,
    apply_refunded_charge,
    apply_session,
    find_order_for_payment,
    find_order_for_session,
)
from shop.text import row_id


def _checkout_session(kind: str) -> Handler:
    def handle(event: dict[str, Any], row: StripeEvent) -> Outcome:
        session = client.session_from_object(event["data"]["object"])
        if session.order_id is None:
            return Outcome(EventStatus.IGNORED, "not a checkout session made by the shop")
        order = find_order_for_session(session)
        if order is None:
            return Outcome(EventStatus.UNMATCHED,
                           f"no order {session.order_id} for session {session.id}")
        changed = apply_session(session, order, kind=kind, source=f"webhook {row.stripe_id}")
        row.order_id = order.id  # after: the event's row is written once, at the end
        return Outcome(EventStatus.PROCESSED, f"order is {order.status}" + ("" if changed
                       else " (unchanged)"), order.number)

    return handle


def _for_payment(
    row: StripeEvent, payment_intent_id: str | None, what: str,
    apply: Callable[[Order, str], bool],
) -> Outcome:
    """Find the order a refund or dispute is about, by its payment, and apply the event."""
    if not payment_intent_id:
        return Outcome(EventStatus.IGNORED, f"{what} without a payment intent")
    found = find_order_for_payment(payment_intent_id)
    if found.order is None:
        if found.ours:
            return Outcome(EventStatus.UNMATCHED, f"no order for payment {payment_intent_id}")
        return Outcome(EventStatus.IGNORED, "not a payment made through the shop")
    changed = apply(found.order, f"webhook {row.stripe_id}")
    row.order_id = found.order.id
    return Outcome(EventStatus.PROCESSED, f"order is {found.order.status}" + ("" if changed
                   else " (unchanged)"), found.order.number)


def _charge_refunded(event: dict[str, Any], row: StripeEvent) -> Outcome:
    charge = client.charge_from_object(event["data"]["object"])
    return _for_payment(row, charge.payment_intent_id, "charge",
                        lambda order, source: apply_refunded_charge(charge, order,
                                                                    source=source))


def _refund(event: dict[str, Any], row: StripeEvent) -> Outcome:
    """A refund's later fate: it settled, failed or was canceled (before or after it had
    succeeded). Stripe sends charge.refund.updated in every version, and refund.updated and
    refund.failed since 2024-10-28.acacia; each is read again, so the three agree."""
    refund = client.refund_from_object(event["data"]["object"])
    return _for_payment(row, refund.payment_intent_id, "refund",
                        lambda order, source: apply_refund(refund, order, source=source))


def _dispute(event: dict[str, Any], row: StripeEvent) -> Outcome:
    dispute = client.dispute_from_object(event["data"]["object"])
    return _for_payment(row, dispute.payment_intent_id, "dispute",
                        lambda order, source: apply_dispute(dispute, order, source=source))


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _checkout_session("completed"),
    "checkout.session.async_payment_succeeded": _checkout_session("async_payment_succeeded"),
    "checkout.session.async_payment_failed": _checkout_session("async_payment_failed"),
    "checkout.session.expired": _checkout_session("expired"),
    "charge.refunded": _charge_refunded,
    "charge.refund.updated": _refund,
    "refund.updated": _refund,
    "refund.failed": _refund,
    "charge.dispute.created": _dispute,
    "charge.dispute.closed": _dispute,
    "charge.dispute.updated": _dispute,
}


def _plan_outcome(plan_id: int | None, what: str) -> Outcome:
    if plan_id is None:
        return Outcome(EventStatus.IGNORED, f"{what} not made through the shop")
    return Outcome(EventStatus.UNMATCHED, f"no monthly gift {plan_id} for this {what}")


def _find_plan(subscription_id: str | None, plan_id: int | None,
               what: str) -> tuple[MonthlyGift | None, Outcome | None]:
    """The plan an invoice or subscription is about, or the outcome when there is none.

    A payload without the plan's id (another API version's shape, an invoice made before
    its subscription was linked) is never taken as "not ours" on its own word: Stripe is
    asked for the subscription's metadata first. Raises PaymentError when it cannot be.
    """
    plan, plan_id = monthly.find_plan_asking_stripe(subscription_id, plan_id)
    if plan is None:
        return None, _plan_outcome(plan_id, what)
    return plan, None


def _subscription_session(event: dict[str, Any], row: StripeEvent) -> Outcome | None:
    """checkout.session.completed in subscription mode: the monthly plan starts."""
    session = client.session_from_object(event["data"]["object"])
    if session.mode != "subscription":
        return None
    plan = monthly.find_plan(session.subscription_id, session.monthly_gift_id)
    if plan is None:
        return _plan_outcome(session.monthly_gift_id, "subscription session")
    changed = monthly.apply_completed_session(session, plan, source=f"webhook {row.stripe_id}")
    return Outcome(EventStatus.PROCESSED, f"monthly gift {plan.id} is {plan.status}"
                   + ("" if changed else " (unchanged)"))


def _invoice_paid(event: dict[str, Any], row: StripeEvent) -> Outcome:
    invoice = client.invoice_from_object(event["data"]["object"])
    plan, outcome = _find_plan(invoice.subscription_id, invoice.monthly_gift_id, "invoice")
    if plan is None:
        assert outcome is not None
        return outcome
    order = monthly.apply_invoice_paid(invoice, plan, source=f"webhook {row.stripe_id}")
    row.order_id = order.id
    return Outcome(EventStatus.PROCESSED, f"gift order is {order.status}", order.number)


def _invoice_failed(event: dict[str, Any], row: StripeEvent) -> Outcome:
    invoice = client.invoice_from_object(event["data"]["object"])
    plan, outcome = _find_plan(invoice.subscription_id, invoice.monthly_gift_id, "invoice")
    if plan is None:
        assert outcome is not None
        return outcome
    order = monthly.apply_invoice_failed(invoice, plan, source=f"webhook {row.stripe_id}")
    if order is None:
        return Outcome(EventStatus.PROCESSED, f"monthly gift {plan.id} has ended; no gift "
                       "waits for this invoice")
    row.order_id = order.id
    return Outcome(EventStatus.PROCESSED, f"monthly gift {plan.id} is {plan.status}", order.number)


def _subscription_deleted(event: dict[str, Any], row: StripeEvent) -> Outcome:
    subscription = client.subscription_from_object(event["data"]["object"])
    raw = subscription.metadata.get("monthly_gift_id")
    plan, outcome = _find_plan(subscription.id, row_id(raw),
                               "subscription")
    if plan is None:
        assert outcome is not None
        return outcome
    changed = monthly.apply_subscription_deleted(subscription, plan,
                                                 source=f"webhook {row.stripe_id}")
    return Outcome(EventStatus.PROCESSED,
                   "monthly gift cancelled" + ("" if changed else " (unchanged)"))


def _completed(event: dict[str, Any], row: StripeEvent) -> Outcome:
    return _subscription_session(event, row) or _checkout_session("completed")(event, row)


HANDLERS.update({
    "checkout.session.completed": _completed,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "customer.subscription.deleted": _subscription_deleted,
})
