"""A held note's review: the enum, its legal moves, and the one setter staff decisions use."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from shop.orders.state import record_event
from shop.orders.timeline import EventKind
from shop.statuses import check_move

if TYPE_CHECKING:
    from shop.orders.models import OrderLine


class NoteReview(StrEnum):
    """None on a line means its note needed no review."""

    PENDING = "pending"  # the screen held it: staff read it before it is printed
    APPROVED = "approved"  # printed as written
    REJECTED = "rejected"  # the package ships without it; the donor's words are kept


TRANSITIONS: dict[NoteReview, frozenset[NoteReview]] = {
    NoteReview.PENDING: frozenset({NoteReview.APPROVED, NoteReview.REJECTED}),
    NoteReview.APPROVED: frozenset(),
    NoteReview.REJECTED: frozenset(),
}

# What the partner may print: a note that needed no review, or one staff approved.
PRINTABLE = frozenset({None, NoteReview.APPROVED})


def set_review(line: OrderLine, new: NoteReview, *, actor: str) -> None:
    """Record staff's decision on a held note, on the order's timeline; IllegalMove if decided."""
    check_move(TRANSITIONS, f"note on line {line.id}", line.note_review, new)
    line.note_review = new
    if new is NoteReview.APPROVED:
        record_event(line.order, EventKind.NOTE_APPROVED,
                     f"Note on {line.name} approved for printing", actor=actor,
                     data={"line_id": line.id})
    else:
        record_event(line.order, EventKind.NOTE_REJECTED,
                     f"Note on {line.name} rejected: the package ships without it",
                     actor=actor, data={"line_id": line.id})
