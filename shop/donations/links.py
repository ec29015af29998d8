"""The link on every monthly receipt that lets a donor see and cancel their plan.

The link carries an opaque random token stored with the plan (`manage_token`, 192 bits),
never the donor's email. Links sent before carried a signature over the plan's id and
email; they still lead to the plan, by a redirect to its new address.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from shop.donations.models import MonthlyGift
from shop.extensions import db

_SALT = "monthly-gift-link"
MAX_TOKEN_LENGTH = 64


def plan_token(plan: MonthlyGift) -> str:
    return plan.manage_token


def plan_url(plan: MonthlyGift) -> str:
    return f"{current_app.config['PUBLIC_URL']}/monthly/{plan_token(plan)}"


def plan_from_token(token: str) -> MonthlyGift | None:
    """The plan whose link carries this token, or None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    found: MonthlyGift | None = db.session.scalar(
        db.select(MonthlyGift).where(MonthlyGift.manage_token == token))
    return found


def plan_from_signed_link(token: str) -> MonthlyGift | None:
    """The plan of a link in the older signed form ([id, email] signed with SECRET_KEY)."""
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)
    try:
        plan_id, email = serializer.loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    plan = db.session.get(MonthlyGift, plan_id) if isinstance(plan_id, int) else None
    if plan is None or not isinstance(email, str) or plan.email.lower() != email:
        return None
    return plan
