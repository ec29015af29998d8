"""A donor gives once with fee cover and a dedication, and another gives monthly then cancels."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from shop.donations.service import fee_to_cover
from tests.conftest import LiveShop
from tests.servers import SmtpSink, text_of
from tests.support import StripeStandIn, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.with_and_without_js]


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_one_off_gift_with_fee_cover_and_a_dedication(
    page: Page, live_shop: LiveShop, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    javascript: bool,
) -> None:
    fee = fee_to_cover(5000, Decimal("2.9"), 30)
    page.goto(live_shop.url + "/donate")
    page.get_by_test_id("preset-other").check()
    page.get_by_test_id("other-amount").fill("50")
    page.get_by_test_id("cover-fee").check()
    if javascript:  # the page works out the fee as the donor types; the server always does
        expect(page.get_by_test_id("fee-amount")).to_have_text(f"${fee / 100:.2f}")
    page.get_by_test_id("dedication-honor").check()
    page.get_by_test_id("dedication-name").fill("Sgt. Dana Rivera")
    page.get_by_test_id("dedication-email").fill("rivera.family@example.org")
    page.get_by_test_id("donor-email").fill("giver@example.org")
    page.get_by_test_id("donor-name").fill("Gil")
    page.get_by_test_id("donate-button").click()

    expect(page).to_have_url(re.compile(re.escape(stripe_stand_in.url + "/c/pay/")))
    expect(page.locator("body")).to_contain_text(f"${(5000 + fee) / 100:.2f}")
    page.get_by_test_id("emulator-pay").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.get_by_test_id("order-total")).to_have_text(f"${(5000 + fee) / 100:.2f}")

    [notice] = wait_for(lambda: mailbox.to("rivera.family@example.org"))
    assert "in honor of Sgt. Dana Rivera" in str(notice["Subject"])
    [receipt] = wait_for(lambda: mailbox.to("giver@example.org"))
    assert "In honor of Sgt. Dana Rivera" in text_of(receipt)
    assert "Processing fee, covered by you" in text_of(receipt)


def test_a_monthly_gift_starts_sends_its_receipt_and_is_cancelled_by_its_link(
    page: Page, live_shop: LiveShop, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    page.goto(live_shop.url + "/donate")
    page.get_by_test_id("preset-18").check()
    page.get_by_test_id("frequency-monthly").check()
    page.get_by_test_id("donor-email").fill("monthly@example.org")
    page.get_by_test_id("donate-button").click()

    expect(page).to_have_url(re.compile(re.escape(stripe_stand_in.url + "/c/pay/")))
    expect(page.locator("body")).to_contain_text("per month")
    page.get_by_test_id("emulator-pay").click()
    expect(page.get_by_test_id("monthly-status")).to_have_text("Active")
    expect(page.get_by_test_id("monthly-gift-row")).to_have_count(1)

    [receipt] = wait_for(lambda: mailbox.to("monthly@example.org"))
    link = re.search(r"(http://\S+/monthly/\S+)", text_of(receipt))
    assert link, text_of(receipt)
    page.goto(link.group(1))
    expect(page.get_by_test_id("monthly-status")).to_have_text("Active")
    page.get_by_test_id("monthly-cancel-button").click()
    # Asked once more before anything happens.
    expect(page.locator("h1")).to_have_text("Cancel your $18.00 monthly gift?")
    page.get_by_test_id("monthly-cancel-confirm").click()
    expect(page.locator("body")).to_contain_text("Your monthly gift is cancelled")
    expect(page.locator("h1")).to_have_text("Your monthly gift has ended")
    expect(page.get_by_test_id("monthly-status")).to_have_text("Cancelled")
    expect(page.get_by_test_id("monthly-cancel-button")).to_have_count(0)
