"""The order state machine: one table of legal moves and the one function that moves."""

from __future__ import annotations

import logging
from typing import Any

from shop.orders.models import Order, OrderEvent

log = logging.getLogger(__name__)

STATUS_LABELS = {
    "pending": "Waiting for payment",
    "awaiting_payment": "Payment processing",
    "paid": "Paid",
    "failed": "Payment failed",
    "expired": "Checkout expired",
    "needs_review": "Paid, under review",
    "fulfilled": "Shipped",
    "partially_refunded": "Partly refunded",
    "refunded": "Refunded",
    "disputed": "Disputed",
    "dispute_lost": "Dispute lost",
}

# Every legal move. Anything else is refused and written on the timeline.
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"awaiting_payment", "paid", "failed", "expired", "needs_review"}),
    "awaiting_payment": frozenset({"paid", "failed", "expired", "needs_review"}),
    "paid": frozenset({"fulfilled", "partially_refunded", "refunded", "disputed", "needs_review"}),
    "needs_review": frozenset({"paid", "partially_refunded", "refunded", "disputed"}),
    "fulfilled": frozenset({"partially_refunded", "refunded", "disputed"}),
    "partially_refunded": frozenset({"partially_refunded", "refunded", "disputed", "fulfilled"}),
    "disputed": frozenset(
        {"paid", "fulfilled", "partially_refunded", "refunded", "needs_review", "dispute_lost"}
    ),
    "failed": frozenset(),
    "expired": frozenset(),
    "refunded": frozenset(),
    "dispute_lost": frozenset(),
}

# Money was received and still counts: these orders may ship and appear in totals.
PAID_STATUSES = frozenset({"paid", "fulfilled", "partially_refunded", "needs_review", "disputed"})
OPEN_STATUSES = frozenset({"pending", "awaiting_payment"})


class IllegalTransition(Exception):
    def __init__(self, order: Order, new: str) -> None:
        super().__init__(f"order {order.number}: {order.status} -> {new} is not allowed")
        self.order = order
        self.new = new


def can_move(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def record_event(
    order: Order,
    kind: str,
    message: str,
    *,
    actor: str,
    data: dict[str, Any] | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
) -> OrderEvent:
    """Append an entry to the order's timeline (flushed with the caller's transaction)."""
    event = OrderEvent(
        kind=kind,
        message=message,
        actor=actor,
        data=data,
        from_status=from_status,
        to_status=to_status,
    )
    order.events.append(event)
    log.info("order %s: %s: %s (%s)", order.number, kind, message, actor)
    return event


def set_status(
    order: Order, new: str, *, reason: str, actor: str, data: dict[str, Any] | None = None
) -> OrderEvent:
    """Move the order to `new`, or raise IllegalTransition. The only writer of status."""
    if new not in STATUS_LABELS:
        raise ValueError(f"unknown order status {new!r}")
    old = order.status
    if not can_move(old, new):
        raise IllegalTransition(order, new)
    order.status = new
    return record_event(
        order, "status", reason, actor=actor, data=data, from_status=old, to_status=new
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
            "refused",
            f"Not applied: {order.status} -> {new} ({reason})",
            actor=actor,
            data=data,
            from_status=order.status,
            to_status=new,
        )
        return False
    return True
