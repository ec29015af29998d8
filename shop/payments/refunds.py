"""Refunds staff ask for: reviewed first, recorded, sent to Stripe once, confirmed by Stripe.

A refund is two steps (Shopify's and Stripe's own dashboards do the same): the first
form shows what would happen; only the confirming form records a request and asks
Stripe. The review carries a marker of the refunds it saw, so a refund another staff
member made in between is reported with its amount instead of being doubled or shown
as the second person's own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shop.extensions import db
from shop.money import InvalidAmount, format_money, parse_amount
from shop.orders.models import Order
from shop.orders.state import REFUNDABLE, record_event
from shop.orders.timeline import EventKind
from shop.payments import client
from shop.payments.models import RefundRequest
from shop.payments.refund_state import RefundStatus, set_status
from shop.payments.values import Refund

log = logging.getLogger(__name__)

# Stripe's refund reasons (https://docs.stripe.com/api/refunds/create#create_refund-reason).
REASONS = ("requested_by_customer", "duplicate", "fraudulent")
REASON_LABELS = {
    "requested_by_customer": "requested by the donor",
    "duplicate": "duplicate payment",
    "fraudulent": "fraudulent payment",
}


class RefundError(ValueError):
    """The refund cannot be asked for; the message is for staff. Nothing changed."""


class RefundConflict(RefundError):
    """Another refund of the same order is in flight or was made since the review."""


def refundable_cents(order: Order) -> int:
    """What is left to refund, counting refunds asked for but not yet confirmed."""
    asked = db.session.scalar(
        db.select(db.func.coalesce(db.func.sum(RefundRequest.amount_cents), 0)).where(
            RefundRequest.order_id == order.id, RefundRequest.status != RefundStatus.FAILED
        )
    ) or 0
    return max(0, received_cents(order) - max(order.refunded_cents, int(asked)))


def received_cents(order: Order) -> int:
    return order.amount_received_cents or order.total_cents


def refund_requests(order: Order) -> Sequence[RefundRequest]:
    """Every refund staff asked for on this order, oldest first."""
    return db.session.scalars(
        db.select(RefundRequest).where(RefundRequest.order_id == order.id)
        .order_by(RefundRequest.id)
    ).all()


def unanswered(order: Order) -> RefundRequest | None:
    """A refund Stripe has not answered (it timed out): it must be asked again first."""
    found: RefundRequest | None = db.session.scalar(
        db.select(RefundRequest).where(RefundRequest.order_id == order.id,
                                       RefundRequest.status == RefundStatus.REQUESTED)
        .order_by(RefundRequest.id).limit(1)
    )
    return found


def marker(order: Order) -> str:
    """What a review saw: the newest refund request and Stripe's refunded total."""
    newest = db.session.scalar(
        db.select(db.func.max(RefundRequest.id)).where(RefundRequest.order_id == order.id)
    ) or 0
    return f"{newest}:{order.refunded_cents}"


def parse_refund_amount(text: str | None, currency: str) -> int:
    """The amount staff typed, in minor units. Required: a blank never means everything."""
    if text is None or not str(text).strip():
        raise RefundError("Please enter the amount to refund, e.g. 80.08.")
    try:
        cents = parse_amount(text, currency)
    except InvalidAmount as exc:
        raise RefundError(str(exc)) from exc
    if cents <= 0:
        raise RefundError("The amount to refund must be more than zero.")
    return cents


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def describe_request(order: Order, request: RefundRequest) -> str:
    """"$20.00 asked by ana@... at 2026-11-20 12:04 UTC, accepted by Stripe"."""
    state = {RefundStatus.REQUESTED: "Stripe has not answered yet",
             RefundStatus.SUBMITTED: "accepted by Stripe",
             RefundStatus.FAILED: "refused by Stripe" if request.stripe_refund_id is None
             else "failed at Stripe"}[request.status]
    return (f"{format_money(request.amount_cents, order.currency)} asked by "
            f"{request.requested_by} at {_when(request.created_at)}, {state}")


def check_refundable(order: Order, amount_cents: int, reason: str) -> int:
    """What is left to refund, or RefundError saying why this refund cannot be made."""
    if order.status not in REFUNDABLE or not order.stripe_payment_intent_id:
        raise RefundError(f"An order that is {order.status.replace('_', ' ')} cannot be "
                          "refunded here.")
    if reason not in REASONS:
        raise RefundError("Please choose a reason for the refund.")
    waiting = unanswered(order)
    if waiting is not None:
        raise RefundConflict(
            f"Another refund of this order is in flight: {describe_request(order, waiting)}. "
            "Ask Stripe again for that one first (it cannot be made twice); nothing else "
            "was sent."
        )
    left = refundable_cents(order)
    if left <= 0:
        raise RefundError("Nothing is left to refund on this order.")
    if amount_cents > left:
        raise RefundError(f"At most {format_money(left, order.currency)} can still be "
                          "refunded.")
    return left


@dataclass(frozen=True)
class RefundReview:
    """What the review page shows before anything is sent."""

    amount_cents: int
    reason: str
    left_cents: int
    received_cents: int
    refunded_cents: int
    earlier: Sequence[RefundRequest]
    marker: str

    @property
    def reason_label(self) -> str:
        return REASON_LABELS.get(self.reason, self.reason)


def review_refund(order: Order, amount_text: str | None, reason: str) -> RefundReview:
    """Check the refund staff typed and say what it would do. Changes nothing."""
    amount = parse_refund_amount(amount_text, order.currency)
    left = check_refundable(order, amount, reason)
    return RefundReview(amount_cents=amount, reason=reason, left_cents=left,
                        received_cents=received_cents(order),
                        refunded_cents=order.refunded_cents,
                        earlier=refund_requests(order), marker=marker(order))


def request_refund(
    order: Order, amount_cents: int, reason: str, *, form_token: str, actor: str,
    seen: str | None = None,
) -> tuple[RefundRequest, bool]:
    """Record the confirmed refund (flushed); True when it is new.

    The order row must be locked by the caller. A repeated confirmation (a double click)
    finds its own request. `seen` is the review's marker: when refunds changed since,
    RefundConflict names them and nothing is recorded.
    """
    existing = db.session.scalar(
        db.select(RefundRequest).where(RefundRequest.form_token == form_token)
    )
    if existing is not None:
        if existing.order_id != order.id:
            raise RefundError("This refund form belongs to another order; reload the page.")
        if existing.status == RefundStatus.FAILED:
            raise RefundError("Stripe refused this refund already; start again from the "
                              "order page.")
        return existing, False
    if seen and seen != marker(order):
        newer = [r for r in refund_requests(order) if r.id > _newest_seen(seen)]
        made = "; ".join(describe_request(order, r) for r in newer)
        if order.refunded_cents != _refunded_seen(seen):
            made = (made + "; " if made else "") + (
                f"Stripe now reports {format_money(order.refunded_cents, order.currency)} "
                "refunded in total")
        raise RefundConflict(
            f"While you were reviewing, the refunds of this order changed: {made}. "
            f"Nothing was refunded by you. "
            f"{format_money(refundable_cents(order), order.currency)} is left to refund; "
            "review again if more should go back."
        )
    check_refundable(order, amount_cents, reason)
    refund = RefundRequest(order_id=order.id, amount_cents=amount_cents, reason=reason,
                           form_token=form_token, requested_by=actor)
    db.session.add(refund)
    db.session.flush()
    record_event(order, EventKind.REFUND_REQUESTED,
                 f"Refund of {format_money(amount_cents, order.currency)} requested "
                 f"({reason})", actor=actor, data={"refund_request_id": refund.id})
    return refund, True


def _newest_seen(seen: str) -> int:
    head = seen.partition(":")[0]
    return int(head) if head.isdigit() else 0


def _refunded_seen(seen: str) -> int:
    tail = seen.partition(":")[2]
    return int(tail) if tail.isdigit() else -1


def send_refund(order: Order, refund: RefundRequest) -> None:
    """Ask Stripe for the refund with a key derived from the request: it happens once."""
    if refund.status == RefundStatus.SUBMITTED:
        return
    if refund.status == RefundStatus.FAILED:
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
        record_event(order, EventKind.REFUND_UNANSWERED,
                     "Stripe did not answer the refund request; it is asked again with the "
                     "same key, so it cannot be made twice", actor="stripe",
                     data={"refund_request_id": refund.id})
        raise
    except client.PaymentError as exc:
        refund.error = str(exc)[:1000]
        set_status(refund, RefundStatus.FAILED, order, event=EventKind.REFUND_FAILED,
                   message=f"Stripe refused the refund: {exc}"[:500], actor="stripe",
                   data={"refund_request_id": refund.id})
        raise
    refund.stripe_refund_id = result.id
    set_status(refund, RefundStatus.SUBMITTED, order, event=EventKind.REFUND_SUBMITTED,
               message=f"Stripe accepted the refund of "
                       f"{format_money(result.amount, order.currency)} ({result.id}); the "
                       "order changes when Stripe confirms it",
               actor="stripe", data={"refund_id": result.id})


def refund_failed_at_stripe(order: Order, refund: Refund) -> bool:
    """A refund staff asked for failed or was canceled at Stripe after it was accepted:
    it no longer counts as asked for, so what is left can be refunded again. True when a
    request of the shop's changed."""
    request = db.session.scalar(
        db.select(RefundRequest).where(RefundRequest.order_id == order.id,
                                       RefundRequest.stripe_refund_id == refund.id))
    if request is None or request.status == RefundStatus.FAILED:
        return False
    request.error = f"{refund.status} at Stripe: {refund.failure_reason or 'no reason given'}"
    set_status(request, RefundStatus.FAILED, order, event=EventKind.REFUND_FAILED,
               message=f"Refund {refund.id} of {format_money(refund.amount, order.currency)} "
                       f"{refund.status} at Stripe ({refund.failure_reason or 'no reason given'})"
                       "; it can be asked for again",
               actor="stripe", data={"refund_request_id": request.id, "refund_id": refund.id})
    return True
