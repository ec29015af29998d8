"""In Chromium: a note with a phone number is refused, a held note waits for a manager."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskCliRunner
from playwright.sync_api import Page, expect

from tests.conftest import LiveShop
from tests.servers import PartnerServer
from tests.support import StripeStandIn, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.with_and_without_js]

HELD_NOTE = "Get well soon, everyone at the hospital"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.shop_config({"NOTE_REVIEW_TERMS": "hospital"})
def test_a_refused_note_is_fixed_and_a_held_one_is_approved_by_a_manager(
    page: Page, live_shop: LiveShop, stripe_stand_in: StripeStandIn, partner: PartnerServer,
    runner: FlaskCliRunner,
) -> None:
    page.goto(live_shop.url + "/")
    ten_pack = page.locator('[data-testid="add-to-cart"][data-variant="unit-ten-pack"]')
    ten_pack.locator('[data-testid="note"]').fill("Call me on 067 123 45 67")
    ten_pack.get_by_role("button", name="Add to cart").click()
    ten_pack = page.locator('[data-testid="add-to-cart"][data-variant="unit-ten-pack"]')
    expect(ten_pack.get_by_test_id("form-errors")).to_contain_text(
        "Notes cannot include phone numbers, emails or links")
    expect(ten_pack.locator('[data-testid="note"]')).to_have_value("Call me on 067 123 45 67")

    ten_pack.locator('[data-testid="note"]').fill(HELD_NOTE)
    ten_pack.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(live_shop.url + "/cart")
    expect(page.locator('[data-testid="cart-line"]')).to_contain_text(HELD_NOTE)
    page.get_by_test_id("checkout-email").fill("donor@example.org")
    page.get_by_test_id("checkout-button").click()
    page.get_by_test_id("emulator-pay").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    number = page.locator("h1").inner_text().removeprefix("Order ").strip()
    assert partner.requests == []

    created = runner.invoke(args=["create-staff", "lead@example.org", "--role", "manager"],
                            env={"STAFF_PASSWORD": "correct horse battery"})
    assert created.exit_code == 0, created.output
    page.goto(live_shop.url + "/staff/orders")
    login = page.get_by_test_id("staff-login-form")
    login.get_by_label("Email").fill("lead@example.org")
    login.get_by_label("Password").fill("correct horse battery")
    login.get_by_role("button").click()
    link = page.get_by_test_id("staff-notes-link")
    expect(link).to_have_text("Notes to review (1)")
    link.click()

    row = page.locator(f'[data-testid="staff-note-queue"] [data-testid="staff-note-row"]'
                       f'[data-number="{number}"]')
    expect(row).to_contain_text(HELD_NOTE)
    expect(row).to_contain_text('"hospital"')
    row.get_by_test_id("staff-note-approve").click()
    expect(page).to_have_url(re.compile(re.escape(live_shop.url + "/staff/notes")))
    expect(page.locator("main")).to_contain_text("The packing order is on its way")
    expect(page.get_by_test_id("staff-notes-link")).to_have_text("Notes to review (0)")

    wait_for(lambda: len(partner.accepted) == 1)
    [request] = partner.requests
    assert json.loads(request["raw"])["lines"][0]["note"] == HELD_NOTE
