"""Who is logged in: the user loader, the answer without a session, the role checks, and
the audit entry for what the logged-in person did."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from shop.audit import service as audit
from shop.audit.models import AuditEntry
from shop.errors import MESSAGES
from shop.extensions import db, login_manager
from shop.staff import sessions
from shop.staff.models import StaffUser

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


ENDED_MESSAGES = {
    "idle": "Your session ended after a while without activity; please log in again.",
    "expired": "Your session reached its time limit; please log in again.",
    "deactivated": "Your session has ended; please log in again.",
    "role changed": "Your role changed, so your session ended; please log in again.",
    "password changed": "Your password changed, so your session ended; please log in again.",
}


@login_manager.user_loader  # type: ignore[untyped-decorator]
def load_user(token: str) -> StaffUser | None:
    """Flask-Login's id is the staff session's token: a session ended on the server (logout,
    idle, deactivated account) no longer loads, whatever the cookie says."""
    resumed = sessions.resume(str(token or ""))
    if resumed.ended:
        g.staff_session_ended = resumed.ended
    return resumed.user


@login_manager.unauthorized_handler  # type: ignore[untyped-decorator]
def unauthorized() -> ResponseReturnValue:
    """A browser goes to the login page; a script or a download gets 401 JSON."""
    ended = g.pop("staff_session_ended", None)
    if ended:
        db.session.commit()  # keep why the session ended (an idle one is closed now)
    if not request.accept_mimetypes.accept_html:
        return jsonify(error={"code": "login_required", "message": MESSAGES[401]}), 401
    if ended in ENDED_MESSAGES:
        flash(ENDED_MESSAGES[ended], "error")
    # Only a page can be come back to; a form post would arrive as a GET.
    next_path = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("staff.login", next=next_path))


def current_staff() -> StaffUser:
    return cast(StaffUser, current_user._get_current_object())


def manager_required(view: F) -> F:
    """Only admins and managers may act; a viewer gets 403 and nothing changes."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not current_user.is_authenticated:
            return cast(ResponseReturnValue, login_manager.unauthorized())
        if not current_staff().can_act:
            abort(403)
        return view(*args, **kwargs)

    wrapper.staff_role = "manager"  # type: ignore[attr-defined]
    return cast(F, wrapper)


def admin_required(view: F) -> F:
    """Only admins: a manager or viewer gets 403 and nothing changes."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not current_user.is_authenticated:
            return cast(ResponseReturnValue, login_manager.unauthorized())
        if not current_staff().is_admin:
            abort(403)
        return view(*args, **kwargs)

    wrapper.staff_role = "admin"  # type: ignore[attr-defined]
    return cast(F, wrapper)


def refuse_forbidden_roles() -> ResponseReturnValue | None:
    """Answer 403 to a logged-in staff member whose role may not use this view, before
    anything else reads the request (CSRFProtect's check included), so a viewer's action
    post is a 403 with or without a form token. The roles come from the decorators."""
    if request.blueprint != "staff" or request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    needed = getattr(view, "staff_role", None)
    if needed is None or not current_user.is_authenticated:
        return None
    staff = current_staff()
    if not (staff.is_admin if needed == "admin" else staff.can_act):
        abort(403)
    return None


def log_action(action: str, *, target: str = "", order_id: int | None = None,
               message: str = "", data: dict[str, Any] | None = None,
               actor: StaffUser | None = None) -> AuditEntry:
    """Write what the logged-in staff member just did to the audit log (flushed; the
    view's commit keeps it with the action). The address is the client's as Flask sees
    it (the real one behind a configured proxy)."""
    who = actor if actor is not None else current_staff()
    return audit.record(action, actor=who.email, staff_user_id=who.id,
                        address=request.remote_addr, target=target, order_id=order_id,
                        message=message, data=data)


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
