"""Units' and unit places' statuses: the enums, their tables of legal moves, their setters."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

from shop.orders.state import record_event
from shop.orders.timeline import EventKind
from shop.statuses import check_move

if TYPE_CHECKING:
    from shop.orders.models import Order
    from shop.units.models import Unit, UnitPlace

log = logging.getLogger(__name__)


class UnitStatus(StrEnum):
    OPEN = "open"  # taking places
    FULL = "full"  # its packing order is queued
    SHIPPING = "shipping"  # shipped partly filled at the campaign's end (or by staff)
    SHIPPED = "shipped"  # the partner accepted its packing order
    HELD = "held"  # partly filled at the campaign's end; staff decide when it ships


class PlaceStatus(StrEnum):
    FUNDED = "funded"
    RELEASED = "released"  # the money went back before the unit shipped


U = UnitStatus

TRANSITIONS: dict[UnitStatus, frozenset[UnitStatus]] = {
    U.OPEN: frozenset({U.FULL, U.SHIPPING, U.HELD}),
    # A full or shipping unit whose packing order has not gone out opens again when a
    # donor's money goes back; a shipped unit keeps its places.
    U.FULL: frozenset({U.OPEN, U.SHIPPED}),
    U.SHIPPING: frozenset({U.OPEN, U.SHIPPED}),
    U.HELD: frozenset({U.SHIPPING}),
    U.SHIPPED: frozenset(),
}

PLACE_TRANSITIONS: dict[PlaceStatus, frozenset[PlaceStatus]] = {
    PlaceStatus.FUNDED: frozenset({PlaceStatus.RELEASED}),
    PlaceStatus.RELEASED: frozenset(),
}

# Units donors still see filling or waiting to go.
NOT_SHIPPED = frozenset({U.OPEN, U.FULL, U.SHIPPING, U.HELD})
# Units whose packing order is queued or on its way.
PACKING = frozenset({U.FULL, U.SHIPPING})


def set_status(unit: Unit, new: UnitStatus, *, members: Iterable[Order] = (),
               event: EventKind | None = None, message: str = "", actor: str = "system") -> None:
    """Move the unit to `new`, or raise IllegalMove. The only writer of a unit's status.

    With `event`, the entry is written on the timeline of every order in `members`
    (those with a package funded in the unit).
    """
    check_move(TRANSITIONS, f"unit {unit.number}", unit.status, new)
    unit.status = new
    log.info("unit %s is %s", unit.number, new)
    if event is not None:
        for order in members:
            record_event(order, event, message, actor=actor, data={"unit": unit.number})


def set_place_status(place: UnitPlace, new: PlaceStatus) -> None:
    """Move a unit place to `new`, or raise IllegalMove. The only writer of a place's status."""
    check_move(PLACE_TRANSITIONS, f"unit place {place.id}", place.status, new)
    place.status = new
