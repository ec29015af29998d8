"""The order's statuses: the one enum, its table of legal moves, its named sets, its setter.

What a move sets off (receipts, unit places, the campaign's totals) is not here but in
shop.orders.lifecycle, which every caller goes through; this module only guards and
records the move itself.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from shop.orders.timeline import EventKind
from shop.statuses import IllegalMove

if TYPE_CHECKING:
    from shop.orders.models import Order, OrderEvent

log = logging.getLogger(__name__)


class OrderStatus(StrEnum):
    PENDING = "pending"
    AWAITING_PAYMENT = "awaiting_payment"  # a bank payment still settling
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    NEEDS_REVIEW = "needs_review"  # money arrived, but not as expected: staff look first
    FULFILLED = "fulfilled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DISPUTED = "disputed"
    DISPUTE_LOST = "dispute_lost"


S = OrderStatus

STATUS_LABELS: dict[OrderStatus, str] = {
    S.PENDING: "Waiting for payment",
    S.AWAITING_PAYMENT: "Payment processing",
    S.PAID: "Paid",
    S.FAILED: "Payment failed",
    S.EXPIRED: "Checkout expired",
    S.NEEDS_REVIEW: "Paid, under review",
    S.FULFILLED: "Shipped",
    S.PARTIALLY_REFUNDED: "Partly refunded",
    S.REFUNDED: "Refunded",
    S.DISPUTED: "Disputed",
    S.DISPUTE_LOST: "Dispute lost",
}

# Every legal move. Anything else is refused and written on the timeline.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.AWAITING_PAYMENT, S.PAID, S.FAILED, S.EXPIRED, S.NEEDS_REVIEW}),
    S.AWAITING_PAYMENT: frozenset({S.PAID, S.FAILED, S.EXPIRED, S.NEEDS_REVIEW}),
    S.PAID: frozenset({S.FULFILLED, S.PARTIALLY_REFUNDED, S.REFUNDED, S.DISPUTED,
                       S.NEEDS_REVIEW}),
    S.NEEDS_REVIEW: frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED, S.DISPUTED}),
    S.FULFILLED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED, S.DISPUTED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED, S.DISPUTED,
                                     S.FULFILLED, S.NEEDS_REVIEW}),
    S.DISPUTED: frozenset({S.PAID, S.FULFILLED, S.PARTIALLY_REFUNDED, S.REFUNDED,
                           S.NEEDS_REVIEW, S.DISPUTE_LOST}),
    # Closed without money: the only way out is money that still arrives, for staff to see.
    S.FAILED: frozenset({S.NEEDS_REVIEW}),
    S.EXPIRED: frozenset({S.NEEDS_REVIEW}),
    # The money went back: it comes back only when a refund fails after succeeding (staff
    # look), or when the charity appeals a lost dispute (disputed again).
    S.REFUNDED: frozenset({S.NEEDS_REVIEW}),
    S.DISPUTE_LOST: frozenset({S.DISPUTED}),
}

# The named sets: every rule that asks "is the order in one of these?" uses one of them.

# Checkout made, money not yet confirmed.
OPEN = frozenset({S.PENDING, S.AWAITING_PAYMENT})
# Closed without money: a payment that still arrives goes to staff for review (needs_review).
CLOSED = frozenset({S.FAILED, S.EXPIRED})
# Money was received and the shop still holds it (perhaps under review or dispute).
MONEY_RECEIVED = frozenset({S.PAID, S.FULFILLED, S.PARTIALLY_REFUNDED, S.NEEDS_REVIEW,
                            S.DISPUTED})
# The money went back to the donor: nothing ships; only money coming back moves it again.
MONEY_RETURNED = frozenset({S.REFUNDED, S.DISPUTE_LOST})
# Money that arrived and stayed: counted towards the campaign. Not counted: needs_review
# (staff have not accepted it), disputed (the bank holds it), dispute_lost and refunded.
COUNTED_IN_CAMPAIGN = frozenset({S.PAID, S.FULFILLED, S.PARTIALLY_REFUNDED})
# Orders whose join-a-unit packages hold places in units (shop.units).
HOLDS_UNIT_PLACES = frozenset({S.PAID, S.FULFILLED, S.PARTIALLY_REFUNDED})
# The status says refunds went back: a refund that fails after succeeding makes it untrue,
# so the order goes to staff (needs_review).
SAYS_REFUNDED = frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED})
# Staff may ask Stripe to refund these.
REFUNDABLE = frozenset({S.PAID, S.FULFILLED, S.PARTIALLY_REFUNDED, S.NEEDS_REVIEW})


class IllegalTransition(IllegalMove):
    def __init__(self, order: Order, new: str) -> None:
        super().__init__(f"order {order.number}", order.status, new)
        self.order = order


def can_move(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())  # type: ignore[call-overload]


def label(status: str) -> str:
    """Words for a status, for donors and staff."""
    try:
        return STATUS_LABELS[OrderStatus(status)]
    except ValueError:
        return status


def record_event(
    order: Order,
    kind: EventKind,
    message: str,
    *,
    actor: str,
    data: dict[str, Any] | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
) -> OrderEvent:
    """Append an entry to the order's timeline (flushed with the caller's transaction)."""
    event = order.add_event(kind=kind, message=message, actor=actor, data=data,
                            from_status=from_status, to_status=to_status)
    log.info("order %s: %s: %s (%s)", order.number, kind, message, actor)
    return event


def set_status(
    order: Order, new: str, *, reason: str, actor: str, data: dict[str, Any] | None = None
) -> OrderEvent:
    """Move the order to `new`, or raise IllegalTransition. The only writer of status.

    This only moves and records; shop.orders.lifecycle.move also runs what entering the
    new status sets off, and is what the rest of the shop calls.
    """
    try:
        target = OrderStatus(new)
    except ValueError:
        raise ValueError(f"unknown order status {new!r}") from None
    old = order.status
    if not can_move(old, target):
        raise IllegalTransition(order, target)
    order.status = target
    return record_event(
        order, EventKind.STATUS, reason, actor=actor, data=data, from_status=old, to_status=target
    )


def move_or_record(
    order: Order, new: str, *, reason: str, actor: str, data: dict[str, Any] | None = None
) -> bool:
    """Apply a move that outside events ask for; an illegal one goes on the timeline only."""
    try:
        set_status(order, new, reason=reason, actor=actor, data=data)
    except IllegalTransition:
        log.warning("order %s: refused %s -> %s (%s)", order.number, order.status, new, reason)
        record_event(
            order,
            EventKind.REFUSED,
            f"Not applied: {order.status} -> {new} ({reason})",
            actor=actor,
            data=data,
            from_status=order.status,
            to_status=new,
        )
        return False
    return True
