"""The staff dashboard: the campaign's progress, money in the last 7 and 30 days with a
small chart, and the queues that wait for a person."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import case, func

from shop.campaign.service import progress
from shop.donations.models import MonthlyGift
from shop.donations.state import PlanStatus
from shop.extensions import db, utcnow
from shop.money import format_money
from shop.orders.models import Order, OrderLine, SideEffect
from shop.orders.notes_review import pending_count
from shop.orders.side_effect_state import SideEffectStatus
from shop.orders.state import OrderStatus
from shop.staff import service

CATEGORIES = (("packages", "Care packages"), ("one-off", "One-off gifts"),
              ("monthly", "Monthly gifts"))
CHART_DAYS = 30
CHART_WIDTH, CHART_HEIGHT = 600, 120


@dataclass(frozen=True)
class Attention:
    label: str
    count: int
    link: str  # a list of exactly the orders counted, or the page where they are handled
    testid: str


@dataclass(frozen=True)
class Window:
    """Money paid in the last `days` days, gross, by kind; and what of it went back."""

    days: int
    orders: int
    by_category: dict[str, int]
    refunded: int

    @property
    def gross(self) -> int:
        return sum(self.by_category.values())

    @property
    def net(self) -> int:
        return self.gross - self.refunded


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    category: str
    title: str


@dataclass
class Day:
    """One UTC day of paid orders: how many, their gross by category, what went back."""

    orders: int = 0
    by_category: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refunded: int = 0

    @property
    def gross(self) -> int:
        return sum(self.by_category.values())


def _utc_day(column: Any) -> Any:
    """The UTC calendar day of a timestamp, on either database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def paid_by_day(since: datetime) -> dict[date, Day]:
    """Orders paid since then, by UTC day: counts, gross by category, refunds.

    Two reads of a paid_at range (its index), whatever the table's size: the orders
    themselves (an order of one kind is wholly in one category), then the lines of only
    the mixed orders, the one kind whose money splits between categories.
    """
    day = _utc_day(Order.paid_at)
    monthly = Order.monthly_gift_id.is_not(None)

    def part(*where: Any) -> Any:
        return func.coalesce(func.sum(Order.total_cents).filter(*where), 0)

    days: dict[date, Day] = defaultdict(Day)
    rows = db.session.execute(
        db.select(day, func.count(), func.coalesce(func.sum(Order.refunded_cents), 0),
                  part(Order.kind == "package"),
                  part(Order.kind == "donation", monthly),
                  part(Order.kind == "donation", ~monthly))
        .where(Order.paid_at >= since)
        .group_by(day)
    ).all()
    for when, count, refunded, packages, monthly_cents, one_off in rows:
        entry = days[_as_date(when)]
        entry.orders, entry.refunded = int(count), int(refunded)
        for key, cents in (("packages", packages), ("monthly", monthly_cents),
                           ("one-off", one_off)):
            entry.by_category[key] += int(cents)
    category = case((OrderLine.kind == "package", "packages"), (monthly, "monthly"),
                    else_="one-off")
    mixed = db.session.execute(
        db.select(day, category, func.sum(OrderLine.unit_price_cents * OrderLine.quantity))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.paid_at >= since, Order.kind == "mixed")
        .group_by(day, category)
    ).all()
    for when, name, cents in mixed:
        days[_as_date(when)].by_category[str(name)] += int(cents or 0)
    return days


def window(days_back: int, by_day: dict[date, Day], today: date) -> Window:
    """The last `days_back` UTC days, today included."""
    start = today - timedelta(days=days_back - 1)
    totals = {key: 0 for key, _ in CATEGORIES}
    orders = refunded = 0
    for day, entry in by_day.items():
        if day >= start:
            orders += entry.orders
            refunded += entry.refunded
            for key, cents in entry.by_category.items():
                totals[key] = totals.get(key, 0) + cents
    return Window(days=days_back, orders=orders, by_category=totals, refunded=refunded)


def chart(by_day: dict[date, Day], today: date, currency: str) -> list[Bar]:
    """Stacked bars, one a day for the last CHART_DAYS days, scaled to the highest day.

    Drawn on the server as SVG rectangles with classes (no script, no inline style), so
    it works under a strict Content-Security-Policy and without JavaScript.
    """
    first = today - timedelta(days=CHART_DAYS - 1)
    highest = max((v.gross for d, v in by_day.items() if d >= first), default=0)
    if highest <= 0:
        return []
    slot = CHART_WIDTH / CHART_DAYS
    bars = []
    for index in range(CHART_DAYS):
        day = first + timedelta(days=index)
        bottom = float(CHART_HEIGHT)
        for key, label in CATEGORIES:
            cents = by_day[day].by_category.get(key, 0) if day in by_day else 0
            if cents <= 0:
                continue
            height = max(1.0, cents * CHART_HEIGHT / highest)
            bottom -= height
            bars.append(Bar(x=round(index * slot + 1, 2), y=round(bottom, 2),
                            width=round(slot - 2, 2), height=round(height, 2), category=key,
                            title=f"{day.isoformat()}: {label} {format_money(cents, currency)}"))
    return bars


def attention() -> list[Attention]:
    """What waits for a person, each count linked to exactly the orders it counts."""
    def count(status: OrderStatus) -> int:
        # count(*), not count(id): the status index answers alone (index-only scan).
        return int(db.session.scalar(
            db.select(func.count()).select_from(Order).where(Order.status == status)) or 0)

    unit_failed = int(db.session.scalar(
        db.select(func.count()).select_from(SideEffect)
        .where(SideEffect.unit_id.is_not(None),
               SideEffect.status == SideEffectStatus.FAILED)) or 0)
    past_due = int(db.session.scalar(
        db.select(func.count(MonthlyGift.id))
        .where(MonthlyGift.status == PlanStatus.PAST_DUE)) or 0)
    return [
        Attention("Orders under review", count(OrderStatus.NEEDS_REVIEW),
                  "/staff/orders?status=needs_review", "attention-review"),
        Attention("Open disputes", count(OrderStatus.DISPUTED), "/staff/orders?status=disputed",
                  "attention-disputes"),
        Attention("Orders whose receipt, packing order or notice failed",
                  service.count_failed(), "/staff/orders?attention=failed",
                  "attention-failed"),
        Attention("Unit packing orders that failed", unit_failed, "/staff/units",
                  "attention-unit-failed"),
        Attention("Notes waiting for approval", pending_count(), "/staff/notes",
                  "attention-notes"),
        Attention("Monthly gifts whose last payment failed", past_due, "/staff/monthly",
                  "attention-past-due"),
    ]


def paid_since(since: date, by_day: dict[date, Day]) -> tuple[int, int]:
    """Orders paid since that UTC day and the money they brought (net of refunds)."""
    entries = [entry for day, entry in by_day.items() if day >= since]
    return (sum(entry.orders for entry in entries),
            sum(entry.gross - entry.refunded for entry in entries))


def dashboard() -> ResponseReturnValue:
    now = utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    currency = current_app.config["CURRENCY"]
    by_day = paid_by_day(today - timedelta(days=CHART_DAYS - 1))
    campaign, created = progress()
    if created:
        db.session.commit()  # the very first view makes the cached totals
    return render_template(
        "staff/dashboard.html",
        currency=currency,
        campaign=campaign,
        today=paid_since(today.date(), by_day),
        week=paid_since(today.date() - timedelta(days=6), by_day),
        windows=[window(7, by_day, today.date()), window(30, by_day, today.date())],
        categories=CATEGORIES,
        bars=chart(by_day, today.date(), currency),
        chart_width=CHART_WIDTH, chart_height=CHART_HEIGHT, chart_days=CHART_DAYS,
        attention=attention(),
    )


def register(bp: Blueprint) -> None:
    """Add the pages of this module to the staff blueprint."""
    bp.add_url_rule("/dashboard", view_func=dashboard, methods=["GET"])
