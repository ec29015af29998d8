"""GET /api/campaign: the campaign's progress and its units, from the cache."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from shop.campaign.service import Progress, progress
from shop.extensions import db, utcnow
from shop.units.service import UnitProgress, storefront_units, visible_units

bp = Blueprint("campaign", __name__)


def current_progress() -> Progress:
    """The cached progress; the first request ever makes the cache and keeps it."""
    result, created = progress()
    if created:
        db.session.commit()
    return result


def storefront_campaign() -> tuple[Progress, list[UnitProgress]]:
    return current_progress(), storefront_units(utcnow())


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
        "units": [
            {"number": unit.number, "packages_funded": unit.packages_funded,
             "packages": unit.packages}
            for unit in visible_units(utcnow())
        ],
    })
