"""GET /api/campaign: the campaign's progress and its units, from the cache."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from shop.campaign.presenters import current_progress, shown_units
from shop.storefront_cache import cacheable_json

bp = Blueprint("campaign", __name__)


@bp.get("/api/campaign")
def campaign_api() -> ResponseReturnValue:
    result = current_progress()
    return cacheable_json({
        "name": result.name,
        "goal_packages": result.goal_packages,
        "packages_funded": result.packages_funded,
        "goal_cents": result.goal_cents,
        "raised_cents": result.raised_cents,
        "currency": result.currency,
        "units": [
            {"number": unit.number, "packages_funded": unit.packages_funded,
             "packages": unit.packages}
            for unit in shown_units()
        ],
    })
