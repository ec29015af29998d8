"""The full recount of the campaign's totals and units' counters, and the drift it corrects."""

from __future__ import annotations

import logging

from shop.campaign.service import Contribution, recount_totals
from shop.money import format_money
from shop.units.service import recount_units

log = logging.getLogger(__name__)


def _signed(n: int) -> str:
    return f"{n:+d}"


def drift_words(drift: Contribution, currency: str) -> str:
    """A drift for staff, e.g. "+2 packages, -$50.00, +1 gifts"."""
    money = format_money(abs(drift.cents), currency)
    return (f"{_signed(drift.packages)} packages, {'-' if drift.cents < 0 else '+'}{money}, "
            f"{_signed(drift.gifts)} gifts")


def check_totals() -> list[str]:
    """Recount the campaign and every unit from the orders (flushed; the caller commits).

    Returns one line per correction, each also logged as a warning; an empty list when
    the counters kept by payments matched the recount. Payments change the counters by
    their own amounts, so a drift means orders were changed another way (by hand in the
    database, or a bug) and is worth a look.
    """
    lines = []
    recount = recount_totals()
    if recount.drift:
        row = recount.row
        lines.append(f"Campaign {row.name}: the totals were off by "
                     f"{drift_words(recount.drift, row.currency)}; corrected to "
                     f"{row.packages_funded} packages, "
                     f"{format_money(row.raised_cents, row.currency)}, {row.gifts} gifts.")
    for unit in recount_units():
        lines.append(f"Unit {unit.number}: counted {unit.counter} packages but has "
                     f"{unit.places} funded places; corrected.")
    for line in lines:
        log.warning("campaign check: %s", line)
    return lines
