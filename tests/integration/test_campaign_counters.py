"""The campaign's totals and units' counts kept by each payment's own change always equal a
full recount: after payments, partial and full refunds, disputes won and lost and monthly
gifts, one after another and all at once (PostgreSQL); the daily check reports any drift."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import update

from shop.campaign.service import cached_totals, current_campaign
from shop.extensions import db
from shop.orders.models import Order
from shop.units.models import Unit
from tasks.campaign import close_campaign_when_ended
from tests.conftest import LiveShop
from tests.integration.test_monthly_gifts import plan, subscribe
from tests.integration.test_units_concurrency import deliver_all_at_once
from tests.support import (
    StripeStandIn,
    buy_and_pay,
    dispute_at_stripe,
    post_event,
    refund_at_stripe,
    stripe_get,
)

SINGLE, TEN_PACK, MONTHLY = 6500, 59000, 1800


def shown(client: FlaskClient) -> tuple[int, int, dict[int, int]]:
    """Packages and money on /api/campaign, and each unit's count, as donors see them."""
    body = client.get("/api/campaign").get_json()
    return (body["packages_funded"], body["raised_cents"],
            {unit["number"]: unit["packages_funded"] for unit in body["units"]})


def gifts(app: Flask) -> int:
    with app.app_context():
        row = cached_totals(current_campaign())
        return row.gifts if row is not None else 0


def recount_changes_nothing(client: FlaskClient, runner: FlaskCliRunner) -> None:
    before = shown(client)
    result = runner.invoke(args=["campaign-totals"])
    assert result.exit_code == 0, result.output
    assert "off by" not in result.output and "corrected" not in result.output, result.output
    assert shown(client) == before


def test_totals_kept_by_each_change_equal_a_recount_after_every_kind_of_money_event(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    def bought(variant: str | None, **extra: Any) -> dict[str, Any]:
        _, paid = buy_and_pay(client, stripe_stand_in, variant, **extra)
        post_event(client, paid)
        return paid

    ten_pack = bought("unit-ten-pack")
    lost = bought("single-package", join_unit=True)
    won = bought("single-package", join_unit=True)
    gift = bought(None, gift="25")
    assert shown(client) == (12, TEN_PACK + 2 * SINGLE + 2500, {1: 2})

    post_event(client, refund_at_stripe(stripe_stand_in, ten_pack, 9000))
    post_event(client, refund_at_stripe(stripe_stand_in, ten_pack, 11000))  # 20000 in all
    post_event(client, refund_at_stripe(stripe_stand_in, gift))
    post_event(client, refund_at_stripe(stripe_stand_in, won, 1000))
    lost_id, opened = dispute_at_stripe(stripe_stand_in, lost)
    post_event(client, opened)
    won_id, opened = dispute_at_stripe(stripe_stand_in, won)
    post_event(client, opened)
    assert shown(client) == (10, TEN_PACK - 20000, {1: 0})
    for dispute_id, outcome in ((lost_id, "lost"), (won_id, "won")):
        stripe_stand_in.close_dispute(dispute_id, outcome)
        post_event(client, stripe_stand_in.events("charge.dispute.closed")[-1])

    subscribe(client, stripe_stand_in)
    subscription = plan(app).stripe_subscription_id
    assert subscription
    seen = len(stripe_stand_in.events())
    stripe_stand_in.cycle(subscription, "paid")
    stripe_stand_in.deliver_all(client, seen)
    first_month = stripe_stand_in.events("invoice.paid")[0]["data"]["object"]["id"]
    [payment] = stripe_get(stripe_stand_in, "invoice_payments", invoice=first_month)["data"]
    post_event(client, refund_at_stripe(
        stripe_stand_in, {"data": {"object": payment["payment"]}}))

    # Ten-pack less its refunds, the won single less its refund, one month of the plan.
    assert shown(client) == (11, TEN_PACK - 20000 + SINGLE - 1000 + MONTHLY, {1: 1})
    assert gifts(app) == 3
    recount_changes_nothing(client, runner)


@pytest.mark.shop_config({"UNIT_SIZE": 4})
def test_the_daily_check_corrects_and_reports_what_changed_behind_the_shops_back(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    for _ in range(2):
        _, paid = buy_and_pay(client, stripe_stand_in, "single-package", join_unit=True)
        post_event(client, paid)  # the paid checkout empties the cart for the next one
    with app.app_context():
        assert close_campaign_when_ended() == [
            "The campaign Warm Winter 2026 runs until "
            f"{current_campaign().end}; no unit was closed."]
        db.session.execute(update(Order).where(Order.id == 1).values(total_cents=7000))
        db.session.execute(update(Unit).values(packages_funded=3))
        db.session.commit()
    assert shown(client) == (2, 2 * SINGLE, {1: 3})
    with app.app_context():
        lines = close_campaign_when_ended()
    assert lines[:2] == [
        "Campaign Warm Winter 2026: the totals were off by +0 packages, +$5.00, +0 gifts; "
        "corrected to 2 packages, $135.00, 2 gifts.",
        "Unit 1: counted 3 packages but has 2 funded places; corrected.",
    ]
    assert shown(client) == (2, 2 * SINGLE + 500, {1: 2})


def at_once(shop: LiveShop, events: list[dict[str, Any]]) -> None:
    assert deliver_all_at_once(shop.url, events) == [200] * len(events)


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
@pytest.mark.shop_config({"UNIT_SIZE": 3})
def test_payments_refunds_and_disputes_arriving_together_keep_the_totals_exact(
    app: Flask, live_shop: LiveShop, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    stripe_stand_in.configure(delivery_mode="hold")  # the test delivers them, all at once
    buyer = app.test_client()
    bought = [buy_and_pay(app.test_client(), stripe_stand_in, "single-package", join_unit=True,
                          email=f"donor{n}@example.org")[1] for n in range(7)]
    _, ten_pack = buy_and_pay(app.test_client(), stripe_stand_in, "unit-ten-pack")
    first, later = [*bought[:5], ten_pack], bought[5:]
    at_once(live_shop, first + first)  # each twice, as Stripe sometimes sends them
    assert shown(buyer) == (15, 5 * SINGLE + TEN_PACK, {1: 3, 2: 2})

    # Two more payments, two partial refunds, a full one and two disputes, together.
    disputes = [dispute_at_stripe(stripe_stand_in, paid) for paid in bought[3:5]]
    at_once(live_shop, [
        *later,
        refund_at_stripe(stripe_stand_in, ten_pack, 4000),
        refund_at_stripe(stripe_stand_in, bought[0], 500),
        refund_at_stripe(stripe_stand_in, bought[1]),
        *(opened for _, opened in disputes),
    ])
    # Singles 0, 2, 5, 6 (one refunded $5), the ten-pack less $40.
    assert shown(buyer)[:2] == (14, 4 * SINGLE - 500 + TEN_PACK - 4000)

    # One dispute won, one lost, while more money goes back.
    for (dispute_id, _), outcome in zip(disputes, ("won", "lost"), strict=True):
        stripe_stand_in.close_dispute(dispute_id, outcome)
    closed = stripe_stand_in.events("charge.dispute.closed")[-2:]
    at_once(live_shop, [*closed, refund_at_stripe(stripe_stand_in, ten_pack, 6000),
                        refund_at_stripe(stripe_stand_in, bought[2])])
    assert shown(buyer)[:2] == (14, 4 * SINGLE - 500 + TEN_PACK - 10000)
    assert gifts(app) == 5
    # Unit 1 shipped once full, so it keeps its refunded places; the recount agrees with
    # every unit's count as well as with the totals.
    recount_changes_nothing(buyer, runner)
