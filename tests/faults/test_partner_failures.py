"""The packing partner answers 500s and times out: one packing order reaches it, once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.faults.conftest import Scenario, Seen, side_effects
from tests.servers import PartnerServer, SmtpSink
from tests.support import StripeStandIn, buy_and_pay, post_event, wait_for
from tests.workers import RedisServer, Worker

pytestmark = pytest.mark.redis


def test_partner_500s_and_timeouts_end_in_one_accepted_packing_order(
    broker_app: Callable[..., Flask], own_redis: RedisServer,
    workers: Callable[[Flask], Worker], stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("partner 500s and timeouts",
                   "partner answers 500, 503, then twice too late (timeout 0.5 s) and still "
                   "handles both: one answers 500, the other finds the order taken")
    run.expect_duplicates(1, "a retry after a timeout while the partner still worked on the "
                             "first: same Idempotency-Key, refused by the partner (409)")
    shop = broker_app(own_redis.url, FULFILMENT_TIMEOUT=0.5, SIDE_EFFECT_BACKOFF=0.1,
                      SIDE_EFFECT_MAX_ATTEMPTS=8)
    partner.script = [(0.0, 500), (0.0, 503), (2.0, None), (2.0, 500)]
    workers(shop)
    client = shop.test_client()
    token, event = buy_and_pay(client, stripe_stand_in)
    assert post_event(client, event).status_code == 200
    run.sent = 1

    # With a broker the delivery only stores the event: a worker applies it, then packs.
    wait_for(lambda: "packing_order" in side_effects(shop), timeout=30)
    wait_for(lambda: side_effects(shop)["packing_order"].status == "done", timeout=60)
    wait_for(lambda: partner.in_flight == 0, timeout=30)

    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        effect = side_effects(shop)["packing_order"]
        api = client.get(f"/api/orders/{token}").get_json()
        return {
            "order paid": status == "paid",
            "one packing order at the partner": seen.packing_orders == {number: 1},
            "five tries, all with the order's key": [
                r["key"] for r in partner.requests] == [number] * 5,
            "one taken, one refused as a duplicate, three failed": sorted(
                r["outcome"] for r in partner.requests
            ) == ["accepted", "duplicate", "failed", "failed", "failed"],
            "the shop keeps the partner's reference": effect.reference == "PK-0001",
            "donor's page: packing order accepted": api["fulfilment_status"] == "accepted",
            "one receipt": seen.receipts == {number: 1},
        }

    run.finish(shop, stripe_stand_in, mailbox, partner, checks)
