"""The staff blueprint under /staff: who may open its pages, and the modules that add them.

Each staff module adds its own pages through its `register(bp)`; this is the one place
that lists them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from shop.extensions import db, login_manager
from shop.orders import notes_review
from shop.orders.state import STATUS_LABELS
from shop.staff import (
    audit,
    campaign,
    catalog,
    dashboard,
    monthly,
    notes,
    sessions,
    units,
    users,
    views,
)
from shop.staff.auth import current_staff

# Pages anyone may open: the login page and the invitation link.
PUBLIC_ENDPOINTS = frozenset({"staff.login", "staff.accept_invite"})

PAGES = (views, dashboard, notes, units, campaign, catalog, monthly, audit, users)


def create_blueprint() -> Blueprint:
    """A staff blueprint with every staff page, behind the login."""
    bp = Blueprint("staff", __name__, url_prefix="/staff")
    bp.before_request(require_login)
    bp.after_request(never_cache)
    bp.context_processor(staff_helpers)
    for module in PAGES:
        module.register(bp)
    return bp


def require_login() -> ResponseReturnValue | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.is_authenticated:
        token = current_staff().session_token
        if token and sessions.touch(token):
            db.session.commit()  # the session's last activity, at most once a minute
        return None
    found: ResponseReturnValue = login_manager.unauthorized()
    return found


def never_cache(response: Response) -> Response:
    # Order data and donors' emails must not stay in a shared browser's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def staff_helpers() -> dict[str, Any]:
    # A function, so only pages that show the count (the nav) run the query.
    return {"status_labels": STATUS_LABELS, "notes_to_review": notes_review.pending_count}
