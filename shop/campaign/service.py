"""Campaign rules: its settings, what counts towards the goal, and the cached totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import event, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.campaign.models import CampaignTotals
from shop.extensions import db, utcnow
from shop.orders.models import Order
from shop.orders.state import COUNTED_IN_CAMPAIGN


@dataclass(frozen=True)
class Campaign:
    name: str
    start: date
    end: date  # the last day of the campaign, included
    goal_packages: int
    goal_cents: int
    currency: str
    unit_size: int
    partial_policy: str

    @classmethod
    def from_config(cls, config: Any) -> Campaign:
        return cls(
            name=config["CAMPAIGN_NAME"],
            start=config["CAMPAIGN_START"],
            end=config["CAMPAIGN_END"],
            goal_packages=int(config["CAMPAIGN_GOAL_PACKAGES"]),
            goal_cents=int(config["CAMPAIGN_GOAL_CENTS"]),
            currency=config["CURRENCY"],
            unit_size=int(config["UNIT_SIZE"]),
            partial_policy=config["UNIT_PARTIAL_POLICY"],
        )

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def ends_before(self) -> datetime:
        """The first moment after the campaign: midnight UTC after its last day."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def has_ended(self, now: datetime) -> bool:
        return now >= self.ends_before

    def counts(self, status: str, paid_at: datetime | None, currency: str) -> bool:
        """Whether an order with this status and payment time counts towards the goal."""
        return (
            status in COUNTED_IN_CAMPAIGN
            and paid_at is not None
            and self.starts_at <= paid_at < self.ends_before
            and currency == self.currency
        )


def current_campaign() -> Campaign:
    return Campaign.from_config(current_app.config)


@dataclass(frozen=True)
class Contribution:
    packages: int
    cents: int


def contribution(campaign: Campaign, *, status: str, paid_at: datetime | None, currency: str,
                 total_cents: int, refunded_cents: int, packages: int) -> Contribution:
    """What one order adds to the progress bar.

    The money is what was paid less what went back; a partial refund keeps the order's
    packages (they were still sent), a full refund or a dispute removes them.
    """
    if not campaign.counts(status, paid_at, currency):
        return Contribution(0, 0)
    return Contribution(packages, total_cents - refunded_cents)


def _counted_sums(campaign: Campaign) -> tuple[int, int, int]:
    """The same rule as contribution(), as one aggregate query: packages, money, gifts."""
    row = db.session.execute(
        db.select(
            func.coalesce(func.sum(Order.packages), 0),
            func.coalesce(func.sum(Order.total_cents - Order.refunded_cents), 0),
            func.count(Order.id),
        ).where(
            Order.status.in_(COUNTED_IN_CAMPAIGN),
            Order.paid_at >= campaign.starts_at,
            Order.paid_at < campaign.ends_before,
            Order.currency == campaign.currency,
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _lock_totals_row(campaign: Campaign) -> CampaignTotals:
    """The campaign's row, locked until commit; created the first time.

    Locking before adding up matters on PostgreSQL: a second payment committing at the
    same moment waits here, then adds up with the first one already visible, so the
    cache can never be overwritten by a sum that missed it.
    """
    query = db.select(CampaignTotals).where(CampaignTotals.name == campaign.name)
    row = db.session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = CampaignTotals(name=campaign.name, currency=campaign.currency,
                                 packages_funded=0, raised_cents=0, gifts=0)
            db.session.add(row)
    except IntegrityError:
        # Another transaction created it first; wait for it, then use it.
        row = db.session.scalar(query.with_for_update())
        if row is None:  # pragma: no cover - the other insert rolled back
            raise
    return row


def refresh_totals() -> CampaignTotals:
    """Recount the campaign's packages and money into its cached row (flushed)."""
    campaign = current_campaign()
    row = _lock_totals_row(campaign)
    db.session.flush()
    row.packages_funded, row.raised_cents, row.gifts = _counted_sums(campaign)
    row.currency = campaign.currency
    row.refreshed_at = utcnow()
    db.session.flush()
    return row


_RECOUNT = "shop_campaign_recount"


def request_recount(session: Session | None = None) -> None:
    """The campaign's money changed in this transaction: recount once, just before commit.

    However many orders a transaction moves, the totals row is locked and recounted
    once, last (after the orders, units and side effects it locked), so the lock order
    stays the one shop.units.service describes.
    """
    (session or db.session()).info[_RECOUNT] = True


@event.listens_for(Session, "before_commit")
def _recount_before_commit(session: Session) -> None:
    if session.in_nested_transaction() or not session.info.pop(_RECOUNT, False):
        return
    refresh_totals()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: object) -> None:
    if not session.in_transaction():
        session.info.pop(_RECOUNT, None)


def cached_totals(campaign: Campaign) -> CampaignTotals | None:
    return db.session.scalar(
        db.select(CampaignTotals).where(CampaignTotals.name == campaign.name)
    )


# The narrowest a bar is drawn once anything is funded, in percent of its width, so the
# first packages of a large goal (0.3%) still show as a visible start.
MIN_VISIBLE_PERCENT = 2.0


def bar_width(value: int, goal: int) -> float:
    """The filled share of a progress bar in percent (0-100), never invisible above zero."""
    if value <= 0 or goal <= 0:
        return 0.0
    return round(min(100.0, max(MIN_VISIBLE_PERCENT, value * 100 / goal)), 2)


@dataclass(frozen=True)
class Progress:
    name: str
    goal_packages: int
    packages_funded: int
    goal_cents: int
    raised_cents: int
    currency: str
    ended: bool
    gifts: int = 0  # paid orders and gifts that count, one per checkout

    @property
    def packages_percent(self) -> int:
        # The bar stops at full; the words still say the true count.
        return min(100, self.packages_funded * 100 // max(1, self.goal_packages))

    @property
    def money_percent(self) -> int:
        return min(100, max(0, self.raised_cents) * 100 // max(1, self.goal_cents))


def progress() -> tuple[Progress, bool]:
    """The campaign's progress from the cache; True when the cache had to be made now.

    A page view reads the cached row and never adds up orders, except the very first
    time, when there is no row yet (the caller commits it).
    """
    campaign = current_campaign()
    row = cached_totals(campaign)
    created = row is None
    if row is None:
        row = refresh_totals()
    return Progress(
        name=campaign.name,
        goal_packages=campaign.goal_packages,
        packages_funded=row.packages_funded,
        goal_cents=campaign.goal_cents,
        raised_cents=row.raised_cents,
        currency=row.currency,
        ended=campaign.has_ended(utcnow()),
        gifts=row.gifts,
    ), created
