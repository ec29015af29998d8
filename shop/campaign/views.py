"""GET /api/campaign: the campaign's progress and its units, from the cache."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from shop.campaign.service import Progress, progress
from shop.extensions import db, utcnow
from shop.storefront_cache import PROGRESS, STOREFRONT_UNITS, VISIBLE_UNITS, cacheable_json, cached
from shop.units.service import UnitProgress, storefront_units, visible_units

bp = Blueprint("campaign", __name__)


def _progress_now() -> Progress:
    """The progress from the totals row; the first request ever makes the row and keeps it."""
    result, created = progress()
    if created:
        db.session.commit()
    return result


def current_progress() -> Progress:
    """The campaign's progress as donors see it, from the storefront cache."""
    return cached(PROGRESS, _progress_now)


def storefront_campaign() -> tuple[Progress, list[UnitProgress]]:
    return current_progress(), cached(STOREFRONT_UNITS, lambda: storefront_units(utcnow()))


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
            for unit in cached(VISIBLE_UNITS, lambda: visible_units(utcnow()))
        ],
    })
