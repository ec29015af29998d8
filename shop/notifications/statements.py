"""Year-end statements: each donor's paid orders of a calendar year, and who was sent one."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from flask import current_app, render_template
from sqlalchemy import func
from sqlalchemy.orm import selectinload

from shop.extensions import db, utcnow
from shop.money import format_money
from shop.notifications.context import charity_context
from shop.notifications.mailer import build_message
from shop.notifications.models import YearEndStatement
from shop.notifications.pdf import statement_pdf
from shop.orders.models import Order
from shop.orders.state import MONEY_RECEIVED

# No statement can be older than the shop; this only catches typing mistakes like 1800.
FIRST_YEAR = 2000


@dataclass(frozen=True)
class StatementLine:
    """One order on the statement: what it held and what of it the charity kept."""

    number: str
    paid_at: datetime
    packages_cents: int
    gifts_cents: int
    refunded_cents: int
    net_cents: int


@dataclass(frozen=True)
class Statement:
    """One donor's orders of one year in one currency."""

    email: str  # lowercased: the key the statement is recorded under
    address: str  # as the donor last typed it: where the statement goes
    name: str
    year: int
    currency: str
    lines: tuple[StatementLine, ...]

    @property
    def total_cents(self) -> int:
        return sum(line.net_cents for line in self.lines)

    @property
    def order_count(self) -> int:
        return len(self.lines)

    @property
    def has_packages(self) -> bool:
        return any(line.packages_cents for line in self.lines)

    @property
    def summary(self) -> str:
        orders = "order" if self.order_count == 1 else "orders"
        total = format_money(self.total_cents, self.currency)
        return f"{self.email}: {self.order_count} {orders}, {total}"


def default_year(now: datetime) -> int:
    """Statements are sent after a year ends: by default, for the year before `now`."""
    return now.year - 1


def year_problem(year: int, *, now: datetime, sending: bool) -> str | None:
    """Why statements for `year` cannot be made (or sent) now; None when they can."""
    if year < FIRST_YEAR or year > now.year:
        return f"{year} is not a year to send statements for: give one from {FIRST_YEAR} " \
               f"to {now.year}."
    if sending and year == now.year:
        # Once sent, a donor is never sent that year again: a partial year would stick.
        return f"{year} is not over yet: its statements can be sent from 1 January " \
               f"{year + 1}. Leave out --send to see what they would say."
    return None


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def statements_for_year(year: int, *, email: str | None = None) -> list[Statement]:
    """Every donor's statement of `year` (UTC), by email address whatever its case.

    Counted: orders whose money was received and is still held (MONEY_RECEIVED), less
    what was refunded; fully refunded orders and those netting to nothing are left out.
    """
    start, end = year_bounds(year)
    query = (
        db.select(Order)
        .where(Order.status.in_(MONEY_RECEIVED), Order.paid_at >= start, Order.paid_at < end)
        .options(selectinload(Order.lines))
        .order_by(Order.paid_at, Order.id)
    )
    if email is not None:
        query = query.where(func.lower(Order.email) == email.strip().lower())
    by_donor: dict[tuple[str, str], list[Order]] = defaultdict(list)
    for order in db.session.scalars(query):
        if order.total_cents - order.refunded_cents > 0:
            by_donor[(order.email.strip().lower(), order.currency)].append(order)
    return [
        _statement(key, year, orders) for key, orders in sorted(by_donor.items())
    ]


def _statement(key: tuple[str, str], year: int, orders: list[Order]) -> Statement:
    names = [order.name.strip() for order in orders if order.name.strip()]
    lines = tuple(
        StatementLine(
            number=order.number or "",
            paid_at=order.paid_at or order.created_at,
            packages_cents=sum(line.line_total_cents for line in order.package_lines),
            gifts_cents=sum(line.line_total_cents for line in order.donation_lines),
            refunded_cents=order.refunded_cents,
            net_cents=order.total_cents - order.refunded_cents,
        )
        for order in orders
    )
    return Statement(email=key[0], address=orders[-1].email.strip(), name=names[-1] if names
                     else "", year=year, currency=key[1], lines=lines)


def sent_already(year: int) -> set[tuple[str, str]]:
    """(email, currency) of every donor already sent their statement of `year`."""
    rows = db.session.execute(
        db.select(YearEndStatement.email, YearEndStatement.currency)
        .where(YearEndStatement.year == year)
    )
    return {(email, currency) for email, currency in rows}


def claim(statement: Statement) -> YearEndStatement:
    """Record the statement as sent (flushed, not committed) before sending it.

    The unique row makes a second run started at the same time wait here, then fail,
    instead of sending the same donor a second copy; the caller commits after sending.
    """
    record = YearEndStatement(
        email=statement.email, year=statement.year, currency=statement.currency,
        total_cents=statement.total_cents, order_count=statement.order_count,
        sent_at=utcnow(),
    )
    db.session.add(record)
    db.session.flush()
    return record


def totals_by_currency(statements: list[Statement]) -> str:
    totals: dict[str, int] = defaultdict(int)
    for statement in statements:
        totals[statement.currency] += statement.total_cents
    return ", ".join(format_money(cents, currency) for currency, cents in sorted(totals.items()))


def statement_message(statement: Statement, *, issued: datetime) -> EmailMessage:
    context = charity_context() | {
        "statement": statement,
        "greeting_name": statement.name or "friend",
        "issued": issued.strftime("%d %B %Y"),
    }
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    domain = sender.rpartition("@")[2] or "localhost"
    # The same id if a crash makes a later run send it again: mail systems can drop it.
    digest = hashlib.sha256(statement.email.encode()).hexdigest()[:16]
    return build_message(
        to=statement.address,
        subject=f"Your {statement.year} giving statement from {context['org_name']}",
        text=render_template("email/statement.txt", **context),
        html=render_template("email/statement.html", **context),
        message_id=f"<statement-{statement.year}-{statement.currency}-{digest}@{domain}>",
        attachments=[(f"statement-{statement.year}.pdf", "application/pdf",
                      statement_pdf(statement, issued=issued))],
    )
