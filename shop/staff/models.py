"""StaffUser, StaffSession, LoginThrottle, Export: who may log in to the staff area, what
they may do there, the sessions they hold, the failed logins that lock an account or
address, and the large exports built for them."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from shop.extensions import UTCDateTime, db, utcnow
from shop.staff.export_state import ExportStatus
from shop.statuses import StatusType, check_in

ROLES = ("admin", "manager", "viewer")
# Roles that may change orders; a viewer only looks.
ACTING_ROLES = frozenset({"admin", "manager"})


class StaffUser(UserMixin, db.Model):  # type: ignore[name-defined, misc]
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
    # Who invited this person from /staff/users (empty for accounts made on the command line).
    invited_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    # An invitation not yet accepted: the SHA-256 of its one-time token, and its deadline.
    invite_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invite_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def session_token(self) -> str | None:
        """The staff session this request runs in (not a column): Flask-Login keeps its
        token in the signed cookie instead of the user id, so ending the session on the
        server ends it."""
        return self.__dict__.get("_session_token")

    @session_token.setter
    def session_token(self, token: str | None) -> None:
        self.__dict__["_session_token"] = token

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("a staff user is logged in only through a staff session")
        return self.session_token

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


class StaffSession(db.Model):  # type: ignore[name-defined, misc]
    """One login: the cookie carries a random token, the database only its SHA-256.

    Logging out, deactivating the account or idling past the limit ends it here, so a
    copied cookie stops working at once.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # logout, idle, expired, deactivated, role changed, password changed
    ended_reason: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class LoginThrottle(db.Model):  # type: ignore[name-defined, misc]
    """Failed logins of one account (by email) or one address, and its lockout."""

    __tablename__ = "login_throttles"
    __table_args__ = (
        UniqueConstraint("scope", "key", name="uq_login_throttles_scope_key"),
        CheckConstraint("scope in ('account', 'address')", name="scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(320))
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class Export(db.Model):  # type: ignore[name-defined, misc]
    """A large CSV export of orders, built by a task into a file (shop.staff.exports)."""

    __tablename__ = "exports"
    __table_args__ = (check_in("status", ExportStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # In the status page's and the download's address: not guessable, not the id.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[ExportStatus] = mapped_column(StatusType(ExportStatus),
                                                 default=ExportStatus.QUEUED)
    # The list's filters as query arguments (OrderFilters.as_args), and the file's name.
    filters: Mapped[dict[str, str]] = mapped_column(JSON)
    filename: Mapped[str] = mapped_column(String(255))
    created_by: Mapped[str] = mapped_column(String(320), index=True)
    # The planner's estimate when it was asked for, then the rows written so far.
    rows_estimated: Mapped[int] = mapped_column(default=0)
    rows_written: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
