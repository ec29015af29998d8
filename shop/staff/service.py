"""Staff rules: accounts and passwords, finding and exporting orders, the staff's actions.

Like every service, these functions change and flush; the view or command commits.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from werkzeug.security import check_password_hash, generate_password_hash

from shop.donations.models import MonthlyGift
from shop.extensions import db, utcnow
from shop.money import format_money, format_plain
from shop.orders.accounting import FEE_LINE_NAME, kept
from shop.orders.lifecycle import move_or_raise
from shop.orders.models import Order, OrderEvent, OrderLine, SideEffect
from shop.orders.service import lock_order_where
from shop.orders.side_effect_state import SideEffectKind, SideEffectStatus
from shop.orders.side_effects import notes_awaiting_approval, send_again
from shop.orders.state import (
    MONEY_RETURNED,
    STATUS_LABELS,
    IllegalTransition,
    OrderStatus,
    can_move,
    label,
)
from shop.staff import sessions
from shop.staff.models import ROLES, StaffUser
from shop.staff.passwords import normalize as normalize_password
from shop.staff.passwords import password_problem
from shop.text import row_id
from shop.trigram import contains
from shop.wording import dedication_words

INCORRECT_LOGIN = "Email or password is incorrect."
PER_PAGE = 50
KINDS = ("package", "donation", "mixed")
MAX_SEARCH_LENGTH = 320
MAX_TRACKING_NOTE = 500
CSV_BATCH = 500
# The accountant's columns first (amounts in the major unit, "80.08"), then the shop's.
CSV_COLUMNS = (
    "number", "paid_at", "status", "email", "name", "gross", "refunded", "net", "goods",
    "gift", "fee_covered", "currency", "dedication", "anonymous", "plan",
    "stripe_payment_intent_id", "created_at", "kind", "packages", "stripe_session_id",
    "receipt_sent_at", "fulfilment_status", "fulfilment_reference",
)
# A spreadsheet runs a cell starting with these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NEWEST_FIRST = (Order.created_at.desc(), Order.id.desc())
OLDEST_FIRST = (Order.created_at.asc(), Order.id.asc())
# The list says "53 orders" up to this many, "about 1,000,000 orders" past it.
COUNT_EXACT_UP_TO = 10_000


class StaffError(ValueError):
    """A staff account cannot be created as asked; the message says why."""


class ActionRefused(Exception):
    """A staff action that the order's current state does not allow; nothing changed."""


# --- accounts -------------------------------------------------------------------------


def mask_email(email: str) -> str:
    """"dana@example.org" -> "d***@example.org": enough to recognise, not to copy."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def create_or_update_staff(email: str, role: str, password: str) -> tuple[StaffUser, bool]:
    """Create the staff user, or set an existing one's role and password. True when created."""
    address = normalize_email(email)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise StaffError(f"{email!r} is not a valid email address: {exc}") from exc
    if len(address) > 320:
        raise StaffError("That email address is too long (320 characters at most).")
    role = (role or "").strip().lower()
    if role not in ROLES:
        raise StaffError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    problem = password_problem(password, email=address, org_name=org_name())
    if problem:
        raise StaffError(problem)
    password_hash = hash_password(password)
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == address))
    created = user is None
    if user is None:
        user = StaffUser(email=address, role=role, password_hash=password_hash, active=True)
        db.session.add(user)
    else:
        user.role = role
        user.password_hash = password_hash
    db.session.flush()
    return user, created


def org_name() -> str:
    return str(current_app.config.get("ORG_NAME") or "")


def hash_password(password: str) -> str:
    """scrypt of the NFKC form, so the same password typed another way still matches."""
    return generate_password_hash(normalize_password(password), method="scrypt")


INVITE_DAYS = 7
UNUSABLE_PASSWORD = "!"  # noqa: S105 - no hash matches it: an invited account has none yet


def _valid_email(email: str) -> str:
    address = normalize_email(email)
    if len(address) > 320:
        raise StaffError("That email address is too long (320 characters at most).")
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise StaffError(f"{email!r} is not a valid email address: {exc}") from exc
    return address


def _valid_role(role: str) -> str:
    value = (role or "").strip().lower()
    if value not in ROLES:
        raise StaffError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    return value


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_staff(email: str, role: str, *, inviter: str) -> tuple[StaffUser, str]:
    """A new account that can log in once its owner chooses a password through the
    returned one-time token (valid INVITE_DAYS). An existing account is refused."""
    address = _valid_email(email)
    role = _valid_role(role)
    if find_staff(address) is not None:
        raise StaffError(f"{address} already has an account; change its role below.")
    token = secrets.token_urlsafe(32)
    user = StaffUser(email=address, role=role, password_hash=UNUSABLE_PASSWORD, active=True,
                     invited_by=inviter, invite_token_hash=_token_hash(token),
                     invite_expires_at=utcnow() + timedelta(days=INVITE_DAYS))
    db.session.add(user)
    db.session.flush()
    return user, token


def find_invite(token: str) -> StaffUser | None:
    """The account an unexpired invitation token belongs to."""
    if not token or len(token) > 100:
        return None
    user: StaffUser | None = db.session.scalar(
        select(StaffUser).where(StaffUser.invite_token_hash == _token_hash(token)))
    if user is None or not user.active or user.invite_expires_at is None \
            or user.invite_expires_at < utcnow():
        return None
    return user


def accept_invite(user: StaffUser, password: str) -> None:
    """The invited person's password (800-63B rules); the token is spent."""
    problem = password_problem(password, email=user.email, org_name=org_name())
    if problem:
        raise StaffError(problem)
    user.password_hash = hash_password(password)
    user.invite_token_hash = None
    user.invite_expires_at = None


def active_admins() -> int:
    return int(db.session.scalar(
        select(func.count(StaffUser.id)).where(StaffUser.role == "admin",
                                               StaffUser.active.is_(True))) or 0)


def change_role(user: StaffUser, role: str, *, by: StaffUser) -> str:
    """Set the role; the previous one is returned. The last admin stays an admin."""
    role = _valid_role(role)
    previous = user.role
    if previous == "admin" and role != "admin" and user.active and active_admins() <= 1:
        raise StaffError("This is the only admin: make someone else an admin first.")
    user.role = role
    return previous


def set_active(user: StaffUser, active: bool, *, by: StaffUser) -> int:
    """Deactivate (every open session ends at once; the count is returned) or reactivate."""
    if not active:
        if user.id == by.id:
            raise StaffError("You cannot deactivate your own account.")
        if user.role == "admin" and user.active and active_admins() <= 1:
            raise StaffError("This is the only admin: make someone else an admin first.")
        user.active = False
        return sessions.end_all(user, "deactivated")
    user.active = True
    return 0


def all_staff() -> Sequence[StaffUser]:
    return db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()


@cache
def _dummy_hash() -> str:
    """A hash to check unknown emails against, so they take as long as known ones."""
    return generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


def find_staff(email: str) -> StaffUser | None:
    address = normalize_email(email)
    if not address or len(address) > 320:
        return None
    return db.session.scalar(select(StaffUser).where(StaffUser.email == address))


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active staff user with this email and password, or None (same cost either way)."""
    address = normalize_email(email)
    user: StaffUser | None = None
    if address and len(address) <= 320:
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == address))
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(user.password_hash, normalize_password(password)) \
            or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


# --- finding orders -------------------------------------------------------------------

# Checkouts nobody finished: after a day they leave the default list (a filter shows them).
ABANDONED_STATUSES = (OrderStatus.PENDING, OrderStatus.EXPIRED, OrderStatus.FAILED)
ABANDONED_AFTER = timedelta(days=1)
# What the dashboard's counts link to: each a list of exactly the orders it counted.
ATTENTION = {
    "failed": "Orders whose receipt, packing order or notice failed",
}


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    kind: str = ""
    q: str = ""
    attention: str = ""
    paid_from: date | None = None
    paid_to: date | None = None  # the last day, included
    abandoned: bool = False  # also list checkouts abandoned more than a day ago

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments, leaving out the empty ones."""
        pairs = (("status", self.status), ("kind", self.kind), ("q", self.q),
                 ("attention", self.attention),
                 ("paid_from", self.paid_from.isoformat() if self.paid_from else ""),
                 ("paid_to", self.paid_to.isoformat() if self.paid_to else ""),
                 ("abandoned", "1" if self.abandoned else ""))
        return {k: v for k, v in pairs if v}

    def filename(self, today: date) -> str:
        """The CSV's name: the date range and every filter, e.g.
        orders_2026-11-01_to_2026-11-30_status-paid.csv."""
        start = self.paid_from.isoformat() if self.paid_from else "start"
        end = (self.paid_to or today).isoformat()
        parts = [f"orders_{start}_to_{end}"]
        for key in ("status", "kind", "attention"):
            value = getattr(self, key)
            if value:
                parts.append(f"{key}-{value}")
        if self.q:
            cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", self.q).strip("-")[:40]
            parts.append(f"search-{cleaned or 'text'}")
        if self.abandoned:
            parts.append("with-abandoned")
        return "_".join(parts) + ".csv"


def _date_arg(args: Mapping[str, Any], key: str, label: str,
              problems: list[str]) -> date | None:
    text = str(args.get(key) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"The {label} must be a date like 2026-11-01.")
        return None


def parse_filters(args: Mapping[str, Any]) -> tuple[OrderFilters, list[str]]:
    """The list's filters from query arguments, and what was wrong with them."""
    problems: list[str] = []
    status = str(args.get("status") or "").strip()
    kind = str(args.get("kind") or "").strip()
    q = str(args.get("q") or "").strip()
    attention = str(args.get("attention") or "").strip()
    if status and status not in STATUS_LABELS:
        problems.append(f"There is no order status {status!r}.")
        status = ""
    if kind and kind not in KINDS:
        problems.append(f"There is no order kind {kind!r}; use package, donation or mixed.")
        kind = ""
    if attention and attention not in ATTENTION:
        problems.append(f"There is no list {attention!r} of orders that need attention.")
        attention = ""
    if len(q) > MAX_SEARCH_LENGTH:
        problems.append(f"The search is too long ({MAX_SEARCH_LENGTH} characters at most).")
        q = ""
    paid_from = _date_arg(args, "paid_from", "first day paid", problems)
    paid_to = _date_arg(args, "paid_to", "last day paid", problems)
    if paid_from and paid_to and paid_to < paid_from:
        problems.append("The last day paid is before the first.")
        paid_from = paid_to = None
    abandoned = str(args.get("abandoned") or "").strip().lower() in ("1", "y", "yes", "on")
    return OrderFilters(status=status, kind=kind, q=q, attention=attention,
                        paid_from=paid_from, paid_to=paid_to, abandoned=abandoned), problems


def dedicated_orders(text: str, *where: ColumnElement[bool], newest_first: bool = True,
                     limit: int | None = None) -> list[int]:
    """Ids of orders with a gift dedicated to a name containing `text`, newest first (or
    oldest first), within `where` and at most `limit` of them.

    Asked apart from the order's own columns: an EXISTS inside the search's OR would make
    PostgreSQL read every order instead of combining the trigram indexes.
    """
    order = NEWEST_FIRST if newest_first else OLDEST_FIRST
    lines = select(OrderLine.order_id).where(contains(OrderLine.dedication_name, text))
    stmt = select(Order.id).where(Order.id.in_(lines), *where).order_by(*order).limit(limit)
    return list(db.session.scalars(stmt))


def _search(text: str, dedicated: Sequence[int] | None) -> ColumnElement[bool]:
    """Number, email or donor name (contains, any case), a Stripe id, or one of the orders
    `dedicated` to a matching name (dedicated_orders; None: asked here, for the export)."""
    arms = [contains(Order.number, text), contains(Order.email, text),
            contains(Order.name, text),
            Order.stripe_payment_intent_id == text, Order.stripe_session_id == text,
            Order.stripe_invoice_id == text]
    if dedicated is None:
        arms.append(Order.id.in_(select(OrderLine.order_id).where(
            contains(OrderLine.dedication_name, text))))
    elif dedicated:
        arms.append(Order.id.in_(dedicated))
    return or_(*arms)


def _conditions(filters: OrderFilters, now: datetime | None = None, *,
                dedicated: Sequence[int] | None = None) -> list[ColumnElement[bool]]:
    conditions = _plain_conditions(filters, now)
    if filters.q:
        conditions.append(_search(filters.q, dedicated))
    return conditions


def _plain_conditions(filters: OrderFilters, now: datetime | None = None
                      ) -> list[ColumnElement[bool]]:
    """Every filter but the search text."""
    conditions: list[ColumnElement[bool]] = []
    if filters.status:
        conditions.append(Order.status == filters.status)
    elif not filters.abandoned and not filters.q:
        # The default list: paid and open-to-act orders, and checkouts of the last day.
        cutoff = (now or utcnow()) - ABANDONED_AFTER
        conditions.append(or_(Order.status.notin_(ABANDONED_STATUSES),
                              Order.created_at >= cutoff))
    if filters.kind:
        conditions.append(Order.kind == filters.kind)
    if filters.attention == "failed":
        conditions.append(exists().where(SideEffect.order_id == Order.id,
                                         SideEffect.status == SideEffectStatus.FAILED))
    if filters.paid_from:
        conditions.append(Order.paid_at >= datetime.combine(filters.paid_from, time.min, UTC))
    if filters.paid_to:
        conditions.append(Order.paid_at < datetime.combine(filters.paid_to + timedelta(days=1),
                                                           time.min, UTC))
    return conditions


def order_query(filters: OrderFilters | None = None) -> Select[tuple[Order]]:
    """Orders matching the filters, newest first."""
    return select(Order).where(*_conditions(filters or OrderFilters())).order_by(*NEWEST_FIRST)


def count_failed() -> int:
    """Orders with a receipt, packing order or notice that failed: the dashboard's count,
    the same orders as the list's `attention=failed` filter. Counted from the failed side
    effects (their status index), not by testing every order."""
    return int(db.session.scalar(
        select(func.count(func.distinct(SideEffect.order_id)))
        .where(SideEffect.status == SideEffectStatus.FAILED, SideEffect.order_id.is_not(None))
    ) or 0)


@dataclass(frozen=True)
class Count:
    """How many orders match: exact up to COUNT_EXACT_UP_TO, else the planner's estimate."""

    value: int
    exact: bool


def _count(conditions: Sequence[ColumnElement[bool]], cap: int) -> Count:
    """Counting a million rows for every page is what made the list slow: count at most
    `cap` + 1 rows, and past that ask PostgreSQL's planner (SQLite counts, being small)."""
    if db.session.get_bind().dialect.name != "postgresql":
        total = select(func.count(Order.id)).where(*conditions)
        return Count(int(db.session.scalar(total) or 0), True)
    # Selecting a constant, not a column, lets an index answer alone (index-only scan).
    some = select(literal(1)).select_from(Order).where(*conditions).limit(cap + 1).subquery()
    counted = int(db.session.scalar(select(func.count()).select_from(some)) or 0)
    if counted <= cap:
        return Count(counted, True)
    return Count(max(cap + 1, estimated_rows(select(Order.id).where(*conditions))), False)


def estimated_rows(stmt: Select[Any]) -> int:
    """PostgreSQL's estimate of the rows `stmt` returns (EXPLAIN; nothing is read)."""
    plan = db.session.execute(Explain(stmt)).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class Explain(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON) <select>`, with the select's parameters bound as usual."""

    inherit_cache = False

    def __init__(self, stmt: Select[Any]) -> None:
        self.stmt = stmt


@compiles(Explain, "postgresql")
def _explain(element: Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + str(compiler.process(element.stmt, **kw))


@dataclass(frozen=True)
class OrderPage:
    """One page of the list, with the cursors that lead to the pages beside it."""

    orders: Sequence[Order]
    count: Count
    newer: int | None  # `before=` for the newer page, None on the first page
    older: int | None  # `after=` for the older page, None on the last page

    @property
    def is_first(self) -> bool:
        return self.newer is None


def parse_cursor(args: Mapping[str, Any]) -> tuple[int | None, int | None, str]:
    """The list's `after` and `before` cursors (order ids), and what was wrong with them."""
    values: list[int | None] = []
    for key in ("after", "before"):
        text = str(args.get(key) or "").strip()
        value = row_id(text)
        if text and value is None:
            return None, None, "That page link is broken; start again from the newest orders."
        values.append(value)
    return values[0], values[1], ""


def _beyond(order_id: int, *, older: bool) -> ColumnElement[bool] | None:
    """Orders older (or newer) than order `order_id` in the list's order; None when no
    such order exists."""
    cursor = db.session.execute(
        select(Order.created_at, Order.id).where(Order.id == order_id)).first()
    if cursor is None:
        return None
    key, at = tuple_(Order.created_at, Order.id), tuple_(cursor[0], cursor[1])
    return key < at if older else key > at


def order_page(filters: OrderFilters, *, after: int | None = None, before: int | None = None,
               per_page: int = PER_PAGE) -> OrderPage:
    """A page of the list, newest first: the first page, the one older than order id
    `after`, or the one newer than order id `before` (keyset paging: no page reads the
    orders before it). A cursor that names no order gives the first page."""
    cursor = _beyond(before, older=False) if before else None
    forwards = cursor is None
    if cursor is None and after:
        cursor = _beyond(after, older=True)
    where = _plain_conditions(filters) + ([cursor] if cursor is not None else [])
    if filters.q:
        dedicated = dedicated_orders(filters.q, *where, newest_first=forwards,
                                     limit=per_page + 1)
        where.append(_search(filters.q, dedicated))
    stmt = (select(Order).where(*where)
            .order_by(*(NEWEST_FIRST if forwards else OLDEST_FIRST))
            .options(selectinload(Order.side_effects)).limit(per_page + 1))
    rows = list(db.session.scalars(stmt))
    more = len(rows) > per_page
    rows = rows[:per_page]
    if not forwards:
        rows.reverse()
    first, last = (rows[0].id, rows[-1].id) if rows else (None, None)
    if cursor is None:
        newer, older = None, (last if more else None)
    elif forwards:
        newer, older = first, (last if more else None)
    else:
        newer, older = (first if more else None), last
    # A first page with room to spare holds every match: no need to count them again.
    count = Count(len(rows), True) if cursor is None and not more else count_orders(filters)
    return OrderPage(orders=rows, count=count, newer=newer, older=older)


def count_orders(filters: OrderFilters, cap: int = 0) -> Count:
    """How many orders match the filters (exact up to `cap`, COUNT_EXACT_UP_TO by default)."""
    cap = cap or COUNT_EXACT_UP_TO
    plain = _plain_conditions(filters)
    if not filters.q:
        return _count(plain, cap)
    dedicated = dedicated_orders(filters.q, *plain, limit=cap + 1)
    if len(dedicated) > cap:
        return Count(max(cap + 1, estimated_rows(select(Order.id).where(*plain))), False)
    return _count([*plain, _search(filters.q, dedicated)], cap)


def find_order(number: str) -> Order | None:
    """The order for the staff page, with everything the page shows."""
    if not number or len(number) > 32:
        return None
    return db.session.scalar(
        select(Order)
        .where(Order.number == number)
        .options(selectinload(Order.lines), selectinload(Order.events),
                 selectinload(Order.side_effects))
    )


def lock_order_by_number(number: str) -> Order | None:
    """The order's row, held until commit, so two staff actions happen one after the other."""
    if not number or len(number) > 32:
        return None
    return lock_order_where(Order.number == number)


# --- the CSV export -------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """Keep a spreadsheet from running a text cell as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value is not None else ""


def csv_rows(filters: OrderFilters, batch_size: int = CSV_BATCH, *,
             at_most: int | None = None) -> Iterator[list[Any]]:
    """The export's rows (no header), newest first, fetched in batches of `batch_size`.

    Each batch is its own query, continuing after the last order of the one before
    (keyset), so no cursor or transaction stays open between batches and the cost of a
    batch does not grow with how far the export has got. `at_most`: the caller counted no
    more matches than that (the streamed export), so the dedicated orders are asked once
    and the search uses its indexes.

    Amounts are in the currency's major unit with its decimals ("80.08"); goods and gift
    split the net amount by shop.orders.accounting's rule (a refund comes off the gift
    first), so goods + gift == net.
    """
    plain = _plain_conditions(filters)
    dedicated = None
    if filters.q and at_most is not None:
        dedicated = dedicated_orders(filters.q, *plain, limit=at_most + 1)
    conditions = plain + ([_search(filters.q, dedicated)] if filters.q else [])
    receipt = aliased(SideEffect, name="receipt")
    packing = aliased(SideEffect, name="packing")

    def line_sum(*where: ColumnElement[bool]) -> Any:
        return (select(func.coalesce(func.sum(OrderLine.unit_price_cents * OrderLine.quantity),
                                     0))
                .where(OrderLine.order_id == Order.id, *where).scalar_subquery())

    def first_dedication(column: Any) -> Any:
        return (select(column).where(OrderLine.order_id == Order.id,
                                     OrderLine.dedication_name.is_not(None))
                .order_by(OrderLine.id).limit(1).scalar_subquery())

    stmt = (
        select(
            Order.number, Order.paid_at, Order.status, Order.email, Order.name,
            Order.total_cents, Order.refunded_cents,
            line_sum(OrderLine.kind == "package"), line_sum(OrderLine.kind == "donation"),
            line_sum(OrderLine.kind == "donation", OrderLine.name == FEE_LINE_NAME),
            Order.currency, first_dedication(OrderLine.dedication_type),
            first_dedication(OrderLine.dedication_name), Order.anonymous,
            MonthlyGift.stripe_subscription_id, Order.monthly_gift_id,
            Order.stripe_payment_intent_id, Order.created_at, Order.kind, Order.packages,
            Order.stripe_session_id, receipt.done_at, packing.status, packing.reference,
            Order.id.label("order_key"),
        )
        .outerjoin(MonthlyGift, MonthlyGift.id == Order.monthly_gift_id)
        .outerjoin(receipt, and_(receipt.order_id == Order.id,
                                 receipt.kind == SideEffectKind.RECEIPT))
        .outerjoin(packing, and_(packing.order_id == Order.id,
                                 packing.kind == SideEffectKind.PACKING_ORDER))
        .order_by(*NEWEST_FIRST)
        .limit(batch_size)
    )
    last: tuple[datetime, int] | None = None
    while True:
        after = [tuple_(Order.created_at, Order.id) < tuple_(*last)] if last else []
        batch = db.session.execute(stmt.where(*conditions, *after)).all()
        yield from (_csv_row(row) for row in batch)
        if len(batch) < batch_size:
            return
        last = (batch[-1].created_at, batch[-1].order_key)


def _csv_row(row: Any) -> list[Any]:
    (number, paid_at, status, email, name, total, refunded, goods, gift, fee, currency,
     dedication_type, dedication_name, anonymous, subscription, plan_id, intent,
     created_at, kind, packages, session_id, receipt_sent_at, packing_status,
     packing_ref, _) = row
    goods_kept, gift_kept = kept(int(goods or 0), int(gift or 0), int(refunded or 0))

    def money(cents: int, currency: str = currency) -> str:
        return format_plain(cents, currency)

    dedication = ""
    if dedication_name:
        dedication = f"{dedication_words(dedication_type)} {dedication_name}"
    plan = subscription or (f"plan-{plan_id}" if plan_id else "")
    return [neutralise(value) for value in (
        number, _iso(paid_at), status, email, name, money(total), money(refunded),
        money(total - refunded), money(goods_kept), money(gift_kept), money(int(fee or 0)),
        currency, dedication, "yes" if anonymous else "no", plan, intent or "",
        _iso(created_at), kind, packages, session_id or "", _iso(receipt_sent_at),
        packing_status or "", packing_ref or "",
    )]


def csv_chunks(filters: OrderFilters, batch_size: int = CSV_BATCH, *,
               at_most: int | None = None) -> Iterator[str]:
    """The export as text: the header, then the rows a batch at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = csv_rows(filters, batch_size=batch_size, at_most=at_most)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % batch_size == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# --- the staff's actions --------------------------------------------------------------


def _state_words(order: Order) -> str:
    return label(order.status).lower()


def ship_refusal(order: Order) -> str | None:
    """Why staff may not mark this order shipped, or None when they may.

    Only an order that ships something of its own: not a gift, not packages that travel
    in a unit's packing order (the unit ships), not while a note waits for review or a
    dispute holds it, and only once the partner has its packing order.
    """
    number = order.number
    if not order.own_package_lines:
        if order.unit_package_lines:
            return (f"Order {number} cannot be marked shipped: its packages travel with a "
                    "unit, and the unit's packing order ships them (see Units).")
        return f"Order {number} cannot be marked shipped: it is a gift, nothing ships."
    if order.status == OrderStatus.FULFILLED:
        return f"Order {number} is already marked shipped."
    if order.status == OrderStatus.NEEDS_REVIEW:
        return f"Order {number} is under review; resolve the review before shipping it."
    if order.status == OrderStatus.DISPUTED:
        return f"Order {number} cannot be marked shipped: a dispute holds it."
    if notes_awaiting_approval(order):
        return (f"Order {number} cannot be marked shipped: a note of support waits for "
                "approval.")
    if not can_move(order.status, OrderStatus.FULFILLED):
        return (f"Order {number} cannot be marked shipped: it is {_state_words(order)}. "
                "Only a paid order can be shipped.")
    packing = order.side_effect(SideEffectKind.PACKING_ORDER)
    if packing is None or packing.status != SideEffectStatus.DONE:
        state = packing.status if packing is not None else "not made"
        return (f"Order {number} cannot be marked shipped: its packing order has not reached "
                f"the partner (it is {state}).")
    return None


def mark_shipped(order: Order, tracking_note: str | None, actor: str) -> OrderEvent:
    """Paid -> fulfilled; the tracking note goes on the timeline. ActionRefused otherwise."""
    note = (tracking_note or "").strip()
    if len(note) > MAX_TRACKING_NOTE:
        raise ActionRefused(f"The tracking note is too long ({MAX_TRACKING_NOTE} characters "
                            "at most).")
    refusal = ship_refusal(order)
    if refusal is not None:
        raise ActionRefused(refusal)
    reason = "Marked shipped" + (f". Tracking: {note}" if note else "")
    try:
        return move_or_raise(order, OrderStatus.FULFILLED, reason=reason, actor=actor,
                             data={"tracking_note": note} if note else None)
    except IllegalTransition as exc:  # pragma: no cover - ship_refusal checked the move
        raise ActionRefused(f"Order {number_of(order)} cannot be marked shipped.") from exc


def number_of(order: Order) -> str:
    return order.number or f"order {order.id}"


def resend_receipt(order: Order, actor: str) -> SideEffect:
    """Send the donor's receipt again (only an order that was paid has one)."""
    effect = order.side_effect(SideEffectKind.RECEIPT)
    if effect is None:
        raise ActionRefused(f"Order {order.number} has no receipt to send: it is "
                            f"{_state_words(order)} and was never paid.")
    reason = "sent again at staff request"
    if order.refunded_cents:
        reason = (f"amended receipt (refunded {format_money(order.refunded_cents, order.currency)}"
                  f" of {format_money(order.total_cents, order.currency)}) {reason}")
    send_again(effect, actor=actor, reason=reason)
    return effect


def retry_packing_order(order: Order, actor: str) -> SideEffect:
    """Send the packing order to the partner again, unless the partner already has it."""
    effect = order.side_effect(SideEffectKind.PACKING_ORDER)
    if effect is None:
        raise ActionRefused(f"Order {order.number} has no packing order (no packages, or "
                            "never paid).")
    if effect.status == SideEffectStatus.DONE:
        ref = f" (reference {effect.reference})" if effect.reference else ""
        raise ActionRefused(f"The packing order for {order.number} was already accepted by "
                            f"the partner{ref}; nothing to retry.")
    if effect.status not in (SideEffectStatus.FAILED, SideEffectStatus.PENDING):
        raise ActionRefused(f"The packing order for {order.number} is {effect.status}; only "
                            "a failed or pending packing order can be retried.")
    if order.status in MONEY_RETURNED:
        raise ActionRefused(f"Order {order.number} is {_state_words(order)}; nothing should "
                            "be packed for it.")
    send_again(effect, actor=actor, reason="retried at staff request")
    return effect
