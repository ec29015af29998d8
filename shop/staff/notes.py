"""The staff's note approval queue: notes the screen held, approved or shipped without."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from shop.extensions import db
from shop.orders import notes_review
from shop.orders.side_effects import notes_awaiting_approval
from shop.staff.auth import current_staff, log_action, manager_required, safe_next


def notes() -> ResponseReturnValue:
    return render_template("staff/notes.html", lines=notes_review.pending_notes())


def _decide_note(line_id: int, decision: notes_review.Decision) -> ResponseReturnValue:
    back = safe_next(request.form.get("next")) or url_for("staff.notes")
    line = notes_review.lock_line(line_id)
    if line is None:
        db.session.rollback()
        abort(404)
    order = line.order
    number = order.number
    try:
        released = notes_review.decide(line, decision, actor=current_staff().email)
    except notes_review.NoteAlreadyDecided as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(back, code=303)
    if decision == "approve":
        message = f"The note on {number} is approved for printing."
    else:
        message = f"The note on {number} is rejected; the package ships without it."
    if released:
        message += " The packing order is on its way to the partner."
    elif notes_awaiting_approval(order):
        message += " Another note on this order still waits."
    log_action(f"note.{decision}", target=number or "", order_id=order.id, message=message,
               data={"line_id": line_id})
    db.session.commit()  # the released packing order is handed over after this commit
    flash(message, "success")
    return redirect(back, code=303)


@manager_required
def approve_note(line_id: int) -> ResponseReturnValue:
    return _decide_note(line_id, "approve")


@manager_required
def reject_note(line_id: int) -> ResponseReturnValue:
    return _decide_note(line_id, "reject")


def register(bp: Blueprint) -> None:
    """Add the pages of this module to the staff blueprint."""
    bp.add_url_rule("/notes", view_func=notes, methods=["GET"])
    bp.add_url_rule("/notes/<int:line_id>/approve", view_func=approve_note, methods=["POST"])
    bp.add_url_rule("/notes/<int:line_id>/reject", view_func=reject_note, methods=["POST"])
