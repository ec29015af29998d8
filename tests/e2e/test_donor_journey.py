"""A donor buys a ten-pack with a note in Chromium, pays on the Checkout page, sees Paid."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskCliRunner
from playwright.sync_api import Page, expect

from tests.conftest import LiveShop
from tests.servers import PartnerServer, SmtpSink, text_of
from tests.support import StripeStandIn, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.with_and_without_js]


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    # The browser journey runs once, on the embedded default; integration covers PostgreSQL.
    return str(request.param)


def test_donor_buys_a_ten_pack_with_a_note_and_sees_paid(
    page: Page, live_shop: LiveShop, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer, runner: FlaskCliRunner,
) -> None:
    note = "Stay warm, we are proud of you! 🧤❄️"
    page.goto(live_shop.url + "/")
    ten_pack = page.locator('[data-testid="add-to-cart"][data-variant="unit-ten-pack"]')
    expect(ten_pack).to_contain_text("$590.00")
    ten_pack.locator('[data-testid="note"]').fill(note)
    ten_pack.get_by_role("button", name="Add to cart").click()

    expect(page).to_have_url(live_shop.url + "/cart")
    line = page.locator('[data-testid="cart-line"]')
    expect(line).to_have_count(1)
    expect(line).to_contain_text("Unit ten-pack")
    expect(line).to_contain_text(note)
    page.get_by_test_id("checkout-email").fill("donor@example.org")
    page.get_by_test_id("checkout-button").click()

    expect(page).to_have_url(re.compile(re.escape(stripe_stand_in.url + "/c/pay/")))
    expect(page.locator("body")).to_contain_text("$590.00")
    page.get_by_test_id("emulator-pay").click()

    expect(page).to_have_url(re.compile(re.escape(live_shop.url + "/orders/")))
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.get_by_test_id("order-note")).to_contain_text(note)
    expect(page.get_by_test_id("order-total")).to_have_text("$590.00")
    number = page.locator("h1").inner_text().removeprefix("Order ").strip()

    # The receipt reaches the donor's inbox; the packing order reaches the partner, signed.
    [receipt] = wait_for(lambda: mailbox.to("donor@example.org", "receipt"))
    assert number in str(receipt["Subject"])
    assert note in text_of(receipt)
    wait_for(lambda: len(partner.accepted) == 1)
    [request] = partner.requests
    assert request["signed"] and request["key"] == number

    # A staff member logs in and finds the order in the list, on its page and in the CSV.
    created = runner.invoke(args=["create-staff", "staff@example.org", "--role", "viewer"],
                            env={"STAFF_PASSWORD": "correct horse battery"})
    assert created.exit_code == 0, created.output
    page.goto(live_shop.url + "/staff/orders")
    expect(page).to_have_url(re.compile(re.escape(live_shop.url + "/staff/login")))
    login = page.get_by_test_id("staff-login-form")
    login.get_by_label("Email").fill("staff@example.org")
    login.get_by_label("Password").fill("correct horse battery")
    login.get_by_role("button").click()
    row = page.locator(f'[data-testid="staff-order-row"][data-number="{number}"]')
    expect(row).to_contain_text("donor@example.org")
    row.get_by_role("link", name=number).click()
    expect(page.get_by_test_id("staff-order-status")).to_contain_text("Paid")
    expect(page.get_by_test_id("staff-line-note")).to_contain_text(note)
    expect(page.get_by_test_id("staff-receipt-status")).to_have_attribute("data-status", "done")
    csv = page.request.get(live_shop.url + "/staff/orders.csv")
    assert csv.ok
    header, *rows = csv.text().splitlines()
    assert header.split(",")[0] == "number"
    assert any(line.startswith(number + ",") for line in rows)


def test_a_declined_card_leaves_the_order_unpaid_and_the_donor_can_go_back(
    page: Page, live_shop: LiveShop, stripe_stand_in: StripeStandIn
) -> None:
    page.goto(live_shop.url + "/")
    single = page.locator('[data-testid="add-to-cart"][data-variant="single-package"]')
    single.get_by_role("button", name="Add to cart").click()
    page.get_by_test_id("checkout-email").fill("donor@example.org")
    page.get_by_test_id("checkout-button").click()
    page.get_by_test_id("emulator-decline").click()
    expect(page.get_by_test_id("emulator-error")).to_contain_text("declined")
    page.get_by_test_id("emulator-cancel").click()
    expect(page).to_have_url(live_shop.url + "/cart")
    expect(page.locator(".flash")).to_contain_text("nothing was charged. Your cart is kept")
    expect(page.locator('[data-testid="cart-line"]')).to_have_count(1)
