"""Side effects' kinds and statuses: the enums, the table of legal moves, the one setter."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from shop.orders.state import record_event
from shop.orders.timeline import EventKind
from shop.statuses import check_move

if TYPE_CHECKING:
    from shop.orders.models import Order, SideEffect

log = logging.getLogger(__name__)


class SideEffectKind(StrEnum):
    RECEIPT = "receipt"
    PACKING_ORDER = "packing_order"
    DISPUTE_ALERT = "dispute_alert"
    DEDICATION_NOTICE = "dedication_notice"
    PAYMENT_FAILED_NOTICE = "payment_failed_notice"
    UNIT_PACKING_ORDER = "unit_packing_order"
    # The messages a donor gets about what happens next (shop.notifications.donor_messages).
    BANK_TRANSFER_NOTICE = "bank_transfer_notice"
    REFUND_NOTICE = "refund_notice"
    SHIPPED_NOTICE = "shipped_notice"
    NOTE_LEFT_OUT_NOTICE = "note_left_out_notice"
    MONTHLY_CANCELLED_NOTICE = "monthly_cancelled_notice"  # belongs to the plan
    REFUND_FAILED_ALERT = "refund_failed_alert"  # a refund failed after it succeeded


class SideEffectStatus(StrEnum):
    PENDING = "pending"  # to be done: a task is on its way, or the sweep sends one
    HELD = "held"  # waits for staff (a note to read) or for a dispute to end
    DONE = "done"
    FAILED = "failed"  # after the last retry: staff look
    CANCELLED = "cancelled"  # the money went back before it was done


K = SideEffectKind
E = SideEffectStatus

LABELS: dict[SideEffectKind, str] = {
    K.RECEIPT: "Receipt",
    K.PACKING_ORDER: "Packing order",
    K.DISPUTE_ALERT: "Staff alert",
    K.DEDICATION_NOTICE: "Dedication notice",
    K.PAYMENT_FAILED_NOTICE: "Failed payment notice",
    K.UNIT_PACKING_ORDER: "Unit packing order",
    K.BANK_TRANSFER_NOTICE: "Bank transfer notice",
    K.REFUND_NOTICE: "Refund notice",
    K.SHIPPED_NOTICE: "Shipping notice",
    K.NOTE_LEFT_OUT_NOTICE: "Note left out notice",
    K.MONTHLY_CANCELLED_NOTICE: "Cancellation confirmation",
    K.REFUND_FAILED_ALERT: "Failed refund alert",
}

# Emails to a donor or a family, sent by the notices.send task.
NOTICES = frozenset({K.DEDICATION_NOTICE, K.PAYMENT_FAILED_NOTICE, K.BANK_TRANSFER_NOTICE,
                     K.REFUND_NOTICE, K.SHIPPED_NOTICE, K.NOTE_LEFT_OUT_NOTICE,
                     K.MONTHLY_CANCELLED_NOTICE})

TRANSITIONS: dict[SideEffectStatus, frozenset[SideEffectStatus]] = {
    # pending -> pending: staff ask again for one not yet done (its deadline starts over).
    E.PENDING: frozenset({E.PENDING, E.DONE, E.FAILED, E.HELD, E.CANCELLED}),
    E.HELD: frozenset({E.PENDING, E.CANCELLED}),
    E.FAILED: frozenset({E.PENDING, E.HELD, E.CANCELLED}),
    # A receipt sent can be sent again at the donor's request.
    E.DONE: frozenset({E.PENDING}),
    # A cancelled unit packing order is armed again when its unit fills again; staff may
    # still send a cancelled receipt.
    E.CANCELLED: frozenset({E.PENDING}),
}

# Not done yet and not given up: what a refund cancels and what a dispute holds.
UNSENT = frozenset({E.PENDING, E.HELD, E.FAILED})
# What the money going back cancels (an alert or notice still goes out).
CANCELLED_BY_REFUND = frozenset({K.RECEIPT, K.PACKING_ORDER})


def set_status(effect: SideEffect, new: SideEffectStatus, *, timeline: Iterable[Order] = (),
               event: EventKind | None = None, message: str = "", actor: str = "system",
               data: dict[str, Any] | None = None) -> None:
    """Move the side effect to `new`, or raise IllegalMove. The only writer of its status.

    With `event`, the entry (kind `event`, `message`) is written on the timeline of every
    order in `timeline`: the effect's order, or each order with a package in its unit.
    """
    check_move(TRANSITIONS, f"side effect {effect.id} ({effect.kind})", effect.status, new)
    effect.status = new
    if event is not None:
        for order in timeline:
            record_event(order, event, message, actor=actor, data=data)
