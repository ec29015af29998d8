"""In Chromium: the typed other amount is charged, the button names the gift, and a refused
note's error takes the focus and keeps what the donor wrote."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from shop.donations.service import fee_to_cover
from tests.conftest import LiveShop
from tests.support import StripeStandIn

pytestmark = pytest.mark.e2e

PHONE_NOTE = "Call me on 067 123 45 67"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page_without_js(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def focused_testid(page: Page) -> str | None:
    testid: str | None = page.evaluate(
        "document.activeElement && document.activeElement.dataset.testid")
    return testid


def test_typing_an_other_amount_selects_it_and_the_button_names_the_gift(
    page: Page, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
) -> None:
    page.goto(live_shop.url + "/donate")
    expect(page.get_by_test_id("preset-36")).to_be_checked()
    expect(page.get_by_test_id("donate-button")).to_have_text("Give $36.00")

    page.get_by_test_id("preset-other").check()
    page.get_by_test_id("other-amount").fill("75")
    expect(page.get_by_test_id("donate-button")).to_have_text("Give $75.00")
    page.get_by_test_id("cover-fee").check()
    fee = fee_to_cover(7500, Decimal("2.9"), 30)
    expect(page.get_by_test_id("fee-amount")).to_have_text(f"${fee / 100:.2f}")
    expect(page.get_by_test_id("donate-button")).to_have_text(f"Give ${(7500 + fee) / 100:.2f}")
    page.get_by_test_id("frequency-monthly").check()
    expect(page.get_by_test_id("donate-button")).to_have_text(
        f"Give ${(7500 + fee) / 100:.2f} monthly")
    page.get_by_test_id("frequency-once").check()

    # Clicking a preset clears the box: the preset is what will be charged.
    page.get_by_test_id("preset-100").check()
    expect(page.get_by_test_id("other-amount")).to_have_value("")
    expect(page.get_by_test_id("donate-button")).to_contain_text("Give $10")

    # A preset left checked (as a restored page can leave it) while the donor types in
    # the box: typing selects "Other amount", and the typed amount is charged.
    page.get_by_test_id("preset-other").check()
    page.get_by_test_id("other-amount").fill("7")
    page.evaluate("document.querySelector('[data-testid=preset-36]').checked = true")
    expect(page.get_by_test_id("preset-36")).to_be_checked()
    page.get_by_test_id("other-amount").fill("75")
    expect(page.get_by_test_id("preset-other")).to_be_checked()
    page.evaluate("document.querySelector('[data-testid=preset-18]').checked = true")
    page.get_by_test_id("donor-email").fill("giver@example.org")
    page.get_by_test_id("donate-button").click()
    expect(page).to_have_url(re.compile(re.escape(stripe_stand_in.url + "/c/pay/")))
    [session] = stripe_stand_in.sessions()
    assert session["amount_total"] == 7500 + fee


def test_without_javascript_a_typed_amount_beats_the_preset_still_checked(
    page_without_js: Page, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
) -> None:
    page = page_without_js
    page.goto(live_shop.url + "/")
    compact = page.get_by_test_id("compact-donation-form")
    compact.get_by_test_id("preset-other").check()
    compact.get_by_test_id("other-amount").fill("75")
    compact.get_by_test_id("preset-36").check()
    # The typed amount stays in view: it is what will be charged.
    expect(compact.get_by_test_id("other-amount")).to_be_visible()
    expect(compact.get_by_test_id("preset-36")).to_be_checked()
    compact.get_by_test_id("compact-email").fill("giver@example.org")
    compact.get_by_test_id("compact-donate-button").click()
    expect(page).to_have_url(re.compile(re.escape(stripe_stand_in.url + "/c/pay/")))
    expect(page.locator("body")).to_contain_text("$75.00")
    [session] = stripe_stand_in.sessions()
    assert session["amount_total"] == 7500

    # No fee is stated for an amount the donor did not choose.
    page.goto(live_shop.url + "/donate")
    expect(page.get_by_test_id("fee-amount")).to_be_hidden()
    expect(page.get_by_test_id("donate-button")).to_have_text("Give now")


def test_a_refused_note_takes_the_focus_and_keeps_the_words_on_the_storefront_and_in_the_cart(
    page: Page, live_shop: LiveShop,
) -> None:
    page.goto(live_shop.url + "/")
    single = page.locator('[data-testid="add-to-cart"][data-variant="single-package"]')
    single.get_by_test_id("note").fill(PHONE_NOTE)
    single.get_by_role("button", name="Add to cart").click()

    single = page.locator('[data-testid="add-to-cart"][data-variant="single-package"]')
    summary = single.get_by_test_id("form-errors")
    expect(summary).to_contain_text("Notes cannot include phone numbers")
    expect(summary).to_be_focused()
    note = single.get_by_test_id("note")
    expect(note).to_have_value(PHONE_NOTE)
    expect(note).to_have_attribute("aria-invalid", "true")
    described = note.get_attribute("aria-describedby")
    assert described
    expect(page.locator(f"#{described}")).to_contain_text("Notes cannot include phone numbers")
    summary.get_by_test_id("error-link").click()
    assert focused_testid(page) == "note"

    note.fill("Stay warm")
    single.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(live_shop.url + "/cart")

    page.get_by_test_id("edit-line").locator("summary").click()
    line_note = page.get_by_test_id("line-note")
    line_note.fill("Write to me at me@example.org")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_test_id("form-errors")).to_be_focused()
    expect(page.get_by_test_id("form-errors")).to_contain_text("Notes cannot include")
    # The donor's new words stay in the box to be fixed; the cart still holds the old note.
    expect(page.get_by_test_id("line-note")).to_have_value("Write to me at me@example.org")
    expect(page.get_by_test_id("line-note")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("cart-note")).to_have_text("“Stay warm”")
