"""20 donors paying at once on the embedded default: SQLite, in-process tasks, a threaded server."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import requests
from flask import Flask

from tests.conftest import LiveShop
from tests.faults.conftest import Scenario, Seen, all_at_once, all_delivered, deliveries, serve
from tests.servers import PartnerServer, SmtpSink
from tests.support import StripeStandIn, wait_for

DONORS = 20
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def backend() -> str:
    """What `make run` uses: a SQLite file, no Redis."""
    return "sqlite"


def donor(shop: LiveShop, number: int) -> Callable[[], requests.Response]:
    """Storefront, cart, checkout, pay at the stand-in, land on the order page."""

    def journey() -> requests.Response:
        browser = requests.Session()
        home = browser.get(f"{shop.url}/", timeout=30)
        token = CSRF.search(home.text)
        assert token, home.status_code
        browser.post(f"{shop.url}/cart/add", timeout=30, data={
            "csrf_token": token[1], "variant": "single-package", "quantity": "1"})
        cart = browser.get(f"{shop.url}/cart", timeout=30)
        token = CSRF.search(cart.text)
        assert token, cart.status_code
        checkout = browser.post(f"{shop.url}/checkout", allow_redirects=False, timeout=30,
                                data={"csrf_token": token[1], "name": f"Donor {number}",
                                      "email": f"donor{number}@example.org"})
        if checkout.status_code != 303:
            return checkout
        paid = requests.post(checkout.headers["Location"], allow_redirects=False, timeout=30,
                             data={"action": "pay", "email": f"donor{number}@example.org"})
        return browser.get(paid.headers["Location"], timeout=30)

    return journey


@pytest.mark.shop_config({"TASKS_IN_BACKGROUND": True})  # as `make run`
def test_20_donors_paying_at_once_on_sqlite_each_get_their_page_receipt_and_packing_order(
    app: Flask, stripe_stand_in: StripeStandIn, mailbox: SmtpSink, partner: PartnerServer,
    scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario(f"{DONORS} donors paying at once on SQLite",
                   f"{DONORS} browsers from storefront to order page at the same moment; "
                   "SQLite file, tasks on one in-process thread, a threaded server "
                   "(as `make run`); every request given 30 s")
    with serve(app, stripe_stand_in) as shop:
        pages = all_at_once([donor(shop, n) for n in range(DONORS)])
        run.sent = DONORS * 5
        wait_for(lambda: all_delivered(stripe_stand_in), timeout=60)
        run.sent += deliveries(stripe_stand_in)
        wait_for(lambda: len(partner.requests) >= DONORS and len(mailbox.messages) >= DONORS,
                 timeout=120)

    def checks(seen: Seen) -> dict[str, bool]:
        return {
            "every donor got their order page": [p.status_code for p in pages] == [200] * DONORS,
            f"{DONORS} orders paid": sorted(seen.orders.values()) == ["paid"] * DONORS,
            "a receipt each": sorted(seen.receipts.values()) == [1] * DONORS,
            "a packing order each": sorted(seen.packing_sent.values()) == [1] * DONORS,
        }

    run.finish(app, stripe_stand_in, mailbox, partner, checks)
