"""The staff dashboard: today's money and everything that waits for a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import func

from shop.donations.models import MonthlyGift
from shop.donations.state import PlanStatus
from shop.extensions import db, utcnow
from shop.orders.models import Order, SideEffect
from shop.orders.notes_review import pending_count
from shop.orders.side_effect_state import SideEffectStatus
from shop.orders.state import OrderStatus
from shop.staff.views import bp


@dataclass(frozen=True)
class Attention:
    label: str
    count: int
    link: str  # a filtered order list, or the page where it is handled
    testid: str


def paid_since(since: datetime) -> tuple[int, int]:
    """Orders paid since then and the money they brought (net of refunds)."""
    row = db.session.execute(
        db.select(func.count(Order.id),
                  func.coalesce(func.sum(Order.total_cents - Order.refunded_cents), 0))
        .where(Order.paid_at >= since)
    ).one()
    return int(row[0]), int(row[1])


def _count_orders(status: OrderStatus) -> int:
    return int(db.session.scalar(
        db.select(func.count(Order.id)).where(Order.status == status)) or 0)


def attention() -> list[Attention]:
    failed = int(db.session.scalar(
        db.select(func.count(SideEffect.id))
        .where(SideEffect.status == SideEffectStatus.FAILED)) or 0)
    past_due = int(db.session.scalar(
        db.select(func.count(MonthlyGift.id))
        .where(MonthlyGift.status == PlanStatus.PAST_DUE)) or 0)
    return [
        Attention("Orders under review", _count_orders(OrderStatus.NEEDS_REVIEW),
                  "/staff/orders?status=needs_review", "attention-review"),
        Attention("Open disputes", _count_orders(OrderStatus.DISPUTED),
                  "/staff/orders?status=disputed", "attention-disputes"),
        Attention("Receipts or packing orders that failed", failed,
                  "/staff/orders", "attention-failed"),
        Attention("Notes waiting for approval", pending_count(), "/staff/notes",
                  "attention-notes"),
        Attention("Monthly gifts whose last payment failed", past_due, "/staff/monthly",
                  "attention-past-due"),
    ]


@bp.get("/dashboard")
def dashboard() -> ResponseReturnValue:
    now = utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return render_template(
        "staff/dashboard.html",
        currency=current_app.config["CURRENCY"],
        today=paid_since(today),
        week=paid_since(today - timedelta(days=6)),
        attention=attention(),
    )
