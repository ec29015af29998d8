"""Redis stops while an order is paid: nothing is lost, and it all goes out once after."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.faults.conftest import (
    Scenario,
    Seen,
    all_delivered,
    deliveries,
    flask_cli,
    order_status,
    serve,
    side_effects,
)
from tests.servers import PartnerServer, SmtpSink
from tests.support import StripeStandIn, add_to_cart, checkout, session_id_from, wait_for
from tests.workers import RedisServer, Worker

pytestmark = pytest.mark.redis


def test_a_payment_while_redis_is_down_is_delivered_once_after_the_restart(
    broker_app: Callable[..., Flask], own_redis: RedisServer,
    workers: Callable[[Flask], Worker], stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("broker down while paid -> delivered after restart",
                   "the test's Redis stopped before the payment, restarted after; "
                   "a worker running throughout; `flask sweep`")
    shop = broker_app(own_redis.url)
    workers(shop)
    client = shop.test_client()
    add_to_cart(client, "unit-ten-pack", 1, "Warm wishes from Leeds")
    session_id = session_id_from(checkout(client).location)

    with serve(shop, stripe_stand_in):
        own_redis.stop()
        stripe_stand_in.pay(session_id)
        wait_for(lambda: order_status(shop) == "paid", timeout=30)
        wait_for(lambda: all_delivered(stripe_stand_in), timeout=30)
        # Paid and recorded; the receipt and packing order wait in PostgreSQL, not Redis.
        assert {e.status for e in side_effects(shop).values()} == {"pending"}
        assert mailbox.messages == [] and partner.requests == []

        own_redis.start()
        flask_cli(shop, "sweep")
        wait_for(lambda: {e.status for e in side_effects(shop).values()} == {"done"},
                 timeout=60)
    run.sent = deliveries(stripe_stand_in) + 1

    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        return {
            "order paid": status == "paid",
            "one receipt": seen.receipts == {number: 1},
            "one packing order": seen.packing_orders == {number: 1},
            "the partner asked once": len(partner.requests) == 1,
        }

    run.finish(shop, stripe_stand_in, mailbox, partner, checks)
