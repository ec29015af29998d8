"""The note approval queue: notes the screen held, and staff's approve or reject decisions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import contains_eager

from shop.extensions import db
from shop.orders import side_effects
from shop.orders.models import Order, OrderLine
from shop.orders.service import lock_order
from shop.orders.state import PAID_STATUSES, record_event
from shop.units import service as units

# Orders whose packages may take places in units (see shop.units.service).
UNIT_STATUSES = frozenset({"paid", "fulfilled", "partially_refunded"})

Decision = Literal["approve", "reject"]


class NoteAlreadyDecided(Exception):
    """Someone decided on this note already; nothing changed. The message is for staff."""


def _in_queue() -> list[ColumnElement[bool]]:
    # Only paid orders: an abandoned checkout's note never needs anyone's time.
    return [OrderLine.note_review == "pending", Order.status.in_(PAID_STATUSES)]


def pending_notes() -> Sequence[OrderLine]:
    """Lines whose note waits for staff, oldest order first, with their orders loaded."""
    stmt = (
        select(OrderLine)
        .join(OrderLine.order)
        .where(*_in_queue())
        .options(contains_eager(OrderLine.order))
        .order_by(Order.created_at, Order.id, OrderLine.id)
    )
    return db.session.scalars(stmt).all()


def pending_count() -> int:
    stmt = select(func.count(OrderLine.id)).join(OrderLine.order).where(*_in_queue())
    return db.session.scalar(stmt) or 0


# Ids are 32-bit integers on every backend; a larger number in the URL finds nothing.
MAX_ID = 2**31 - 1


def lock_line(line_id: int) -> OrderLine | None:
    """The line, with its order's row held until commit so two decisions queue up."""
    if not 0 < line_id <= MAX_ID:
        return None
    order_id = db.session.scalar(select(OrderLine.order_id).where(OrderLine.id == line_id))
    if order_id is None:
        return None
    lock_order(order_id)
    line = db.session.scalar(
        select(OrderLine).where(OrderLine.id == line_id).execution_options(
            populate_existing=True)
    )
    return line if line is not None and line.note_review is not None else None


def decide(line: OrderLine, decision: Decision, *, actor: str) -> bool:
    """Approve the note for printing, or ship without it. True when the packing order goes.

    A rejected note is kept as the donor wrote it; only the printing leaves it out.
    """
    order = line.order
    if line.note_review != "pending":
        raise NoteAlreadyDecided(
            f"The note on {order.number} was already {line.note_review}; nothing changed."
        )
    if decision == "approve":
        line.note_review = "approved"
        record_event(order, "note_approved", f"Note on {line.name} approved for printing",
                     actor=actor, data={"line_id": line.id})
    else:
        line.note_review = "rejected"
        record_event(order, "note_rejected",
                     f"Note on {line.name} rejected: the package ships without it",
                     actor=actor, data={"line_id": line.id})
    db.session.flush()
    if line.join_unit and order.status in UNIT_STATUSES:
        # A package waiting for its note takes its place in a unit only now.
        units.place_packages(order)
    return side_effects.release_held(
        order, actor=actor, reason="released, every note has been reviewed"
    )
