"""The mail server is down for a while: the worker keeps trying and the donor gets one receipt.

Fast: time compressed (backoff 0.1 s doubling), down for as long as three attempts take,
then refusing with 421 for two more. Slow (`make faults`): a real two minutes, the first
unreachable and the second answering 421, with a backoff of 10 s doubling to 60 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from tests.faults.conftest import Scenario, Seen, side_effects
from tests.servers import PartnerServer, SmtpSink
from tests.support import StripeStandIn, buy_and_pay, post_event, wait_for
from tests.workers import RedisServer, Worker

pytestmark = pytest.mark.redis

REFUSAL = "421 4.3.2 Service not available, closing transmission channel"


@pytest.fixture
def down_mail_server() -> Iterator[SmtpSink]:
    """A mail server of the test's own, on a port where nothing listens until it starts."""
    sink = SmtpSink()
    try:
        yield sink
    finally:
        sink.stop()


def receipt_attempts(app: Flask) -> int:
    return side_effects(app)["receipt"].attempts


def start_paid_order(broker_app: Callable[..., Flask], redis_url: str, sink: SmtpSink,
                     workers: Callable[[Flask], Worker], stand_in: StripeStandIn,
                     backoff: float, backoff_max: float) -> Flask:
    shop = broker_app(redis_url, MAIL_PORT=sink.port, SIDE_EFFECT_BACKOFF=backoff,
                      SIDE_EFFECT_BACKOFF_MAX=backoff_max, SIDE_EFFECT_MAX_ATTEMPTS=10)
    workers(shop)
    client = shop.test_client()
    _, event = buy_and_pay(client, stand_in)
    assert post_event(client, event).status_code == 200
    # With a broker the delivery only stores the event: a worker applies it.
    wait_for(lambda: "receipt" in side_effects(shop), timeout=30)
    return shop


def one_receipt(app: Flask, partner: PartnerServer, attempts_while_down: int,
                least: int) -> Callable[[Seen], dict[str, bool]]:
    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        return {
            "order paid": status == "paid",
            f"the worker kept trying while down (>= {least} attempts)":
                attempts_while_down >= least,
            "one receipt": seen.receipts == {number: 1},
            "receipt done": side_effects(app)["receipt"].status == "done",
            "one packing order (the partner was up)": seen.packing_orders == {number: 1},
        }

    return checks


def test_smtp_down_then_refusing_gives_one_receipt_when_it_is_back(
    broker_app: Callable[..., Flask], own_redis: RedisServer, down_mail_server: SmtpSink,
    workers: Callable[[Flask], Worker], stripe_stand_in: StripeStandIn,
    partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("SMTP down (time compressed)",
                   "SMTP unreachable for 3 attempts, then 421 for 2; worker retrying "
                   "with backoff 0.1 s doubling")
    shop = start_paid_order(broker_app, own_redis.url, down_mail_server, workers,
                            stripe_stand_in, backoff=0.1, backoff_max=60.0)
    run.sent = 1
    wait_for(lambda: receipt_attempts(shop) >= 3, timeout=30)
    down_mail_server.refusal, down_mail_server.refuse_next = REFUSAL, 2
    down_mail_server.start()
    wait_for(lambda: side_effects(shop)["receipt"].status == "done", timeout=60)
    # Two refused (the receipt's, or the shipping notice's that also waits), the rest taken.
    assert down_mail_server.attempts == 2 + len(down_mail_server.messages)

    run.finish(shop, stripe_stand_in, down_mail_server, partner,
               one_receipt(shop, partner, receipt_attempts(shop) - 1, least=3))


@pytest.mark.slow
def test_smtp_down_for_two_minutes_gives_one_receipt_when_it_is_back(
    broker_app: Callable[..., Flask], own_redis: RedisServer, down_mail_server: SmtpSink,
    workers: Callable[[Flask], Worker], stripe_stand_in: StripeStandIn,
    partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("SMTP down 2 minutes",
                   "SMTP unreachable 60 s, then 421 to everything 60 s; worker retrying "
                   "with backoff 10 s doubling to 60 s")
    shop = start_paid_order(broker_app, own_redis.url, down_mail_server, workers,
                            stripe_stand_in, backoff=10.0, backoff_max=60.0)
    run.sent = 1
    # The outage itself: nothing to wait for but the clock.
    time.sleep(60)
    down_mail_server.refusal, down_mail_server.refuse_next = REFUSAL, 1000
    down_mail_server.start()
    time.sleep(60)
    attempts_while_down = receipt_attempts(shop)
    down_mail_server.refuse_next = 0
    wait_for(lambda: side_effects(shop)["receipt"].status == "done", timeout=120)

    run.finish(shop, stripe_stand_in, down_mail_server, partner,
               one_receipt(shop, partner, attempts_while_down, least=3))
