"""The signed link on every monthly receipt that lets a donor see and cancel their plan."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from shop.donations.models import MonthlyGift
from shop.extensions import db

_SALT = "monthly-gift-link"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def plan_token(plan: MonthlyGift) -> str:
    # The email is signed too, so a link stays tied to the donor it was sent to.
    return str(_serializer().dumps([plan.id, plan.email.lower()]))


def plan_url(plan: MonthlyGift) -> str:
    return f"{current_app.config['PUBLIC_URL']}/monthly/{plan_token(plan)}"


def plan_from_token(token: str) -> MonthlyGift | None:
    try:
        plan_id, email = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    plan = db.session.get(MonthlyGift, plan_id) if isinstance(plan_id, int) else None
    if plan is None or plan.email.lower() != email:
        return None
    return plan
