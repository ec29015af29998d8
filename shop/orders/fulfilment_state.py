"""Where an order's care packages are, as the donor's page and GET /api/orders/<token> say it.

Not stored: worked out from the order, its packing order and its units on each read, so it
has no transition table of its own. The values are part of the order API's JSON.
"""

from __future__ import annotations

from enum import StrEnum


class FulfilmentStatus(StrEnum):
    NOT_REQUIRED = "not_required"  # a gift: nothing ships
    NOT_STARTED = "not_started"  # no packing order yet
    PENDING = "pending"  # the packing order is on its way to the partner
    HELD = "held"  # held for a note to read or a dispute
    FAILED = "failed"  # the partner could not be reached after the last retry
    CANCELLED = "cancelled"  # the money went back before it was sent
    WAITING_FOR_UNIT = "waiting_for_unit"  # funded; the unit is still filling
    ACCEPTED = "accepted"  # the partner accepted the packing order
    SHIPPED = "shipped"  # staff marked the order shipped
