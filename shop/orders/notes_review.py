"""The note approval queue: notes the screen held, and staff's approve or reject decisions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import contains_eager

from shop.extensions import db
from shop.orders import side_effects
from shop.orders.models import Order, OrderLine
from shop.orders.note_state import NoteReview, set_review
from shop.orders.service import lock_order
from shop.orders.side_effect_state import SideEffectKind
from shop.orders.state import HOLDS_UNIT_PLACES, MONEY_RECEIVED
from shop.units import service as units

Decision = Literal["approve", "reject"]


class NoteAlreadyDecided(Exception):
    """Someone decided on this note already; nothing changed. The message is for staff."""


def _in_queue() -> list[ColumnElement[bool]]:
    # Only paid orders: an abandoned checkout's note never needs anyone's time.
    return [OrderLine.note_review == NoteReview.PENDING, Order.status.in_(MONEY_RECEIVED)]


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
    if line.note_review != NoteReview.PENDING:
        raise NoteAlreadyDecided(
            f"The note on {order.number} was already {line.note_review}; nothing changed."
        )
    set_review(line, NoteReview.APPROVED if decision == "approve" else NoteReview.REJECTED,
               actor=actor)
    db.session.flush()
    if decision == "reject":
        # The donor hears that their package ships without the note (once per order).
        side_effects.request_notice(order, SideEffectKind.NOTE_LEFT_OUT_NOTICE)
    if line.join_unit and order.status in HOLDS_UNIT_PLACES:
        # A package waiting for its note takes its place in a unit only now.
        units.place_packages(order)
    return side_effects.release_held(
        order, actor=actor, reason="released, every note has been reviewed"
    )
