"""Write and read the audit log. Writers flush; the caller's commit keeps the entry
together with the action it describes (a rolled-back action leaves no entry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from shop.audit.models import AuditEntry
from shop.extensions import db

PER_PAGE = 100
MAX_MESSAGE = 2000

# What each action is called on /staff/audit and on an order's timeline.
ACTION_LABELS = {
    "login": "Logged in",
    "login.failed": "Login refused",
    "login.locked": "Login locked out",
    "logout": "Logged out",
    "order.ship": "Marked shipped",
    "order.refund": "Refund sent to Stripe",
    "order.refund_retry": "Refund asked of Stripe again",
    "order.resend_receipt": "Receipt sent again",
    "order.retry_packing_order": "Packing order sent again",
    "order.approve": "Payment approved after review",
    "order.export": "Orders exported",
    "order.export_download": "Export downloaded",
    "note.approve": "Note approved",
    "note.reject": "Note rejected",
    "unit.ship": "Unit shipped as it is",
    "unit.retry_packing_order": "Unit packing order sent again",
    "catalog.product": "Product changed",
    "catalog.bundle": "Bundle changed",
    "catalog.price": "Price changed",
    "campaign.update": "Campaign changed",
    "user.invite": "Staff invited",
    "user.role": "Role changed",
    "user.deactivate": "Staff deactivated",
    "user.reactivate": "Staff reactivated",
    "user.unlock": "Lockout lifted",
    "user.password": "Password set",
}


def label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace(".", " ").replace("_", " ").capitalize())


def record(action: str, *, actor: str, staff_user_id: int | None = None,
           address: str | None = None, target: str = "", order_id: int | None = None,
           message: str = "", data: dict[str, Any] | None = None) -> AuditEntry:
    """Add one entry (flushed with the caller's transaction)."""
    entry = AuditEntry(
        action=action, actor=actor[:320], staff_user_id=staff_user_id,
        address=(address or None) and address[:64], target=target[:320],
        order_id=order_id, message=message[:MAX_MESSAGE], data=data,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def for_order(order_id: int) -> Sequence[AuditEntry]:
    """The staff actions on one order, oldest first (for the order's timeline)."""
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.order_id == order_id)
        .order_by(AuditEntry.created_at, AuditEntry.id)
    ).all()


def recent(action: str, *, limit: int = 20) -> Sequence[AuditEntry]:
    """The newest entries of one action (e.g. the catalog's price changes)."""
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action)
        .order_by(AuditEntry.id.desc()).limit(limit)
    ).all()


@dataclass(frozen=True)
class AuditPage:
    entries: Sequence[AuditEntry]
    has_older: bool
    before: int | None  # the id to ask for the next (older) page with


def page(*, actor: str = "", action: str = "", target: str = "",
         before: int | None = None, per_page: int = PER_PAGE) -> AuditPage:
    """Newest first, a page at a time by id (no count of the whole log)."""
    stmt = select(AuditEntry)
    if actor:
        stmt = stmt.where(func.lower(AuditEntry.actor) == actor.strip().lower())
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    if target:
        stmt = stmt.where(AuditEntry.target.icontains(target, autoescape=True))
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    rows = list(db.session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(per_page + 1)))
    has_older = len(rows) > per_page
    rows = rows[:per_page]
    return AuditPage(entries=rows, has_older=has_older,
                     before=rows[-1].id if has_older and rows else None)
