"""A worker killed (SIGKILL) mid-task: the partner's request or the receipt is not done twice."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis
from flask import Flask

from tests.faults.conftest import Scenario, Seen, side_effects
from tests.servers import MailLog, PartnerServer, SmtpSink
from tests.support import StripeStandIn, buy_and_pay, post_event, wait_for
from tests.workers import RedisServer, Worker

pytestmark = pytest.mark.redis

VISIBILITY_TIMEOUT = 3


def abandoned(url: str) -> bool:
    """Redis holds a task a worker took and never acknowledged, past the visibility timeout."""
    oldest = redis.Redis.from_url(url).zrange("unacked_index", 0, 0, withscores=True)
    return bool(oldest) and oldest[0][1] < time.time() - VISIBILITY_TIMEOUT  # type: ignore[operator]


def test_a_worker_killed_mid_task_has_its_task_redelivered_and_done_once(
    broker_app: Callable[..., Flask], own_redis: RedisServer,
    workers: Callable[[Flask], Worker], stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("worker killed mid-task (acks_late) -> done once",
                   "SIGKILL to the worker while the partner was still answering (4 s); "
                   f"new worker, Redis visibility timeout {VISIBILITY_TIMEOUT} s, no sweep")
    run.expect_duplicates(1, "the worker died before the partner's answer: sent again with "
                             "the same Idempotency-Key, refused by the partner (409)")
    shop = broker_app(own_redis.url, CELERY_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT)
    first = workers(shop)
    client = shop.test_client()
    partner.delay = 4.0
    _, event = buy_and_pay(client, stripe_stand_in)
    assert post_event(client, event).status_code == 200
    run.sent = 1

    wait_for(lambda: partner.in_flight == 1, timeout=30)
    wait_for(lambda: side_effects(shop)["receipt"].status == "done", timeout=30)
    assert partner.in_flight == 1, "the partner answered before the worker could be killed"
    first.kill()
    # The partner finishes the request nobody waits for any more, and takes the order;
    # the shop never heard the answer, so its packing order is still pending.
    wait_for(lambda: len(partner.accepted) == 1 and partner.in_flight == 0, timeout=30)
    assert side_effects(shop)["packing_order"].status == "pending"
    partner.delay = 0.0

    wait_for(lambda: abandoned(own_redis.url), timeout=30)
    second = workers(shop)
    wait_for(lambda: side_effects(shop)["packing_order"].status == "done", timeout=60)
    assert "fulfilment.submit" in second.output()

    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        effect = side_effects(shop)["packing_order"]
        return {
            "order paid": status == "paid",
            "one receipt": seen.receipts == {number: 1},
            "one packing order at the partner": seen.packing_orders == {number: 1},
            "the redelivered task asked again with the same key, refused as a duplicate": [
                (r["key"], r["outcome"]) for r in partner.requests
            ] == [(number, "accepted"), (number, "duplicate")],
            "the shop keeps the partner's reference": effect.reference == "PK-0001",
        }

    run.finish(shop, stripe_stand_in, mailbox, partner, checks)


def test_a_worker_killed_after_the_mail_server_took_the_receipt_does_not_send_it_again(
    broker_app: Callable[..., Flask], own_redis: RedisServer,
    workers: Callable[[Flask], Worker], stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("worker killed after the mail server accepted the receipt -> not resent",
                   "SIGKILL to the worker after the SMTP server kept the receipt, before its "
                   "250 reached the worker (nothing committed); new worker asks the mail log")
    with MailLog(mailbox) as mail_log:
        shop = broker_app(own_redis.url, CELERY_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT,
                          MAIL_TIMEOUT=2.0, MAIL_LOG_URL=mail_log.url)
        first = workers(shop)
        mailbox.stall_after_accept = 1.5
        client = shop.test_client()
        _, event = buy_and_pay(client, stripe_stand_in)
        assert post_event(client, event).status_code == 200
        run.sent = 1
        wait_for(lambda: len(mailbox.to("@", "receipt")) == 1, timeout=30)
        first.kill()
        mailbox.stall_after_accept = 0.0
        receipt = side_effects(shop)["receipt"]
        assert (receipt.status, receipt.attempt_ref) == (
            "pending", str(mailbox.to("@", "receipt")[0]["Message-ID"]))

        wait_for(lambda: abandoned(own_redis.url), timeout=30)
        workers(shop)
        wait_for(lambda: side_effects(shop)["receipt"].status == "done", timeout=60)
        wait_for(lambda: side_effects(shop)["packing_order"].status == "done", timeout=60)

    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        effect = side_effects(shop)["receipt"]
        return {
            "order paid": status == "paid",
            "one receipt": seen.receipts == {number: 1},
            "the mail log was asked about the interrupted attempt":
                mail_log.asked == [effect.reference],
            "the receipt's Message-ID is kept": effect.reference == receipt.attempt_ref,
            "one packing order sent": seen.packing_sent == {number: 1},
        }

    run.finish(shop, stripe_stand_in, mailbox, partner, checks)
