"""CampaignTotals: the storefront's progress bar, cached so a page view never adds up orders;
CampaignSettings: the campaign as staff set it in the back office."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import Cents, UTCDateTime, db, utcnow


class CampaignTotals(db.Model):  # type: ignore[name-defined, misc]
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


class CampaignSettings(db.Model):  # type: ignore[name-defined, misc]
    """The campaign as staff set it on /staff/campaign. One row (id 1); until staff save it
    the settings (CAMPAIGN_*, UNIT_*) are the campaign."""

    __tablename__ = "campaign_settings"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="dates_in_order"),
        CheckConstraint("goal_packages >= 1", name="goal_packages_positive"),
        CheckConstraint("goal_cents >= 1", name="goal_cents_positive"),
        CheckConstraint("unit_size >= 2", name="unit_size_at_least_two"),
        CheckConstraint("partial_policy in ('ship', 'hold')", name="partial_policy"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # the last day, included
    goal_packages: Mapped[int] = mapped_column()
    goal_cents: Mapped[Cents] = mapped_column()
    unit_size: Mapped[int] = mapped_column()
    partial_policy: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(320), default="")
