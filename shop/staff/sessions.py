"""Staff sessions kept server-side: start (rotated at login), resume, end, expire; and
failed-login throttling per account and per address, with a lockout an admin can lift.

Like every service these change and flush; the view commits. OWASP's Session Management
and Authentication cheat sheets are the source of the rules: a new session id at login,
logout that ends the session on the server, an idle timeout, and throttled logins.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shop.extensions import db, utcnow
from shop.staff.models import LoginThrottle, StaffSession, StaffUser

# last_seen_at is written at most this often: one write a minute, not one per page.
TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["STAFF_SESSION_IDLE_MINUTES"])


def max_age() -> timedelta:
    return timedelta(hours=current_app.config["STAFF_SESSION_MAX_HOURS"])


def start(user: StaffUser, *, address: str | None, user_agent: str) -> str:
    """A new session for this login; returns the token the cookie will carry."""
    token = secrets.token_urlsafe(32)
    db.session.add(StaffSession(token_hash=_hash(token), staff_user_id=user.id,
                                address=(address or "")[:64] or None,
                                user_agent=(user_agent or "")[:200]))
    db.session.flush()
    user.session_token = token
    return token


@dataclass(frozen=True)
class Resumed:
    user: StaffUser | None
    # Why an existing session no longer works ("idle", "logout", ...), for the login page.
    ended: str | None = None


def resume(token: str, now: datetime | None = None) -> Resumed:
    """The user of a live session, or why it ended. An idle or too old session is ended."""
    if not token or len(token) > 100:
        return Resumed(None)
    row = db.session.scalar(select(StaffSession).where(StaffSession.token_hash == _hash(token)))
    if row is None:
        return Resumed(None)
    if row.ended_at is not None:
        return Resumed(None, row.ended_reason or "ended")
    moment = now or utcnow()
    user = db.session.get(StaffUser, row.staff_user_id)
    reason = None
    if user is None or not user.active:
        reason = "deactivated"
    elif moment - row.last_seen_at > idle_limit():
        reason = "idle"
    elif moment - row.created_at > max_age():
        reason = "expired"
    if reason is not None:
        row.ended_at, row.ended_reason = moment, reason
        return Resumed(None, reason)
    assert user is not None
    user.session_token = token
    return Resumed(user)


def touch(token: str, now: datetime | None = None) -> bool:
    """Note activity on the session (at most once a minute). True when it wrote."""
    moment = now or utcnow()
    result = db.session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _hash(token), StaffSession.ended_at.is_(None),
               StaffSession.last_seen_at < moment - TOUCH_EVERY)
        .values(last_seen_at=moment)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def end(token: str, reason: str) -> None:
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _hash(token), StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
        .execution_options(synchronize_session=False)
    )


def end_all(user: StaffUser, reason: str, *, keep: str | None = None) -> int:
    """End every open session of the user (but `keep`, the caller's own); the count."""
    stmt = (update(StaffSession)
            .where(StaffSession.staff_user_id == user.id, StaffSession.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason=reason)
            .execution_options(synchronize_session=False))
    if keep:
        stmt = stmt.where(StaffSession.token_hash != _hash(keep))
    return int(getattr(db.session.execute(stmt), "rowcount", 0) or 0)


def open_sessions(user: StaffUser) -> int:
    rows = db.session.scalars(
        select(StaffSession.last_seen_at).where(StaffSession.staff_user_id == user.id,
                                                StaffSession.ended_at.is_(None))
    ).all()
    cutoff = utcnow() - idle_limit()
    return sum(1 for seen in rows if seen >= cutoff)


# --- failed logins -------------------------------------------------------------------


def _limits(scope: str) -> int:
    key = ("STAFF_LOGIN_MAX_FAILURES" if scope == "account"
           else "STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS")
    return int(current_app.config[key])


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["STAFF_LOGIN_WINDOW_MINUTES"])


def _lockout() -> timedelta:
    return timedelta(minutes=current_app.config["STAFF_LOCKOUT_MINUTES"])


def _row(scope: str, key: str, *, create: bool) -> LoginThrottle | None:
    query = (select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
             .with_for_update().execution_options(populate_existing=True))
    row = db.session.scalar(query)
    if row is not None or not create:
        return row
    try:
        with db.session.begin_nested():
            row = LoginThrottle(scope=scope, key=key, failures=0, window_started_at=utcnow())
            db.session.add(row)
    except IntegrityError:
        row = db.session.scalar(query)  # another request made it first
    return row


def _keys(email: str, address: str | None) -> list[tuple[str, str]]:
    keys = [("account", email.strip().lower()[:320])] if email.strip() else []
    if address:
        keys.append(("address", address[:320]))
    return keys


def locked(email: str, address: str | None, now: datetime | None = None) -> LoginThrottle | None:
    """The lockout that refuses this login now (the account's first), or None."""
    moment = now or utcnow()
    for scope, key in _keys(email, address):
        row: LoginThrottle | None = db.session.scalar(
            select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key))
        if row is not None and row.locked_until is not None and row.locked_until > moment:
            return row
    return None


def note_failure(email: str, address: str | None) -> LoginThrottle | None:
    """Count a failed login against the account and the address; the lockout it caused."""
    now = utcnow()
    caused = None
    for scope, key in _keys(email, address):
        row = _row(scope, key, create=True)
        assert row is not None
        if now - row.window_started_at > _window():
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        if row.failures >= _limits(scope):
            row.locked_until = now + _lockout()
            row.failures, row.window_started_at = 0, now
            caused = caused or row
    db.session.flush()
    return caused


def note_success(email: str) -> None:
    """A right password clears the account's count (not the address's)."""
    row = _row("account", email.strip().lower(), create=False)
    if row is not None:
        row.failures, row.locked_until = 0, None


def lockouts(now: datetime | None = None) -> Sequence[LoginThrottle]:
    """Lockouts in force now, for the admins' page."""
    return db.session.scalars(
        select(LoginThrottle).where(LoginThrottle.locked_until > (now or utcnow()))
        .order_by(LoginThrottle.scope, LoginThrottle.key)
    ).all()


def lift(throttle_id: int) -> LoginThrottle | None:
    """An admin lifts a lockout; the count starts again from zero."""
    row = db.session.get(LoginThrottle, throttle_id)
    if row is not None:
        row.locked_until, row.failures, row.window_started_at = None, 0, utcnow()
    return row
