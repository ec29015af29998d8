"""The campaign's progress as the storefront and GET /api/campaign show it."""

from __future__ import annotations

from shop.campaign.service import Progress, progress
from shop.extensions import db, utcnow
from shop.units.service import UnitProgress, storefront_units


def current_progress() -> Progress:
    """The cached progress; the first request ever makes the cache and keeps it."""
    result, created = progress()
    if created:
        db.session.commit()
    return result


def storefront_campaign() -> tuple[Progress, list[UnitProgress]]:
    return current_progress(), storefront_units(utcnow())
