"""GET /api/campaign: the campaign's progress and its units, from the cache."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from shop.campaign.presenters import current_progress
from shop.extensions import utcnow
from shop.units.service import visible_units

bp = Blueprint("campaign", __name__)


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
