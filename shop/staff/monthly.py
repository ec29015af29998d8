"""The staff's monthly donors pages: every plan, and one plan with its gifts."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from shop.donations.models import MonthlyGift
from shop.extensions import db
from shop.orders.models import Order
from shop.orders.state import STATUS_LABELS
from shop.orders.timeline import plan_event_label


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
                           status_labels=STATUS_LABELS, event_label=plan_event_label)


def register(bp: Blueprint) -> None:
    """Add the pages of this module to the staff blueprint."""
    bp.add_url_rule("/monthly", view_func=monthly_donors, methods=["GET"])
    bp.add_url_rule("/monthly/<int:plan_id>", view_func=monthly_donor, methods=["GET"])
