"""Monthly plans' statuses: the enum, the table of legal moves, the one setter."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING

from shop.statuses import check_move

if TYPE_CHECKING:
    from shop.donations.models import MonthlyGift

log = logging.getLogger(__name__)


class PlanStatus(StrEnum):
    PENDING = "pending"  # the donor has not finished Stripe Checkout yet
    ACTIVE = "active"
    PAST_DUE = "past_due"  # a monthly payment failed; Stripe tries again
    CANCELLED = "cancelled"


P = PlanStatus

TRANSITIONS: dict[PlanStatus, frozenset[PlanStatus]] = {
    P.PENDING: frozenset({P.ACTIVE, P.CANCELLED}),
    P.ACTIVE: frozenset({P.PAST_DUE, P.CANCELLED}),
    P.PAST_DUE: frozenset({P.ACTIVE, P.CANCELLED}),
    P.CANCELLED: frozenset(),
}

# The cancel_reason of a plan its donor cancelled on their page.
CANCELLED_BY_DONOR = "cancelled by the donor"

# A plan that may still take the donor's money: they can cancel it.
RUNNING = frozenset({P.PENDING, P.ACTIVE, P.PAST_DUE})
# A plan whose subscription runs at Stripe: its page offers to cancel it.
CANCELLABLE = frozenset({P.ACTIVE, P.PAST_DUE})


def set_status(plan: MonthlyGift, new: PlanStatus) -> None:
    """Move the plan to `new`, or raise IllegalMove. The only writer of a plan's status."""
    check_move(TRANSITIONS, f"monthly gift {plan.id}", plan.status, new)
    plan.status = new
    log.info("monthly gift %s is %s", plan.id, new)
