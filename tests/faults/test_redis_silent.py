"""A Redis that accepts connections and never answers: pages go on without it."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
import requests
from flask import Flask

from tests.faults.conftest import Scenario, Seen, all_delivered, deliveries, flask_cli, serve
from tests.servers import PartnerServer, SmtpSink
from tests.support import StripeStandIn, wait_for
from tests.workers import RedisServer, Worker

pytestmark = pytest.mark.redis

# A page may spend REDIS_TIMEOUT on each Redis command it tries, a few times at most;
# 10 s (what it used to wait) fails the request here.
PAGE_TIMEOUT = 6
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A TCP server on a free port that takes every connection and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def token_in(html: str) -> str:
    found = CSRF.search(html)
    assert found, html[:300]
    return found[1]


def test_a_silent_redis_never_holds_a_page_and_the_sweep_sends_what_it_kept(
    broker_app: Callable[..., Flask], silent_redis: str, own_redis: RedisServer,
    workers: Callable[[Flask], Worker], stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer, scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("Redis accepts connections and never answers",
                   "REDIS_URL points at a server that never replies (rate limits and broker); "
                   f"each page given {PAGE_TIMEOUT} s; then `flask sweep` with Redis back")
    shop = broker_app(silent_redis, RATELIMIT_ENABLED=True)
    with serve(shop, stripe_stand_in) as live:
        browser = requests.Session()
        home = browser.get(f"{live.url}/", timeout=PAGE_TIMEOUT)
        browser.post(f"{live.url}/cart/add", timeout=PAGE_TIMEOUT, data={
            "csrf_token": token_in(home.text), "variant": "single-package", "quantity": "1"})
        cart = browser.get(f"{live.url}/cart", timeout=PAGE_TIMEOUT)
        checkout = browser.post(f"{live.url}/checkout", allow_redirects=False,
                                timeout=PAGE_TIMEOUT,
                                data={"csrf_token": token_in(cart.text),
                                      "email": "donor@example.org"})
        assert checkout.status_code == 303, checkout.text[:500]
        paid = requests.post(checkout.headers["Location"], allow_redirects=False, timeout=30,
                             data={"action": "pay", "email": "donor@example.org"})
        page = browser.get(paid.headers["Location"], timeout=PAGE_TIMEOUT)
        assert page.status_code == 200 and "Paid" in page.text
        wait_for(lambda: all_delivered(stripe_stand_in), timeout=30)
        run.sent = 5 + deliveries(stripe_stand_in)

    assert not mailbox.messages and not partner.requests  # nothing could reach a worker
    # Redis is back (a working one): the sweep hands the pending receipt and packing order
    # to a worker.
    healthy = broker_app(own_redis.url)
    workers(healthy)
    flask_cli(healthy, "sweep")
    run.sent += 1
    wait_for(lambda: len(mailbox.to("@", "receipt")) == 1 and len(partner.requests) == 1,
             timeout=60)

    def checks(seen: Seen) -> dict[str, bool]:
        [(number, status)] = seen.orders.items()
        return {
            "order paid": status == "paid",
            "one receipt": seen.receipts == {number: 1},
            "one packing order sent": seen.packing_sent == {number: 1},
        }

    run.finish(healthy, stripe_stand_in, mailbox, partner, checks)
