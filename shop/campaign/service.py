"""Campaign rules: its settings, what counts towards the goal, and the cached totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import CursorResult, event, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.campaign.models import CampaignSettings, CampaignTotals
from shop.extensions import db, utcnow
from shop.money import InvalidAmount, parse_amount
from shop.orders.models import Order
from shop.orders.state import COUNTED_IN_CAMPAIGN
from shop.storefront_cache import CAMPAIGN, cached


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


SETTINGS_ID = 1


class CampaignError(ValueError):
    """Campaign settings staff typed that cannot run a campaign; nothing changed."""


def current_campaign() -> Campaign:
    """The campaign staff set on /staff/campaign, or the settings until they save one."""
    row = db.session.get(CampaignSettings, SETTINGS_ID)
    if row is None:
        return Campaign.from_config(current_app.config)
    return Campaign(name=row.name, start=row.start_date, end=row.end_date,
                    goal_packages=row.goal_packages, goal_cents=row.goal_cents,
                    currency=current_app.config["CURRENCY"], unit_size=row.unit_size,
                    partial_policy=row.partial_policy)


def displayed_campaign() -> Campaign:
    """current_campaign() from the storefront cache, for pages; rules use current_campaign()."""
    return cached(CAMPAIGN, current_campaign)


def _date(value: str | None, field: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise CampaignError(f"The {field} must be a date like 2026-11-01.") from exc


def _count(value: str | None, field: str, low: int) -> int:
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or int(text) < low:
        raise CampaignError(f"The {field} must be a whole number of at least {low}.")
    if int(text) > 10**9:
        raise CampaignError(f"The {field} is too large.")
    return int(text)


def update_campaign(*, name: str | None, start: str | None, end: str | None,
                    goal_packages: str | None, goal_money: str | None, unit_size: str | None,
                    partial_policy: str | None, actor: str) -> list[str]:
    """Save the campaign from staff's form and recount its progress (flushed).

    Returns what changed, in words, for the audit log. A new unit size applies to units
    opened from now on; units already open keep theirs.
    """
    current = current_campaign()
    title = (name or "").strip()
    if not 1 <= len(title) <= 200:
        raise CampaignError("The campaign's name must be 1 to 200 characters.")
    first, last = _date(start, "start date"), _date(end, "end date")
    if last < first:
        raise CampaignError("The campaign cannot end before it starts.")
    try:
        goal_cents = parse_amount(goal_money, current.currency)
    except InvalidAmount as exc:
        raise CampaignError(f"Money goal: {exc}") from exc
    if goal_cents < 1:
        raise CampaignError("The money goal must be more than zero.")
    packages = _count(goal_packages, "goal in packages", 1)
    size = _count(unit_size, "unit size", 2)
    policy = (partial_policy or "").strip().lower()
    if policy not in ("ship", "hold"):
        raise CampaignError("Choose what happens to a partly filled unit: ship or hold.")
    new = Campaign(name=title, start=first, end=last, goal_packages=packages,
                   goal_cents=goal_cents, currency=current.currency, unit_size=size,
                   partial_policy=policy)
    changes = [f"{field}: {getattr(current, field)} -> {getattr(new, field)}"
               for field in ("name", "start", "end", "goal_packages", "goal_cents",
                             "unit_size", "partial_policy")
               if getattr(current, field) != getattr(new, field)]
    row = db.session.scalar(db.select(CampaignSettings).where(CampaignSettings.id == SETTINGS_ID)
                            .with_for_update())
    if row is None:
        row = CampaignSettings(id=SETTINGS_ID)
        db.session.add(row)
    row.name, row.start_date, row.end_date = title, first, last
    row.goal_packages, row.goal_cents = packages, goal_cents
    row.unit_size, row.partial_policy, row.updated_by = size, policy, actor
    db.session.flush()
    refresh_totals()
    return changes


def saved_settings() -> CampaignSettings | None:
    """The row staff saved, or None while the settings are the campaign."""
    return db.session.get(CampaignSettings, SETTINGS_ID)


@dataclass(frozen=True)
class Contribution:
    """What one order (or a change to orders) adds to the campaign's totals."""

    packages: int
    cents: int
    gifts: int = 0  # 1 for an order that counts: "from 41 gifts" beside the bar

    def __add__(self, other: Contribution) -> Contribution:
        return Contribution(self.packages + other.packages, self.cents + other.cents,
                            self.gifts + other.gifts)

    def __sub__(self, other: Contribution) -> Contribution:
        return self + Contribution(-other.packages, -other.cents, -other.gifts)

    def __bool__(self) -> bool:
        return bool(self.packages or self.cents or self.gifts)


NOTHING = Contribution(0, 0, 0)


def contribution(campaign: Campaign, *, status: str, paid_at: datetime | None, currency: str,
                 total_cents: int, refunded_cents: int, packages: int) -> Contribution:
    """What one order adds to the progress bar.

    The money is what was paid less what went back; a partial refund keeps the order's
    packages (they were still sent), a full refund or a dispute removes them.
    """
    if not campaign.counts(status, paid_at, currency):
        return NOTHING
    return Contribution(packages, total_cents - refunded_cents, 1)


def order_contribution(order: Order, *, status: str | None = None) -> Contribution:
    """What the order adds to the current campaign now, or would add in `status`."""
    status = status or order.status
    if status not in COUNTED_IN_CAMPAIGN:
        return NOTHING  # whatever the campaign; no need to look it up
    return contribution(current_campaign(), status=status,
                        paid_at=order.paid_at, currency=order.currency,
                        total_cents=order.total_cents, refunded_cents=order.refunded_cents or 0,
                        packages=order.packages)


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

    Locking before adding up matters on PostgreSQL: a payment committing at the same
    moment waits (its `x = x + delta` needs the row), then adds its change to the recount,
    which either saw its order or not, never half of it.
    """
    query = db.select(CampaignTotals).where(CampaignTotals.name == campaign.name)
    row: CampaignTotals | None = db.session.scalar(
        query.with_for_update().execution_options(populate_existing=True))
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


@dataclass(frozen=True)
class Recount:
    """A full recount: the totals as they were cached, and as the orders add up."""

    row: CampaignTotals
    cached: Contribution
    counted: Contribution

    @property
    def drift(self) -> Contribution:
        """What the recount corrected: zero unless the cache had gone wrong."""
        return self.counted - self.cached


def recount_totals() -> Recount:
    """Add up every counted order into the campaign's cached row (flushed).

    A full scan of the campaign's orders: for the CLI, the daily check and a change of
    the campaign's settings, never for a payment (those add their own change).
    """
    campaign = current_campaign()
    row = _lock_totals_row(campaign)
    db.session.flush()
    cached = Contribution(row.packages_funded or 0, row.raised_cents or 0, row.gifts or 0)
    row.packages_funded, row.raised_cents, row.gifts = _counted_sums(campaign)
    row.currency = campaign.currency
    row.refreshed_at = utcnow()
    db.session.flush()
    return Recount(row, cached, Contribution(row.packages_funded, row.raised_cents, row.gifts))


def refresh_totals() -> CampaignTotals:
    """Recount the campaign's packages and money into its cached row (flushed)."""
    return recount_totals().row


_PENDING = "shop_campaign_change"
def count_change(before: Contribution, after: Contribution,
                 session: Session | None = None) -> None:
    """An order's share of the campaign went from `before` to `after` in this transaction.

    The difference is added to the totals row just before commit, with one
    `UPDATE ... SET x = x + :delta` however many orders the transaction changed: no
    recount, and the row is held only while the transaction commits, last (after the
    orders, units and side effects it locked), in the lock order shop.units.service
    describes. Payments on PostgreSQL therefore run side by side.
    """
    change = after - before
    if not change:
        return
    info = (session or db.session()).info
    name = current_campaign().name
    pending: dict[str, Contribution] = info.setdefault(_PENDING, {})
    pending[name] = pending.get(name, NOTHING) + change


def _add_to_totals(session: Session, name: str, change: Contribution) -> None:
    totals = CampaignTotals.__table__
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        totals.update().where(totals.c.name == name).values(
            packages_funded=totals.c.packages_funded + change.packages,
            raised_cents=totals.c.raised_cents + change.cents,
            gifts=totals.c.gifts + change.gifts,
        )
    )
    if not result.rowcount:
        # The campaign's first counted money: make its row from a recount, once. The
        # recount sees this transaction's orders, so its change is in it already.
        refresh_totals()


@event.listens_for(Session, "before_commit")
def _add_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    pending: dict[str, Contribution] = session.info.pop(_PENDING, {})
    if any(pending.values()):
        session.flush()  # the orders' rows first, the totals row last
    for name, change in pending.items():
        if change:
            _add_to_totals(session, name, change)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: object) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)


def cached_totals(campaign: Campaign) -> CampaignTotals | None:
    found: CampaignTotals | None = db.session.scalar(
        db.select(CampaignTotals).where(CampaignTotals.name == campaign.name)
    )
    return found


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
