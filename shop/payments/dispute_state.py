"""Stripe's dispute statuses, and what each one means for the order it is about.

A dispute's status is Stripe's (docs.stripe.com/api/disputes/object#dispute_object-status);
the shop does not store it, it reads it again from Stripe on every dispute event and moves
the order through shop.orders.service, where the order's own table decides.
"""

from __future__ import annotations

import logging
from enum import StrEnum

log = logging.getLogger(__name__)


class DisputeStatus(StrEnum):
    WARNING_NEEDS_RESPONSE = "warning_needs_response"  # an inquiry: no money taken yet
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"  # the inquiry went no further
    NEEDS_RESPONSE = "needs_response"  # a chargeback: the bank holds the money
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"
    PREVENTED = "prevented"  # stopped before it was filed, by refunding the cardholder
    APPEAL_NEEDS_RESPONSE = "appeal_needs_response"  # the charity appeals a loss
    APPEAL_UNDER_REVIEW = "appeal_under_review"


class Ending(StrEnum):
    """What a dispute status means for the order."""

    OPEN = "open"  # disputed: the packing order is held, the money is not counted
    WON = "won"  # back to where the order was: the held packing order goes out
    LOST = "lost"  # dispute_lost: what has not gone out is cancelled
    PREVENTED = "prevented"  # the refund decides: refunded, partly refunded, or review


D = DisputeStatus

ENDINGS: dict[DisputeStatus, Ending] = {
    D.WARNING_NEEDS_RESPONSE: Ending.OPEN,
    D.WARNING_UNDER_REVIEW: Ending.OPEN,
    D.NEEDS_RESPONSE: Ending.OPEN,
    D.UNDER_REVIEW: Ending.OPEN,
    D.APPEAL_NEEDS_RESPONSE: Ending.OPEN,
    D.APPEAL_UNDER_REVIEW: Ending.OPEN,
    D.WARNING_CLOSED: Ending.WON,
    D.WON: Ending.WON,
    D.LOST: Ending.LOST,
    D.PREVENTED: Ending.PREVENTED,
}


def ending(status: str) -> Ending:
    """The ending of a Stripe dispute status; a status the shop does not know yet keeps
    the dispute open (nothing ships while a person has not looked)."""
    try:
        return ENDINGS[DisputeStatus(status)]
    except ValueError:
        log.warning("unknown Stripe dispute status %r: the order stays disputed", status)
        return Ending.OPEN
