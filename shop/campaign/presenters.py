"""The campaign's progress as the storefront and GET /api/campaign show it."""

from __future__ import annotations

from shop.campaign.service import Progress, progress
from shop.extensions import db, utcnow
from shop.storefront_cache import PROGRESS, STOREFRONT_UNITS, VISIBLE_UNITS, cached
from shop.units.service import UnitProgress, storefront_units, visible_units


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


def shown_units() -> list[UnitProgress]:
    """The units donors see in GET /api/campaign, from the storefront cache."""
    return cached(VISIBLE_UNITS, lambda: visible_units(utcnow()))
