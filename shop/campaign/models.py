"""CampaignTotals: the storefront's progress bar, cached so a page view never adds up orders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import Cents, UTCDateTime, db, utcnow


class CampaignTotals(db.Model):  # type: ignore[name-defined]
    """One row per campaign name, rewritten whenever an order's money state changes."""

    __tablename__ = "campaign_totals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    packages_funded: Mapped[int] = mapped_column(default=0)
    raised_cents: Mapped[Cents] = mapped_column(default=0)
    # Orders and gifts that count, one per checkout: "from 41 gifts" beside the bar.
    gifts: Mapped[int] = mapped_column(default=0, server_default="0")
    currency: Mapped[str] = mapped_column(String(3))
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
