"""GET /api/campaign: the campaign's progress, from the cache."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from shop.campaign.service import Progress, progress
from shop.extensions import db

bp = Blueprint("campaign", __name__)


def current_progress() -> Progress:
    """The cached progress; the first request ever makes the cache and keeps it."""
    result, created = progress()
    if created:
        db.session.commit()
    return result


@bp.get("/api/campaign")
def campaign_api() -> ResponseReturnValue:
    result = current_progress()
    return jsonify({
        "name": result.name,
        "goal_packages": result.goal_packages,
        "packages_funded": result.packages_funded,
        "goal_cents": result.goal_cents,
        "raised_cents": result.raised_cents,
        "currency": result.currency,
        "units": [],
    })
