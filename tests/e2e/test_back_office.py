"""In Chromium: the back office as the charity's staff use it. A manager changes a price
(an open cart shows it with a notice, a placed order keeps its own); a refund needs its
review and reaches the donor with an amended receipt PDF; resending after a partial
refund sends the amended receipt; a viewer has no action buttons and every action post
is refused; a deactivated user's session ends."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskCliRunner
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from bench.pagecheck import axe_violations
from tests.conftest import LiveShop
from tests.pdfs import pdf_text
from tests.servers import SmtpSink, text_of
from tests.support import StripeStandIn, stripe_get, wait_for

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def staff(runner: FlaskCliRunner, email: str, role: str) -> None:
    created = runner.invoke(args=["create-staff", email, "--role", role],
                            env={"STAFF_PASSWORD": PASSWORD})
    assert created.exit_code == 0, created.output


def log_in(page: Page, shop: LiveShop, email: str) -> None:
    page.goto(shop.url + "/staff/login")
    form = page.get_by_test_id("staff-login-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button").click()
    expect(page).to_have_url(shop.url + "/staff/dashboard")


def buy_single(page: Page, shop: LiveShop, email: str) -> str:
    """A donor buys one single package and pays; returns the order number."""
    page.goto(shop.url + "/")
    single = page.locator('[data-testid="add-to-cart"][data-variant="single-package"]')
    single.get_by_role("button", name="Add to cart").click()
    page.get_by_test_id("checkout-email").fill(email)
    page.get_by_test_id("checkout-button").click()
    page.get_by_test_id("emulator-pay").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    return page.locator("h1").inner_text().removeprefix("Order ").strip()


def new_page(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def test_a_price_change_reaches_open_carts_with_a_notice_and_never_placed_orders(
    page: Page, browser: Browser, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    runner: FlaskCliRunner,
) -> None:
    placed = buy_single(page, live_shop, "first@example.org")
    donor_context, donor = new_page(browser)
    donor.goto(live_shop.url + "/")
    single = donor.locator('[data-testid="add-to-cart"][data-variant="single-package"]')
    single.get_by_role("button", name="Add to cart").click()
    expect(donor.locator('[data-testid="cart-line"]')).to_contain_text("$65.00")

    staff(runner, "manager@example.org", "manager")
    staff_context, manager = new_page(browser)
    log_in(manager, live_shop, "manager@example.org")
    manager.goto(live_shop.url + "/staff/catalog")
    row = manager.locator('[data-testid="staff-catalog-bundle"][data-slug="single-package"]')
    row.get_by_test_id("staff-bundle-price").fill("0")
    row.get_by_test_id("staff-bundle-save").click()
    expect(manager.get_by_test_id("staff-catalog-error")).to_contain_text("more than zero")
    row = manager.locator('[data-testid="staff-catalog-bundle"][data-slug="single-package"]')
    row.get_by_test_id("staff-bundle-price").fill("70.00")
    row.get_by_test_id("staff-bundle-save").click()
    expect(manager.get_by_test_id("staff-price-history")).to_contain_text(
        "manager@example.org: Single care package: $65.00 -> $70.00")

    donor.goto(live_shop.url + "/cart")
    expect(donor.get_by_test_id("cart-price-change")).to_contain_text(
        "Single care package now costs $70.00 (it was $65.00")
    expect(donor.locator('[data-testid="cart-line"]')).to_contain_text("$70.00")
    donor.get_by_test_id("checkout-email").fill("second@example.org")
    donor.get_by_test_id("checkout-button").click()
    expect(donor.get_by_test_id("emulator-pay")).to_be_visible()
    assert "70.00" in donor.content()

    manager.goto(f"{live_shop.url}/staff/orders/{placed}")
    expect(manager.get_by_test_id("staff-order-total")).to_have_text("$65.00")
    donor_context.close()
    staff_context.close()


def test_a_refund_needs_its_review_reaches_the_donor_with_an_amended_receipt_pdf(
    page: Page, browser: Browser, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    runner: FlaskCliRunner, mailbox: SmtpSink,
) -> None:
    number = buy_single(page, live_shop, "dana@example.org")
    wait_for(lambda: mailbox.to("dana@example.org", "receipt"))
    staff(runner, "manager@example.org", "manager")
    staff_context, manager = new_page(browser)
    log_in(manager, live_shop, "manager@example.org")
    manager.goto(f"{live_shop.url}/staff/orders/{number}")
    form = manager.get_by_test_id("staff-refund-form")
    form.get_by_test_id("staff-refund-amount").fill("15.00")
    form.get_by_test_id("staff-refund-button").click()
    summary = " ".join(manager.get_by_test_id("staff-refund-summary").inner_text().split())
    assert summary == (f"Refund $15.00 of $65.00 to d***@example.org for order {number}? "
                       "Reason: requested by the donor.")
    assert stripe_get(stripe_stand_in, "refunds", limit=10)["data"] == []
    manager.get_by_test_id("staff-refund-confirm-button").click()
    expect(manager.locator(".flash-success")).to_contain_text("Refund of $15.00 sent to Stripe")
    # Stripe's charge.refunded reaches the shop; the order is partly refunded.
    def partly_refunded() -> bool:
        manager.reload()
        return manager.get_by_test_id("staff-order-status").inner_text() == "Partly refunded"

    wait_for(partly_refunded, timeout=30, interval=0.5)
    # The donor hears how much went back, with the amended receipt as a PDF.
    [refund] = wait_for(lambda: mailbox.to("dana@example.org", "refund"))
    assert f"We have refunded $15.00 of the $65.00 you paid for order {number}" in \
        " ".join(text_of(refund).split())
    pdf = pdf_text(next(refund.iter_attachments()).get_content())
    for printed in (f"Amended receipt number: R-{number}", "Total paid $65.00",
                    "Refunded -$15.00", "Remains a purchase of care packages $50.00"):
        assert printed in pdf, pdf
    manager.get_by_test_id("staff-resend-receipt-button").click()
    expect(manager.locator(".flash-success")).to_contain_text("amended receipt")
    amended = wait_for(lambda: [m for m in mailbox.to("dana@example.org", "receipt")
                                if "amended" in m["Subject"]])
    text = text_of(amended[0])
    assert "REFUNDED: $15.00" in text and "KEPT BY THE CHARITY: $50.00" in text
    staff_context.close()


def test_a_viewer_has_no_actions_and_a_deactivated_user_is_logged_out(
    page: Page, browser: Browser, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    runner: FlaskCliRunner,
) -> None:
    number = buy_single(page, live_shop, "dana@example.org")
    staff(runner, "viewer@example.org", "viewer")
    staff(runner, "admin@example.org", "admin")
    viewer_context, viewer = new_page(browser)
    log_in(viewer, live_shop, "viewer@example.org")
    viewer.goto(f"{live_shop.url}/staff/orders/{number}")
    expect(viewer.get_by_test_id("staff-order-status")).to_have_text("Paid")
    expect(viewer.get_by_test_id("staff-actions")).to_have_count(0)
    expect(viewer.locator("main button")).to_have_count(0)
    token = viewer.locator('input[name="csrf_token"]').first.get_attribute("value")
    for path in (f"orders/{number}/ship", f"orders/{number}/resend-receipt",
                 f"orders/{number}/retry-packing-order", f"orders/{number}/approve",
                 f"orders/{number}/refund", f"orders/{number}/refund/1/retry",
                 "notes/1/approve", "notes/1/reject", "units/1/ship",
                 "catalog/bundles/1", "campaign", "users/invite", "users/1/deactivate"):
        forms: tuple[dict[str, str | float | bool], ...] = (
            {"csrf_token": token or "", "amount": "5", "confirm": "yes"},
            {"amount": "5", "confirm": "yes"})
        for data in forms:
            answer = viewer.request.post(f"{live_shop.url}/staff/{path}", form=data,
                                         max_redirects=0)
            assert answer.status == 403, (path, answer.status)
    assert stripe_get(stripe_stand_in, "refunds", limit=10)["data"] == []

    admin_context, admin = new_page(browser)
    log_in(admin, live_shop, "admin@example.org")
    admin.goto(live_shop.url + "/staff/users")
    row = admin.locator('[data-testid="staff-user-row"][data-email="viewer@example.org"]')
    row.get_by_test_id("staff-deactivate-button").click()
    expect(admin.locator(".flash-success")).to_contain_text("1 open session ended at once")
    viewer.goto(f"{live_shop.url}/staff/orders/{number}")
    expect(viewer).to_have_url(re.compile(re.escape(live_shop.url + "/staff/login")))
    viewer_context.close()
    admin_context.close()


def test_every_staff_page_passes_axe_on_a_phone_and_a_laptop(
    page: Page, browser: Browser, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    runner: FlaskCliRunner,
) -> None:
    number = buy_single(page, live_shop, "erin@example.org")
    staff(runner, "admin@example.org", "admin")
    context, admin = new_page(browser)
    log_in(admin, live_shop, "admin@example.org")
    problems: dict[str, object] = {}
    for path in ["/staff/dashboard", "/staff/orders", f"/staff/orders/{number}",
                 "/staff/orders?q=erin", "/staff/notes", "/staff/monthly", "/staff/units",
                 "/staff/catalog", "/staff/campaign", "/staff/users", "/staff/audit"]:
        viewports: tuple[ViewportSize, ...] = ({"width": 360, "height": 740},
                                               {"width": 1280, "height": 900})
        for viewport in viewports:
            admin.set_viewport_size(viewport)
            admin.goto(live_shop.url + path)
            assert admin.title(), path
            if found := axe_violations(admin):
                problems[f"{path} at {viewport['width']}px: axe-core"] = found
    context.close()
    assert problems == {}
