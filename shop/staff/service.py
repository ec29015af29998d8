"""Staff rules: accounts and passwords, finding and exporting orders, the staff's actions.

Like every service, these functions change and flush; the view or command commits.
"""

from __future__ import annotations

import csv
import io
import math
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import aliased, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from shop.extensions import db, utcnow
from shop.orders.lifecycle import move_or_raise
from shop.orders.models import Order, OrderEvent, SideEffect
from shop.orders.service import lock_order_where
from shop.orders.side_effect_state import SideEffectKind, SideEffectStatus
from shop.orders.side_effects import send_again
from shop.orders.state import (
    MONEY_RETURNED,
    STATUS_LABELS,
    IllegalTransition,
    OrderStatus,
    label,
)
from shop.staff.models import ROLES, StaffUser

MIN_PASSWORD_LENGTH = 10
INCORRECT_LOGIN = "Email or password is incorrect."
PER_PAGE = 50
KINDS = ("package", "donation", "mixed")
MAX_SEARCH_LENGTH = 320
MAX_TRACKING_NOTE = 500
CSV_BATCH = 500
CSV_COLUMNS = (
    "number", "created_at", "status", "kind", "email", "name", "packages", "total_cents",
    "currency", "stripe_session_id", "stripe_payment_intent_id", "receipt_sent_at",
    "fulfilment_status", "fulfilment_reference",
)
# A spreadsheet runs a cell starting with these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NEWEST_FIRST = (Order.created_at.desc(), Order.id.desc())


class StaffError(ValueError):
    """A staff account cannot be created as asked; the message says why."""


class ActionRefused(Exception):
    """A staff action that the order's current state does not allow; nothing changed."""


# --- accounts -------------------------------------------------------------------------


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
    if not password:
        raise StaffError("The password is empty.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"The password is too short: use at least {MIN_PASSWORD_LENGTH} "
                         "characters.")
    password_hash = generate_password_hash(password, method="scrypt")
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


@cache
def _dummy_hash() -> str:
    """A hash to check unknown emails against, so they take as long as known ones."""
    return generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active staff user with this email and password, or None (same cost either way)."""
    address = normalize_email(email)
    user = None
    if address and len(address) <= 320:
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == address))
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


# --- finding orders -------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    kind: str = ""
    q: str = ""

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments, leaving out the empty ones."""
        return {k: v for k, v in (("status", self.status), ("kind", self.kind), ("q", self.q))
                if v}


def parse_filters(args: Mapping[str, Any]) -> tuple[OrderFilters, list[str]]:
    """The list's filters from query arguments, and what was wrong with them."""
    problems = []
    status = str(args.get("status") or "").strip()
    kind = str(args.get("kind") or "").strip()
    q = str(args.get("q") or "").strip()
    if status and status not in STATUS_LABELS:
        problems.append(f"There is no order status {status!r}.")
        status = ""
    if kind and kind not in KINDS:
        problems.append(f"There is no order kind {kind!r}; use package, donation or mixed.")
        kind = ""
    if len(q) > MAX_SEARCH_LENGTH:
        problems.append(f"The search is too long ({MAX_SEARCH_LENGTH} characters at most).")
        q = ""
    return OrderFilters(status=status, kind=kind, q=q), problems


def _conditions(status: str | None, kind: str | None, q: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if status:
        conditions.append(Order.status == status)
    if kind:
        conditions.append(Order.kind == kind)
    text = (q or "").strip()
    if text:
        conditions.append(or_(Order.number.icontains(text, autoescape=True),
                              Order.email.icontains(text, autoescape=True)))
    return conditions


def order_query(status: str | None = None, kind: str | None = None,
                q: str | None = None) -> Select[tuple[Order]]:
    """Orders matching the filters, newest first. Search matches the number or the email."""
    return select(Order).where(*_conditions(status, kind, q)).order_by(*NEWEST_FIRST)


@dataclass(frozen=True)
class OrderPage:
    orders: Sequence[Order]
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def order_page(filters: OrderFilters, page: int, per_page: int = PER_PAGE) -> OrderPage:
    """One page of the list; a page number out of range shows the nearest page."""
    conditions = _conditions(filters.status, filters.kind, filters.q)
    total = db.session.scalar(select(func.count(Order.id)).where(*conditions)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    stmt = (
        order_query(filters.status, filters.kind, filters.q)
        .options(selectinload(Order.side_effects))
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return OrderPage(orders=list(db.session.scalars(stmt)), page=page, pages=pages, total=total)


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


def csv_rows(status: str | None = None, kind: str | None = None,
             q: str | None = None, batch_size: int = CSV_BATCH) -> Iterator[list[Any]]:
    """The export's rows (no header), fetched from the database in batches."""
    receipt = aliased(SideEffect, name="receipt")
    packing = aliased(SideEffect, name="packing")
    stmt = (
        select(
            Order.number, Order.created_at, Order.status, Order.kind, Order.email, Order.name,
            Order.packages, Order.total_cents, Order.currency, Order.stripe_session_id,
            Order.stripe_payment_intent_id, receipt.done_at, packing.status, packing.reference,
        )
        .outerjoin(receipt, and_(receipt.order_id == Order.id,
                                 receipt.kind == SideEffectKind.RECEIPT))
        .outerjoin(packing, and_(packing.order_id == Order.id,
                                 packing.kind == SideEffectKind.PACKING_ORDER))
        .where(*_conditions(status, kind, q))
        .order_by(*NEWEST_FIRST)
        .execution_options(yield_per=batch_size)
    )
    for row in db.session.execute(stmt):
        (number, created_at, order_status, order_kind, email, name, packages, total_cents,
         currency, session_id, intent_id, receipt_sent_at, packing_status, packing_ref) = row
        yield [neutralise(value) for value in (
            number, _iso(created_at), order_status, order_kind, email, name, packages,
            total_cents, currency, session_id, intent_id, _iso(receipt_sent_at),
            packing_status, packing_ref,
        )]


def csv_chunks(filters: OrderFilters, batch_size: int = CSV_BATCH) -> Iterator[str]:
    """The export as text: the header, then the rows a batch at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = csv_rows(filters.status, filters.kind, filters.q, batch_size=batch_size)
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


def mark_shipped(order: Order, tracking_note: str | None, actor: str) -> OrderEvent:
    """Paid -> fulfilled; the tracking note goes on the timeline."""
    note = (tracking_note or "").strip()
    if len(note) > MAX_TRACKING_NOTE:
        raise ActionRefused(f"The tracking note is too long ({MAX_TRACKING_NOTE} characters "
                            "at most).")
    reason = "Marked shipped" + (f". Tracking: {note}" if note else "")
    try:
        return move_or_raise(order, OrderStatus.FULFILLED, reason=reason, actor=actor,
                             data={"tracking_note": note} if note else None)
    except IllegalTransition as exc:
        if order.status == OrderStatus.FULFILLED:
            message = f"Order {order.number} is already marked shipped."
        elif order.status == OrderStatus.NEEDS_REVIEW:
            message = (f"Order {order.number} is under review; resolve the review before "
                       "shipping it.")
        else:
            message = (f"Order {order.number} cannot be marked shipped: it is "
                       f"{_state_words(order)}. Only a paid order can be shipped.")
        raise ActionRefused(message) from exc


def resend_receipt(order: Order, actor: str) -> SideEffect:
    """Send the donor's receipt again (only an order that was paid has one)."""
    effect = order.side_effect(SideEffectKind.RECEIPT)
    if effect is None:
        raise ActionRefused(f"Order {order.number} has no receipt to send: it is "
                            f"{_state_words(order)} and was never paid.")
    send_again(effect, actor=actor, reason="sent again at staff request")
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
