"""In Chromium: a donor writes their name in Arabic and honours someone in Chinese; the
receipt PDF that reaches them prints both (read back from the PDF's text)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveShop
from tests.pdfs import pdf_text
from tests.servers import SmtpSink
from tests.support import StripeStandIn, wait_for

pytestmark = pytest.mark.e2e

ARABIC_NAME = "\u0645\u062d\u0645\u062f \u0639\u0628\u062f\u0627\u0644\u0644\u0647"
CHINESE_NAME = "\u738b\u5c0f\u660e"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_an_arabic_and_a_chinese_name_print_on_the_receipt(
    page: Page, live_shop: LiveShop, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    page.goto(live_shop.url + "/donate")
    page.get_by_test_id("preset-other").check()
    page.get_by_test_id("other-amount").fill("40")
    page.get_by_test_id("dedication-honor").check()
    page.get_by_test_id("dedication-name").fill(CHINESE_NAME)
    page.get_by_test_id("donor-email").fill("giver@example.org")
    page.get_by_test_id("donor-name").fill(ARABIC_NAME)
    page.get_by_test_id("donate-button").click()
    expect(page).to_have_url(re.compile(re.escape(stripe_stand_in.url + "/c/pay/")))
    page.get_by_test_id("emulator-pay").click()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")

    [receipt] = wait_for(lambda: mailbox.to("giver@example.org"))
    [attachment] = list(receipt.iter_attachments())
    text = pdf_text(attachment.get_content())
    assert all(word in text for word in ARABIC_NAME.split()), text
    assert f"{CHINESE_NAME}" in text and "\ufffd" not in text
