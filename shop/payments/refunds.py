"""Refunds staff ask for: recorded first, sent to Stripe once, confirmed by Stripe's event."""

from __future__ import annotations

import logging

from shop.extensions import db
from shop.money import format_money
from shop.orders.models import Order
from shop.orders.state import REFUNDABLE, record_event
from shop.payments import client
from shop.payments.models import RefundRequest
from shop.payments.refund_state import RefundStatus, set_status

log = logging.getLogger(__name__)

REASONS = ("requested_by_customer", "duplicate", "fraudulent")


class RefundError(ValueError):
    """The refund cannot be asked for; the message is for staff."""


def refundable_cents(order: Order) -> int:
    """What is left to refund, counting refunds asked for but not yet confirmed."""
    asked = db.session.scalar(
        db.select(db.func.coalesce(db.func.sum(RefundRequest.amount_cents), 0)).where(
            RefundRequest.order_id == order.id, RefundRequest.status != RefundStatus.FAILED
        )
    ) or 0
    received = order.amount_received_cents or order.total_cents
    return max(0, received - max(order.refunded_cents, int(asked)))


def request_refund(
    order: Order, amount_cents: int | None, reason: str, *, form_token: str, actor: str
) -> RefundRequest:
    """Record the refund staff asked for (flushed). A repeated form finds the same request."""
    existing = db.session.scalar(
        db.select(RefundRequest).where(RefundRequest.form_token == form_token)
    )
    if existing is not None:
        if existing.order_id != order.id:
            raise RefundError("This refund form belongs to another order; reload the page.")
        return existing
    unanswered = db.session.scalar(
        db.select(RefundRequest).where(RefundRequest.order_id == order.id,
                                       RefundRequest.status == RefundStatus.REQUESTED)
    )
    if unanswered is not None:
        # Stripe never answered it: ask again with its key first, it can only refund once.
        return unanswered
    if order.status not in REFUNDABLE or not order.stripe_payment_intent_id:
        raise RefundError(f"An order that is {order.status} cannot be refunded here.")
    if reason not in REASONS:
        raise RefundError("Please choose a reason for the refund.")
    left = refundable_cents(order)
    amount = left if amount_cents is None else amount_cents
    if amount <= 0 or left <= 0:
        raise RefundError("Nothing is left to refund on this order.")
    if amount > left:
        raise RefundError(
            f"At most {format_money(left, order.currency)} can still be refunded."
        )
    refund = RefundRequest(order_id=order.id, amount_cents=amount, reason=reason,
                           form_token=form_token, requested_by=actor)
    db.session.add(refund)
    db.session.flush()
    record_event(order, "refund_requested",
                 f"Refund of {format_money(amount, order.currency)} requested ({reason})",
                 actor=actor, data={"refund_request_id": refund.id})
    return refund


def send_refund(order: Order, refund: RefundRequest) -> None:
    """Ask Stripe for the refund with a key derived from the request: it happens once."""
    if refund.status == RefundStatus.SUBMITTED:
        return
    if refund.status == RefundStatus.FAILED:
        # A resubmitted form: Stripe would replay its refusal for the same key.
        raise client.PaymentError(refund.error or "Stripe refused the refund")
    assert order.stripe_payment_intent_id is not None
    try:
        result = client.create_refund(
            payment_intent_id=order.stripe_payment_intent_id,
            amount_cents=refund.amount_cents,
            reason=refund.reason,
            metadata={"order_id": str(order.id), "refund_request_id": str(refund.id)},
            idempotency_key=f"refund-{order.number}-{refund.id}",
        )
    except client.PaymentOutcomeUnknown as exc:
        refund.error = str(exc)[:1000]
        record_event(order, "refund_unanswered",
                     "Stripe did not answer the refund request; it is asked again with the "
                     "same key, so it cannot be made twice", actor="stripe",
                     data={"refund_request_id": refund.id})
        raise
    except client.PaymentError as exc:
        refund.error = str(exc)[:1000]
        set_status(refund, RefundStatus.FAILED, order, event="refund_failed",
                   message=f"Stripe refused the refund: {exc}"[:500], actor="stripe",
                   data={"refund_request_id": refund.id})
        raise
    refund.stripe_refund_id = result.id
    set_status(refund, RefundStatus.SUBMITTED, order, event="refund_submitted",
               message=f"Stripe accepted the refund of "
                       f"{format_money(result.amount, order.currency)} ({result.id}); the "
                       "order changes when Stripe confirms it",
               actor="stripe", data={"refund_id": result.id})
