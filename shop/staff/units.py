"""The staff's units page: every unit, its packing order, and shipping a held unit."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from shop.campaign.service import current_campaign
from shop.extensions import db
from shop.staff.auth import current_staff, log_action, manager_required
from shop.staff.forms import ActionForm
from shop.units import service as units


def unit_list() -> ResponseReturnValue:
    return render_template("staff/units.html", rows=units.units_for_staff(),
                           action_form=ActionForm(formdata=None),
                           policy=current_campaign().partial_policy)


def _act(number: int, action: str) -> ResponseReturnValue:
    form = ActionForm()
    if not form.validate():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("staff.unit_list"), code=303)
    actor = current_staff().email
    try:
        if action == "ship":
            units.ship_held(number, actor=actor)
            message = f"Unit {number} ships as it is; its packing order is queued."
        else:
            units.retry_packing_order(number, actor=actor)
            message = f"Unit {number}'s packing order is being sent to the partner again."
    except units.UnitError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("staff.unit_list"), code=303)
    log_action("unit.ship" if action == "ship" else "unit.retry_packing_order",
               target=f"Unit {number}", message=message)
    db.session.commit()  # the task is handed over after this commit
    flash(message, "success")
    return redirect(url_for("staff.unit_list"), code=303)


@manager_required
def ship_unit(number: int) -> ResponseReturnValue:
    return _act(number, "ship")


@manager_required
def retry_unit_packing_order(number: int) -> ResponseReturnValue:
    return _act(number, "retry")


def register(bp: Blueprint) -> None:
    """Add the pages of this module to the staff blueprint."""
    bp.add_url_rule("/units", view_func=unit_list, methods=["GET"])
    bp.add_url_rule("/units/<int:number>/ship", view_func=ship_unit, methods=["POST"])
    bp.add_url_rule("/units/<int:number>/retry-packing-order",
                     view_func=retry_unit_packing_order, methods=["POST"])
