"""The staff's monthly donors pages: every plan, one plan with its gifts; cancelling one."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from shop.donations.models import MonthlyGift
from shop.donations.state import CANCELLABLE
from shop.extensions import db
from shop.money import format_money
from shop.orders.models import Order
from shop.orders.state import STATUS_LABELS
from shop.orders.timeline import plan_event_label
from shop.payments import client as payments
from shop.payments import monthly
from shop.staff.auth import current_staff, log_action, manager_required
from shop.staff.forms import ActionForm

log = logging.getLogger(__name__)


def monthly_donors() -> ResponseReturnValue:
    plans = db.session.scalars(
        db.select(MonthlyGift).order_by(MonthlyGift.created_at.desc()).limit(500)
    ).all()
    return render_template("staff/monthly.html", plans=plans)


def monthly_donor(plan_id: int) -> ResponseReturnValue:
    plan = db.session.get(MonthlyGift, plan_id)
    if plan is None:
        abort(404)
    gifts = db.session.scalars(
        db.select(Order).where(Order.monthly_gift_id == plan.id).order_by(Order.id.desc())
    ).all()
    return render_template("staff/monthly_plan.html", plan=plan, gifts=gifts,
                           status_labels=STATUS_LABELS, event_label=plan_event_label,
                           cancellable=CANCELLABLE, action_form=ActionForm(formdata=None))


@manager_required
def cancel_monthly_donor(plan_id: int) -> ResponseReturnValue:
    """Stop a donor's monthly gift at Stripe (the donor asked by phone, say); the donor
    gets the same confirmation as when they cancel themselves."""
    form = ActionForm()
    plan = db.session.get(MonthlyGift, plan_id)
    if plan is None:
        abort(404)
    back = redirect(url_for("staff.monthly_donor", plan_id=plan.id), code=303)
    if not form.validate():
        flash("The form expired; nothing changed. Please try again.", "error")
        return back
    if plan.status not in CANCELLABLE or not plan.stripe_subscription_id:
        flash(f"This monthly gift is {plan.status.replace('_', ' ')}: there is nothing to "
              "cancel.", "error")
        return back
    try:
        payments.cancel_subscription(plan.stripe_subscription_id)
    except payments.PaymentError as exc:
        log.warning("monthly gift %s: cancellation by staff failed: %s", plan.id, exc)
        flash("Stripe could not be reached to cancel; nothing changed. Try again in a few "
              "minutes.", "error")
        return back
    locked = monthly.lock_plan(plan.id)
    assert locked is not None
    monthly.cancel_by(locked, actor=current_staff().email, who="staff")
    text = (f"The monthly gift of {format_money(locked.monthly_cents, locked.currency)} from "
            f"{locked.email} is cancelled; the donor gets a confirmation.")
    log_action("monthly.cancel", target=f"monthly gift {locked.id}", message=text)
    db.session.commit()
    flash(text, "success")
    return back


def register(bp: Blueprint) -> None:
    """Add the pages of this module to the staff blueprint."""
    bp.add_url_rule("/monthly", view_func=monthly_donors, methods=["GET"])
    bp.add_url_rule("/monthly/<int:plan_id>", view_func=monthly_donor, methods=["GET"])
    bp.add_url_rule("/monthly/<int:plan_id>/cancel", view_func=cancel_monthly_donor,
                    methods=["POST"])
