"""Refund requests' statuses: the enum, the table of legal moves, the one setter."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from shop.orders.state import record_event
from shop.orders.timeline import EventKind
from shop.statuses import check_move

if TYPE_CHECKING:
    from shop.orders.models import Order
    from shop.payments.models import RefundRequest


class RefundStatus(StrEnum):
    REQUESTED = "requested"  # recorded; Stripe has not answered yet
    SUBMITTED = "submitted"  # Stripe accepted it; the order changes when Stripe confirms
    FAILED = "failed"  # Stripe refused it


TRANSITIONS: dict[RefundStatus, frozenset[RefundStatus]] = {
    RefundStatus.REQUESTED: frozenset({RefundStatus.SUBMITTED, RefundStatus.FAILED}),
    # Stripe accepted it, then it failed or was canceled (a closed card): nothing went back.
    RefundStatus.SUBMITTED: frozenset({RefundStatus.FAILED}),
    RefundStatus.FAILED: frozenset(),
}


class StripeRefundStatus(StrEnum):
    """A refund's status at Stripe (docs.stripe.com/api/refunds/object#refund_object-status)."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


# Only a refund that succeeded returned money; a pending one may still fail.
RETURNED = frozenset({StripeRefundStatus.SUCCEEDED})
# Refunds that will never return money (Stripe adds them back to the charge).
NEVER_RETURNED = frozenset({StripeRefundStatus.FAILED, StripeRefundStatus.CANCELED})


def set_status(refund: RefundRequest, new: RefundStatus, order: Order, *, event: EventKind,
               message: str, actor: str, data: dict[str, Any] | None = None) -> None:
    """Move the request to `new` and write `event` on the order's timeline; IllegalMove if
    the table does not allow it."""
    check_move(TRANSITIONS, f"refund request {refund.id}", refund.status, new)
    refund.status = new
    record_event(order, event, message, actor=actor, data=data)
