"""What counts towards the campaign's progress bar, and which campaign settings start."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from shop.campaign.service import Campaign, Contribution, Progress, contribution
from shop.config import ConfigError, load_config
from shop.config_checks import check_campaign

CAMPAIGN = Campaign(
    name="Warm Winter 2026", start=date(2026, 11, 1), end=date(2027, 2, 28),
    goal_packages=1000, goal_cents=6_500_000, currency="usd", unit_size=10,
    partial_policy="ship",
)
DURING = datetime(2026, 12, 24, 18, 30, tzinfo=UTC)


def counted(status: str = "paid", paid_at: datetime | None = DURING, currency: str = "usd",
            total_cents: int = 59000, refunded_cents: int = 0,
            packages: int = 10) -> Contribution:
    return contribution(CAMPAIGN, status=status, paid_at=paid_at, currency=currency,
                        total_cents=total_cents, refunded_cents=refunded_cents,
                        packages=packages)


@pytest.mark.parametrize("status", ["paid", "fulfilled"])
def test_a_paid_or_shipped_order_counts_its_packages_and_its_money(status: str) -> None:
    assert counted(status) == Contribution(packages=10, cents=59000, gifts=1)


def test_a_partial_refund_keeps_the_packages_and_takes_off_the_money() -> None:
    assert counted("partially_refunded", refunded_cents=9000) == Contribution(10, 50000, 1)


@pytest.mark.parametrize(
    "status",
    ["refunded", "disputed", "dispute_lost", "needs_review", "pending", "awaiting_payment",
     "failed", "expired"],
)
def test_money_that_went_back_is_held_or_is_not_accepted_counts_nothing(status: str) -> None:
    assert counted(status) == Contribution(0, 0)


def test_a_donation_counts_money_and_no_packages() -> None:
    assert counted(total_cents=2500, packages=0) == Contribution(0, 2500, 1)


@pytest.mark.parametrize(
    ("paid_at", "counts"),
    [
        (datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 1, 0, 0, tzinfo=UTC), True),
        (datetime(2027, 2, 28, 23, 59, 59, tzinfo=UTC), True),  # the last day is included
        (datetime(2027, 3, 1, 0, 0, tzinfo=UTC), False),
        (None, False),
    ],
)
def test_only_payments_inside_the_campaign_dates_count(
    paid_at: datetime | None, counts: bool
) -> None:
    assert (counted(paid_at=paid_at).packages == 10) is counts


def test_an_order_in_another_currency_does_not_count() -> None:
    assert counted(currency="eur") == Contribution(0, 0)


def test_the_campaign_ends_at_midnight_after_its_last_day() -> None:
    assert not CAMPAIGN.has_ended(datetime(2027, 2, 28, 23, 59, tzinfo=UTC))
    assert CAMPAIGN.has_ended(datetime(2027, 3, 1, 0, 0, tzinfo=UTC))


def progress(packages: int, cents: int) -> Progress:
    return Progress(name="x", goal_packages=1000, packages_funded=packages, goal_cents=6_500_000,
                    raised_cents=cents, currency="usd", ended=False)


def test_the_bar_stops_at_full_but_never_claims_more_than_was_given() -> None:
    assert progress(250, 1_625_000).packages_percent == 25
    assert progress(250, 1_625_000).money_percent == 25
    assert progress(1200, 9_000_000).packages_percent == 100
    assert progress(0, -100).money_percent == 0


GOOD: dict[str, Any] = {
    "CAMPAIGN_NAME": "Warm Winter 2026",
    "CAMPAIGN_START": date(2026, 11, 1), "CAMPAIGN_END": date(2027, 2, 28),
    "UNIT_SIZE": 10, "CAMPAIGN_GOAL_PACKAGES": 1000, "CAMPAIGN_GOAL_CENTS": 6_500_000,
    "UNIT_PARTIAL_POLICY": "ship",
}


def test_the_default_campaign_settings_start() -> None:
    check_campaign(GOOD)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"CAMPAIGN_END": date(2026, 10, 1)}, "before CAMPAIGN_START"),
        ({"CAMPAIGN_NAME": "x" * 201}, "CAMPAIGN_NAME"),
        ({"UNIT_SIZE": 1}, "UNIT_SIZE"),
        ({"CAMPAIGN_GOAL_PACKAGES": 0}, "CAMPAIGN_GOAL_PACKAGES"),
        ({"CAMPAIGN_GOAL_CENTS": 0}, "CAMPAIGN_GOAL_CENTS"),
        ({"UNIT_PARTIAL_POLICY": "burn"}, "UNIT_PARTIAL_POLICY"),
    ],
)
def test_nonsense_campaign_settings_refuse_to_start(override: dict[str, Any],
                                                     message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_campaign(GOOD | override)


def test_campaign_dates_come_from_the_environment_as_iso_dates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAMPAIGN_END", "2027-03-15")
    monkeypatch.setenv("UNIT_PARTIAL_POLICY", "HOLD")
    config = load_config()
    assert config["CAMPAIGN_END"] == date(2027, 3, 15)
    assert config["CAMPAIGN_START"] == date(2026, 11, 1)
    assert config["UNIT_PARTIAL_POLICY"] == "hold"
    monkeypatch.setenv("CAMPAIGN_START", "1st of November")
    with pytest.raises(ConfigError, match="CAMPAIGN_START must be an ISO date"):
        load_config()


def test_a_bar_is_never_invisible_once_something_is_funded() -> None:
    from shop.campaign.service import MIN_VISIBLE_PERCENT, bar_width

    assert bar_width(0, 1000) == 0.0
    assert bar_width(3, 1000) == MIN_VISIBLE_PERCENT  # 0.3% is drawn as a visible start
    assert bar_width(500, 1000) == 50.0
    assert bar_width(1500, 1000) == 100.0
    assert bar_width(5, 0) == 0.0
