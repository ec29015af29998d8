"""In Chromium: a phone's first screen, tap targets, sideways scrolling and axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from bench.pagecheck import axe_violations, below_fold, overflow_x, small_targets
from tests.conftest import LiveShop
from tests.support import StripeStandIn

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 360, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def test_a_phone_first_screen_shows_the_appeal_a_price_and_the_action(
    phone: BrowserContext, live_shop: LiveShop
) -> None:
    page = phone.new_page()
    page.goto(live_shop.url + "/")
    assert below_fold(page, ["#hero-title", '[data-testid="hero-price"]',
                             '[data-testid="hero-add"]']) == []
    expect(page.get_by_test_id("hero-price")).to_contain_text("$65.00")

    page.goto(live_shop.url + "/donate")
    assert below_fold(page, ["#give-title", '[data-testid="preset-36"] + .tile-face',
                             '[data-testid="donate-button"]']) == []

    # The first screen's button adds a package: the cart and the header say so.
    page.goto(live_shop.url + "/")
    page.get_by_test_id("hero-add").click()
    expect(page).to_have_url(live_shop.url + "/cart")
    expect(page.get_by_test_id("cart-line")).to_contain_text("Single care package")
    expect(page.get_by_test_id("nav-cart-count")).to_have_attribute("data-count", "1")


def _pay_for_a_package(page: Page, live_shop: LiveShop) -> str:
    """Buy a joined single package with a note; the order page's address."""
    page.goto(live_shop.url + "/")
    single = page.locator('[data-testid="add-to-cart"][data-variant="single-package"]')
    single.get_by_test_id("note").fill("Stay warm, we are proud of you")
    single.get_by_test_id("join-unit").check()
    single.get_by_role("button", name="Add to cart").click()
    page.get_by_test_id("checkout-email").fill("donor@example.org")
    page.get_by_test_id("checkout-button").click()
    page.get_by_test_id("emulator-pay").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    return page.url


def test_donor_pages_have_large_targets_fit_a_phone_and_pass_axe(
    browser: Browser, live_shop: LiveShop, stripe_stand_in: StripeStandIn
) -> None:
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    order_url = _pay_for_a_package(page, live_shop)
    # Something in the cart, so its lines, summary and "Edit" are checked too.
    page.goto(live_shop.url + "/donate")
    page.get_by_test_id("donate-button").click()
    page.goto(live_shop.url + "/")
    page.locator('[data-testid="add-to-cart"][data-variant="unit-ten-pack"]').get_by_role(
        "button", name="Add to cart").click()
    expect(page.get_by_test_id("cart-line")).to_have_count(2)

    problems: dict[str, object] = {}
    for path in ["/", "/donate", "/cart", order_url.removeprefix(live_shop.url),
                 "/about", "/contact", "/privacy", "/refund-policy", "/no-such-page"]:
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            page.goto(live_shop.url + path)
            where = f"{path} at {viewport['width']}px"
            if viewport is PHONE:
                if small := small_targets(page):
                    problems[f"{where}: targets under 44px"] = small
                if wider := overflow_x(page):
                    problems[f"{where}: wider than the screen by {wider}px"] = wider
            if found := axe_violations(page):
                problems[f"{where}: axe-core"] = found
    context.close()
    assert problems == {}


def test_the_progress_shows_a_first_package_and_the_count_of_gifts(
    page: Page, live_shop: LiveShop, stripe_stand_in: StripeStandIn
) -> None:
    _pay_for_a_package(page, live_shop)
    page.emulate_media(reduced_motion="reduce")  # the bar as drawn, not growing in
    page.goto(live_shop.url + "/")
    bar = page.get_by_role("progressbar", name="Packages funded")
    expect(bar).to_have_attribute("aria-valuenow", "1")
    # 1 of 1,000 is 0.1%: still drawn wide enough to see, 2% of the bar.
    track, drawn = bar.bounding_box(), bar.locator("rect").bounding_box()
    assert track is not None and drawn is not None
    assert drawn["width"] >= track["width"] * 0.019
    expect(page.get_by_test_id("campaign-gifts")).to_have_text(re.compile(r"^\s*1 gift so far"))
