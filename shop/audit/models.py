"""AuditEntry: one staff action (or a login), written in the same transaction as the action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import UTCDateTime, db, utcnow


class AuditEntry(db.Model):  # type: ignore[name-defined, misc]
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The email is kept as it was: a deleted or renamed account still reads right here.
    actor: Mapped[str] = mapped_column(String(320))
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True
    )
    # What was done, as a dotted name: "order.refund", "catalog.price", "login.failed" ...
    action: Mapped[str] = mapped_column(String(60), index=True)
    # What it was done to, in words staff search for: an order number, a bundle, an email.
    target: Mapped[str] = mapped_column(String(320), default="")
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    message: Mapped[str] = mapped_column(Text, default="")
    # The client's address as the app sees it (behind a proxy, after ProxyFix).
    address: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
