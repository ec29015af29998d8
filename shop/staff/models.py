"""StaffUser: who may log in to the staff area, and what they may do there."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from shop.extensions import UTCDateTime, db, utcnow

ROLES = ("admin", "manager", "viewer")
# Roles that may change orders; a viewer only looks.
ACTING_ROLES = frozenset({"admin", "manager"})


class StaffUser(UserMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role in ('admin', 'manager', 'viewer')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always stored lowercased, so the unique constraint is case-insensitive in effect.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @validates("email")
    def _lowercase_email(self, _key: str, value: str) -> str:
        return value.strip().lower()

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def can_act(self) -> bool:
        return self.role in ACTING_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<StaffUser {self.email} ({self.role})>"
