"""The kinds of entry on an order's and a monthly plan's timeline, and staff's words for each.

Every `shop.orders.state.record_event` call names an `EventKind`; a side effect's outcome
is `effect_event(kind, outcome)`, so it is one of them too. Every `MonthlyGift.record`
call names a `PlanEventKind`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class EventKind(StrEnum):
    CREATED = "created"
    STATUS = "status"
    REFUSED = "refused"
    IGNORED = "ignored"
    QUEUED = "queued"
    CHECKOUT = "checkout"
    CHECKOUT_FAILED = "checkout_failed"
    RECONCILIATION = "reconciliation"
    NOTE_APPROVED = "note_approved"
    NOTE_REJECTED = "note_rejected"
    UNIT_PLACE = "unit_place"
    UNIT_RELEASE = "unit_release"
    UNIT_FULL = "unit_full"
    UNIT_REOPENED = "unit_reopened"
    UNIT_CLOSED = "unit_closed"
    UNIT_HELD = "unit_held"
    REFUND = "refund"
    REFUND_REQUESTED = "refund_requested"
    REFUND_SUBMITTED = "refund_submitted"
    REFUND_FAILED = "refund_failed"
    REFUND_UNANSWERED = "refund_unanswered"
    MONTHLY_CANCELLED = "monthly_cancelled"
    REFUND_REVERSED = "refund_reversed"
    REFUND_PENDING = "refund_pending"
    RECEIPT_DONE = "receipt_done"
    RECEIPT_RETRY = "receipt_retry"
    RECEIPT_FAILED = "receipt_failed"
    RECEIPT_REQUESTED = "receipt_requested"
    RECEIPT_CANCELLED = "receipt_cancelled"
    PACKING_ORDER_DONE = "packing_order_done"
    PACKING_ORDER_RETRY = "packing_order_retry"
    PACKING_ORDER_FAILED = "packing_order_failed"
    PACKING_ORDER_REQUESTED = "packing_order_requested"
    PACKING_ORDER_CANCELLED = "packing_order_cancelled"
    DISPUTE_ALERT_DONE = "dispute_alert_done"
    DISPUTE_ALERT_RETRY = "dispute_alert_retry"
    DISPUTE_ALERT_FAILED = "dispute_alert_failed"
    DISPUTE_ALERT_REQUESTED = "dispute_alert_requested"
    DISPUTE_ALERT_CANCELLED = "dispute_alert_cancelled"
    DEDICATION_NOTICE_DONE = "dedication_notice_done"
    DEDICATION_NOTICE_RETRY = "dedication_notice_retry"
    DEDICATION_NOTICE_FAILED = "dedication_notice_failed"
    DEDICATION_NOTICE_REQUESTED = "dedication_notice_requested"
    DEDICATION_NOTICE_CANCELLED = "dedication_notice_cancelled"
    PAYMENT_FAILED_NOTICE_DONE = "payment_failed_notice_done"
    PAYMENT_FAILED_NOTICE_RETRY = "payment_failed_notice_retry"
    PAYMENT_FAILED_NOTICE_FAILED = "payment_failed_notice_failed"
    PAYMENT_FAILED_NOTICE_REQUESTED = "payment_failed_notice_requested"
    PAYMENT_FAILED_NOTICE_CANCELLED = "payment_failed_notice_cancelled"
    UNIT_PACKING_ORDER_DONE = "unit_packing_order_done"
    UNIT_PACKING_ORDER_RETRY = "unit_packing_order_retry"
    UNIT_PACKING_ORDER_FAILED = "unit_packing_order_failed"
    UNIT_PACKING_ORDER_REQUESTED = "unit_packing_order_requested"
    UNIT_PACKING_ORDER_CANCELLED = "unit_packing_order_cancelled"
    REFUND_FAILED_ALERT_DONE = "refund_failed_alert_done"
    REFUND_FAILED_ALERT_RETRY = "refund_failed_alert_retry"
    REFUND_FAILED_ALERT_FAILED = "refund_failed_alert_failed"
    REFUND_FAILED_ALERT_REQUESTED = "refund_failed_alert_requested"
    REFUND_FAILED_ALERT_CANCELLED = "refund_failed_alert_cancelled"
    PACKING_ORDER_HELD = "packing_order_held"
    BANK_TRANSFER_NOTICE_DONE = "bank_transfer_notice_done"
    BANK_TRANSFER_NOTICE_RETRY = "bank_transfer_notice_retry"
    BANK_TRANSFER_NOTICE_FAILED = "bank_transfer_notice_failed"
    BANK_TRANSFER_NOTICE_REQUESTED = "bank_transfer_notice_requested"
    BANK_TRANSFER_NOTICE_CANCELLED = "bank_transfer_notice_cancelled"
    REFUND_NOTICE_DONE = "refund_notice_done"
    REFUND_NOTICE_RETRY = "refund_notice_retry"
    REFUND_NOTICE_FAILED = "refund_notice_failed"
    REFUND_NOTICE_REQUESTED = "refund_notice_requested"
    REFUND_NOTICE_CANCELLED = "refund_notice_cancelled"
    SHIPPED_NOTICE_DONE = "shipped_notice_done"
    SHIPPED_NOTICE_RETRY = "shipped_notice_retry"
    SHIPPED_NOTICE_FAILED = "shipped_notice_failed"
    SHIPPED_NOTICE_REQUESTED = "shipped_notice_requested"
    SHIPPED_NOTICE_CANCELLED = "shipped_notice_cancelled"
    NOTE_LEFT_OUT_NOTICE_DONE = "note_left_out_notice_done"
    NOTE_LEFT_OUT_NOTICE_RETRY = "note_left_out_notice_retry"
    NOTE_LEFT_OUT_NOTICE_FAILED = "note_left_out_notice_failed"
    NOTE_LEFT_OUT_NOTICE_REQUESTED = "note_left_out_notice_requested"
    NOTE_LEFT_OUT_NOTICE_CANCELLED = "note_left_out_notice_cancelled"
    MONTHLY_CANCELLED_NOTICE_DONE = "monthly_cancelled_notice_done"
    MONTHLY_CANCELLED_NOTICE_RETRY = "monthly_cancelled_notice_retry"
    MONTHLY_CANCELLED_NOTICE_FAILED = "monthly_cancelled_notice_failed"
    MONTHLY_CANCELLED_NOTICE_REQUESTED = "monthly_cancelled_notice_requested"
    MONTHLY_CANCELLED_NOTICE_CANCELLED = "monthly_cancelled_notice_cancelled"


K = EventKind

# What staff read on the order page for each kind; a status change shows the new status.
LABELS: dict[EventKind, str] = {
    K.CREATED: "Order placed",
    K.STATUS: "Status changed",
    K.REFUSED: "Change refused",
    K.IGNORED: "Ignored",
    K.QUEUED: "Queued",
    K.CHECKOUT: "Checkout",
    K.CHECKOUT_FAILED: "Checkout failed",
    K.RECONCILIATION: "Reconciliation",
    K.NOTE_APPROVED: "Note approved",
    K.NOTE_REJECTED: "Note rejected",
    K.UNIT_PLACE: "Placed in a unit",
    K.UNIT_RELEASE: "Taken out of a unit",
    K.UNIT_FULL: "Unit full",
    K.UNIT_REOPENED: "Unit open again",
    K.UNIT_CLOSED: "Unit ships as it is",
    K.UNIT_HELD: "Unit held",
    K.REFUND: "Refund",
    K.REFUND_REQUESTED: "Refund requested",
    K.REFUND_SUBMITTED: "Refund submitted",
    K.REFUND_FAILED: "Refund failed",
    K.REFUND_UNANSWERED: "Refund unanswered",
    K.MONTHLY_CANCELLED: "Monthly cancelled",
    K.REFUND_REVERSED: "Refund reversed",
    K.REFUND_PENDING: "Refund pending",
    K.RECEIPT_DONE: "Receipt sent",
    K.RECEIPT_RETRY: "Receipt retry",
    K.RECEIPT_FAILED: "Receipt failed",
    K.RECEIPT_REQUESTED: "Receipt requested again",
    K.RECEIPT_CANCELLED: "Receipt cancelled",
    K.PACKING_ORDER_DONE: "Packing order accepted",
    K.PACKING_ORDER_RETRY: "Packing order retry",
    K.PACKING_ORDER_FAILED: "Packing order failed",
    K.PACKING_ORDER_REQUESTED: "Packing order requested again",
    K.PACKING_ORDER_CANCELLED: "Packing order cancelled",
    K.DISPUTE_ALERT_DONE: "Dispute alert done",
    K.DISPUTE_ALERT_RETRY: "Dispute alert retry",
    K.DISPUTE_ALERT_FAILED: "Dispute alert failed",
    K.DISPUTE_ALERT_REQUESTED: "Dispute alert requested",
    K.DISPUTE_ALERT_CANCELLED: "Dispute alert cancelled",
    K.DEDICATION_NOTICE_DONE: "Dedication notice done",
    K.DEDICATION_NOTICE_RETRY: "Dedication notice retry",
    K.DEDICATION_NOTICE_FAILED: "Dedication notice failed",
    K.DEDICATION_NOTICE_REQUESTED: "Dedication notice requested",
    K.DEDICATION_NOTICE_CANCELLED: "Dedication notice cancelled",
    K.PAYMENT_FAILED_NOTICE_DONE: "Payment failed notice done",
    K.PAYMENT_FAILED_NOTICE_RETRY: "Payment failed notice retry",
    K.PAYMENT_FAILED_NOTICE_FAILED: "Payment failed notice failed",
    K.PAYMENT_FAILED_NOTICE_REQUESTED: "Payment failed notice requested",
    K.PAYMENT_FAILED_NOTICE_CANCELLED: "Payment failed notice cancelled",
    K.UNIT_PACKING_ORDER_DONE: "Unit packing order accepted",
    K.UNIT_PACKING_ORDER_RETRY: "Unit packing order retry",
    K.UNIT_PACKING_ORDER_FAILED: "Unit packing order failed",
    K.UNIT_PACKING_ORDER_REQUESTED: "Unit packing order requested again",
    K.UNIT_PACKING_ORDER_CANCELLED: "Unit packing order cancelled",
    K.REFUND_FAILED_ALERT_DONE: "Refund failed alert done",
    K.REFUND_FAILED_ALERT_RETRY: "Refund failed alert retry",
    K.REFUND_FAILED_ALERT_FAILED: "Refund failed alert failed",
    K.REFUND_FAILED_ALERT_REQUESTED: "Refund failed alert requested",
    K.REFUND_FAILED_ALERT_CANCELLED: "Refund failed alert cancelled",
    K.PACKING_ORDER_HELD: "Packing order held",
    K.BANK_TRANSFER_NOTICE_DONE: "Bank transfer notice sent",
    K.BANK_TRANSFER_NOTICE_RETRY: "Bank transfer notice retry",
    K.BANK_TRANSFER_NOTICE_FAILED: "Bank transfer notice failed",
    K.BANK_TRANSFER_NOTICE_REQUESTED: "Bank transfer notice requested again",
    K.BANK_TRANSFER_NOTICE_CANCELLED: "Bank transfer notice cancelled",
    K.REFUND_NOTICE_DONE: "Refund notice sent",
    K.REFUND_NOTICE_RETRY: "Refund notice retry",
    K.REFUND_NOTICE_FAILED: "Refund notice failed",
    K.REFUND_NOTICE_REQUESTED: "Refund notice requested again",
    K.REFUND_NOTICE_CANCELLED: "Refund notice cancelled",
    K.SHIPPED_NOTICE_DONE: "Shipping notice sent",
    K.SHIPPED_NOTICE_RETRY: "Shipping notice retry",
    K.SHIPPED_NOTICE_FAILED: "Shipping notice failed",
    K.SHIPPED_NOTICE_REQUESTED: "Shipping notice requested again",
    K.SHIPPED_NOTICE_CANCELLED: "Shipping notice cancelled",
    K.NOTE_LEFT_OUT_NOTICE_DONE: "Note left out notice sent",
    K.NOTE_LEFT_OUT_NOTICE_RETRY: "Note left out notice retry",
    K.NOTE_LEFT_OUT_NOTICE_FAILED: "Note left out notice failed",
    K.NOTE_LEFT_OUT_NOTICE_REQUESTED: "Note left out notice requested again",
    K.NOTE_LEFT_OUT_NOTICE_CANCELLED: "Note left out notice cancelled",
    K.MONTHLY_CANCELLED_NOTICE_DONE: "Cancellation confirmation sent",
    K.MONTHLY_CANCELLED_NOTICE_RETRY: "Cancellation confirmation retry",
    K.MONTHLY_CANCELLED_NOTICE_FAILED: "Cancellation confirmation failed",
    K.MONTHLY_CANCELLED_NOTICE_REQUESTED: "Cancellation confirmation requested again",
    K.MONTHLY_CANCELLED_NOTICE_CANCELLED: "Cancellation confirmation cancelled",
}

Outcome = Literal["done", "retry", "failed", "requested", "cancelled"]


class PlanEventKind(StrEnum):
    ACTIVE = "active"
    GIFT_PAID = "gift_paid"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"
    RECONCILIATION = "reconciliation"
    QUEUED = "queued"  # a message to the donor about the plan
    NOTICE_SENT = "notice_sent"
    NOTICE_RETRY = "notice_retry"
    NOTICE_FAILED = "notice_failed"
    LATE_FAILURE = "late_failure"  # a failed payment reported after the plan ended


PLAN_LABELS: dict[PlanEventKind, str] = {
    PlanEventKind.ACTIVE: "Active",
    PlanEventKind.GIFT_PAID: "Gift paid",
    PlanEventKind.PAST_DUE: "Past due",
    PlanEventKind.CANCELLED: "Cancelled",
    PlanEventKind.RECONCILIATION: "Reconciliation",
    PlanEventKind.QUEUED: "Email queued",
    PlanEventKind.NOTICE_SENT: "Email sent",
    PlanEventKind.NOTICE_RETRY: "Email retry",
    PlanEventKind.NOTICE_FAILED: "Email failed",
    PlanEventKind.LATE_FAILURE: "Failed payment after the end",
}


def plan_event_label(kind: str) -> str:
    """Staff's words for an entry on a monthly plan's timeline."""
    try:
        return PLAN_LABELS[PlanEventKind(kind)]
    except ValueError:
        # An entry written under a kind since renamed or retired.
        return kind.replace("_", " ").capitalize()


def effect_event(kind: str, outcome: Outcome) -> EventKind:
    """The timeline kind for a side effect's outcome: `receipt` and `done` -> RECEIPT_DONE.

    ValueError for a side effect kind this module does not know.
    """
    return EventKind(f"{kind}_{outcome}")

