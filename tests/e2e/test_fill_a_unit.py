"""Ten donors, each in a browser of their own, fill a unit together; the partner gets one order."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import LiveShop
from tests.servers import PartnerServer
from tests.support import StripeStandIn, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    # Once, on the embedded default; the integration suite covers PostgreSQL and concurrency.
    return str(request.param)


def test_ten_donors_fill_a_unit_and_the_partner_receives_one_packing_order(
    browser: Browser, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    partner: PartnerServer,
) -> None:
    notes = [f"Donor {n} says: stay warm out there ❄️" for n in range(1, 11)]
    for number, note in enumerate(notes, start=1):
        # A different donor each time (no shared cookies or cart), without JavaScript.
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_shop.url + "/")
        unit = page.get_by_test_id("unit-progress")
        expect(unit).to_have_count(1)
        expect(unit).to_contain_text(f"Unit 1: {number - 1} of 10 packages funded")

        single = page.locator('[data-testid="add-to-cart"][data-variant="single-package"]')
        single.get_by_test_id("note").fill(note)
        single.get_by_test_id("join-unit").check()
        single.get_by_role("button", name="Add to cart").click()
        expect(page).to_have_url(live_shop.url + "/cart")
        expect(page.get_by_test_id("cart-join-unit")).to_be_visible()
        page.get_by_test_id("checkout-email").fill(f"donor{number}@example.org")
        page.get_by_test_id("checkout-button").click()

        expect(page).to_have_url(re.compile(re.escape(stripe_stand_in.url + "/c/pay/")))
        page.get_by_test_id("emulator-pay").click()
        expect(page).to_have_url(re.compile(re.escape(live_shop.url + "/orders/")))
        expect(page.get_by_test_id("order-status")).to_have_text("Paid")
        expect(page.get_by_test_id("order-unit")).to_contain_text(
            f"in unit 1: {number} of 10 packages funded")
        context.close()
        if number < 10:
            assert partner.requests == [], "nothing ships before the unit is full"

    wait_for(lambda: "UNIT-0001" in partner.accepted)
    [request] = partner.requests
    assert request["signed"] and request["key"] == "UNIT-0001"
    body = json.loads(request["raw"])
    assert body["unit"] == 1 and body["packages"] == 10
    assert [line["note"] for line in body["lines"]] == notes

    context = browser.new_context()
    page = context.new_page()
    page.goto(live_shop.url + "/")
    expect(page.get_by_test_id("unit-progress")).to_have_text(
        re.compile(r"Unit 2: 0 of 10 packages funded"))
    expect(page.get_by_test_id("campaign-summary")).to_have_text(
        "10 of 1,000 packages funded · $650.00 raised of $65,000.00")
    expect(page.get_by_role("progressbar", name="Packages funded")).to_have_attribute(
        "aria-valuenow", "10")
    context.close()
