"""The campaign's progress bar: paid money net of refunds and disputes, cached, always current."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import update

from shop.extensions import db
from shop.orders.models import Order
from tests.support import (
    StripeStandIn,
    buy_and_pay,
    dispute_at_stripe,
    post_event,
    refund_at_stripe,
)

SUMMARY = re.compile(r'data-testid="campaign-summary">(.*?)</p>', re.S)


def summary(client: FlaskClient) -> str:
    """The progress line as a donor reads it (the text, without its markup)."""
    match = SUMMARY.search(client.get("/").get_data(as_text=True))
    assert match, "no campaign progress on the storefront"
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


def totals(client: FlaskClient) -> tuple[int, int]:
    body = client.get("/api/campaign").get_json()
    return body["packages_funded"], body["raised_cents"]


def test_progress_counts_paid_orders_net_of_refunds_and_leaves_out_disputes(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    assert summary(client) == "0 of 1,000 packages funded · $0.00 raised of $65,000.00"
    _, ten_pack = buy_and_pay(client, stripe_stand_in, "unit-ten-pack")
    post_event(client, ten_pack)
    _, single = buy_and_pay(client, stripe_stand_in, "single-package")
    post_event(client, single)
    _, gift = buy_and_pay(client, stripe_stand_in, variant=None, gift="25")
    post_event(client, gift)
    assert totals(client) == (11, 59000 + 6500 + 2500)
    assert summary(client) == "11 of 1,000 packages funded · $680.00 raised of $65,000.00"

    # A partial refund keeps the ten packages (they were sent) but not the money.
    post_event(client, refund_at_stripe(stripe_stand_in, ten_pack, 9000))
    assert totals(client) == (11, 68000 - 9000)

    # A dispute takes the single package and its money out while the bank holds it.
    _, opened = dispute_at_stripe(stripe_stand_in, single)
    post_event(client, opened)
    assert totals(client) == (10, 59000 - 6500)

    # A full refund takes the gift out.
    post_event(client, refund_at_stripe(stripe_stand_in, gift))
    assert totals(client) == (10, 50000)
    assert summary(client) == "10 of 1,000 packages funded · $500.00 raised of $65,000.00"


def test_a_won_dispute_counts_again_and_a_lost_one_does_not(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    _, won = buy_and_pay(client, stripe_stand_in, "single-package")
    post_event(client, won)
    _, lost = buy_and_pay(client, stripe_stand_in, "single-package")
    post_event(client, lost)
    won_id, won_opened = dispute_at_stripe(stripe_stand_in, won)
    post_event(client, won_opened)
    lost_id, lost_opened = dispute_at_stripe(stripe_stand_in, lost)
    post_event(client, lost_opened)
    assert totals(client) == (0, 0)
    stripe_stand_in.close_dispute(won_id, "won")
    post_event(client, stripe_stand_in.events("charge.dispute.closed")[-1])
    stripe_stand_in.close_dispute(lost_id, "lost")
    post_event(client, stripe_stand_in.events("charge.dispute.closed")[-1])
    assert totals(client) == (1, 6500)


def test_the_storefront_shows_the_cache_which_payments_change_and_a_recount_corrects(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, "unit-ten-pack")
    post_event(client, paid)
    assert totals(client) == (10, 59000)

    # Changed behind the shop's back (no money event): page views keep showing the cache...
    with app.app_context():
        db.session.execute(update(Order).values(total_cents=60000))
        db.session.commit()
    assert totals(client) == (10, 59000)
    assert "10 of 1,000 packages funded · $590.00" in summary(client)
    # ...and so does the next money event (it adds its own change, it does not recount)...
    _, single = buy_and_pay(client, stripe_stand_in, "single-package")
    post_event(client, single)
    assert totals(client) == (11, 59000 + 6500)
    # ...until a recount, by hand (or daily), which says what it corrected.
    result = runner.invoke(args=["campaign-totals"])
    assert result.exit_code == 0, result.output
    assert "the totals were off by +0 packages, +$10.00, +0 gifts" in result.output
    assert "11 of 1000 packages funded, $665.00 raised of $65,000.00" in result.output
    post_event(client, refund_at_stripe(stripe_stand_in, paid))
    assert totals(client) == (1, 6500)


@pytest.mark.shop_config({"CAMPAIGN_START": (datetime.now(UTC) + timedelta(days=5)).date(),
                          "CAMPAIGN_END": (datetime.now(UTC) + timedelta(days=95)).date()})
def test_money_paid_before_the_campaign_starts_does_not_count(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, "unit-ten-pack")
    post_event(client, paid)
    assert totals(client) == (0, 0)


@pytest.mark.shop_config({"CAMPAIGN_NAME": "Spring Boots", "CAMPAIGN_GOAL_PACKAGES": 200,
                          "CAMPAIGN_GOAL_CENTS": 1_300_000})
def test_the_campaign_api_has_the_agreed_shape(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, "single-package", join_unit=True,
                          note="Stay warm")
    post_event(client, paid)
    response = client.get("/api/campaign")
    assert response.status_code == 200
    assert response.get_json() == {
        "name": "Spring Boots", "goal_packages": 200, "packages_funded": 1,
        "goal_cents": 1_300_000, "raised_cents": 6500, "currency": "usd",
        "units": [{"number": 1, "packages_funded": 1, "packages": 10}],
    }
    page = client.get("/").get_data(as_text=True)
    assert "Spring Boots" in page
    assert 'aria-valuenow="1"' in page and 'aria-valuemax="200"' in page
