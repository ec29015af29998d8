"""`python -m bench.pages`: what each page weighs, what axe-core finds, the phone's first screen.

Runs the shop on the embedded default (SQLite, tasks in-process, the local Stripe stand-in)
in this process, drives Debian's Chromium through Playwright like a donor (a paid order, a
monthly gift, a cart with lines) and a staff member, then prints:

- bytes and requests per donor page, first load (empty cache, every lazy picture loaded)
  and repeat load (the same browser coming back), against the goals of 150 KB and 20 KB;
- axe-core's violations on every donor and staff page, at 360 and 1280 px wide;
- on a 360 x 740 phone: whether the price and the primary button are on the first screen,
  controls under 44 x 44 px, and any sideways overflow.

`--screenshots DIR` also saves each page at 360 and 1280 px as `DIR/<page>-<width>.png`
(`make screenshots` writes docs/screenshots/).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from werkzeug.serving import make_server

from bench.pagecheck import (
    Weight,
    axe_violations,
    below_fold,
    load_everything,
    overflow_x,
    small_targets,
    weight,
)
from shop import create_app
from shop.catalog.service import seed_winter_campaign
from shop.extensions import db
from shop.staff.service import create_or_update_staff
from stripe_emulator import EmulatorServer
from stripe_emulator.store import EmulatorConfig

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
FIRST_LOAD_GOAL = 150 * 1024
REPEAT_LOAD_GOAL = 20 * 1024
WEBHOOK_SECRET = "whsec_pages_report"
STAFF = ("staff@example.org", "a long demo password")


@dataclass
class PageSpec:
    name: str  # also the screenshot's file name
    path: str
    donor: bool = True
    # On a phone's first screen: the price and the primary button (None: not checked).
    first_screen: list[str] | None = None
    screenshot: bool = False


@dataclass
class Row:
    spec: PageSpec
    first: Weight | None = None
    repeat: Weight | None = None
    axe: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    first_screen_missing: list[str] | None = None
    small: list[str] = field(default_factory=list)
    overflow: int = 0


def chromium_path() -> str:
    return (os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
            or "/usr/bin/chromium")


@contextlib.contextmanager
def live_shop(tmp: Path) -> Iterator[str]:
    """The shop and the Stripe stand-in on free loopback ports; yields the shop's URL."""
    emulator = EmulatorServer(EmulatorConfig(webhook_secret=WEBHOOK_SECRET),
                              host="127.0.0.1", port=0).start()
    app: Flask = create_app({
        "SECRET_KEY": "pages-report", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'shop.db'}",
        "STRIPE_API_BASE": emulator.url, "STRIPE_SECRET_KEY": "sk_test_pages_report",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_MAX_NETWORK_RETRIES": 0,
        "RATELIMIT_ENABLED": False, "REDIS_URL": None, "MAIL_SERVER": None,
        "FULFILMENT_URL": None, "FULFILMENT_EMAIL": "packing@example.org",
    })
    with app.app_context():
        db.create_all()
        seed_winter_campaign(app.config["CURRENCY"])
        create_or_update_staff(STAFF[0], "admin", STAFF[1])
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = url
    emulator.config.webhook_url = f"{url}/stripe/webhook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        emulator.stop()


def _donor_journeys(context: BrowserContext, url: str) -> dict[str, str]:
    """A paid order with a note, a monthly gift, then a cart with two lines: their paths."""
    page = context.new_page()
    page.goto(url + "/")
    ten = page.locator('[data-testid="add-to-cart"][data-variant="unit-ten-pack"]')
    ten.get_by_test_id("note").fill("Stay warm out there. The whole town is proud of you!")
    ten.get_by_role("button", name="Add to cart").click()
    page.get_by_test_id("checkout-email").fill("dana@example.org")
    page.get_by_test_id("checkout-name").fill("Dana")
    page.get_by_test_id("checkout-button").click()
    page.get_by_test_id("emulator-pay").click()
    page.get_by_test_id("order-status").wait_for()
    order = page.url.removeprefix(url).split("?")[0]
    number = page.locator("h1").inner_text().removeprefix("Order ").strip()

    page.goto(url + "/donate")
    page.get_by_test_id("frequency-monthly").check()
    page.get_by_test_id("donor-email").fill("monthly@example.org")
    page.get_by_test_id("donate-button").click()
    page.get_by_test_id("emulator-pay").click()
    page.get_by_test_id("monthly-status").wait_for()
    monthly = page.url.removeprefix(url).split("?")[0]

    page.goto(url + "/")
    single = page.locator('[data-testid="add-to-cart"][data-variant="single-package"]')
    single.get_by_test_id("note").fill("Thinking of you all winter.")
    single.get_by_test_id("join-unit").check()
    single.get_by_role("button", name="Add to cart").click()
    page.goto(url + "/donate")
    page.get_by_test_id("donate-button").click()
    page.close()
    return {"order": order, "monthly": monthly, "number": number}


def _staff_login(context: BrowserContext, url: str) -> None:
    page = context.new_page()
    page.goto(url + "/staff/login")
    form = page.get_by_test_id("staff-login-form")
    form.get_by_label("Email").fill(STAFF[0])
    form.get_by_label("Password").fill(STAFF[1])
    form.get_by_role("button").click()
    page.wait_for_load_state()
    page.close()


def _staff_order_path(context: BrowserContext, url: str, number: str) -> str:
    page = context.new_page()
    page.goto(url + "/staff/orders")
    link = page.locator(f'[data-testid="staff-order-row"][data-number="{number}"] a').first
    path = str(link.get_attribute("href") or "/staff/orders")
    page.close()
    return path


def pages(paths: dict[str, str], staff_order: str) -> list[PageSpec]:
    hero = ['[data-testid="hero-price"]', '[data-testid="hero-add"]']
    give = ['[data-testid="preset-36"] + .tile-face', '[data-testid="donate-button"]']
    return [
        PageSpec("storefront", "/", first_screen=hero, screenshot=True),
        PageSpec("donate", "/donate", first_screen=give, screenshot=True),
        PageSpec("cart", "/cart", screenshot=True),
        PageSpec("order", paths["order"], screenshot=True),
        PageSpec("monthly", paths["monthly"]),
        PageSpec("about", "/about"),
        PageSpec("contact", "/contact"),
        PageSpec("privacy", "/privacy"),
        PageSpec("refund-policy", "/refund-policy"),
        PageSpec("not-found", "/no-such-page"),
        PageSpec("staff-login", "/staff/login", donor=False),
        PageSpec("staff-dashboard", "/staff/dashboard", donor=False),
        PageSpec("staff-orders", "/staff/orders", donor=False),
        PageSpec("staff-order", staff_order, donor=False, screenshot=True),
        PageSpec("staff-notes", "/staff/notes", donor=False),
        PageSpec("staff-units", "/staff/units", donor=False),
        PageSpec("staff-monthly", "/staff/monthly", donor=False),
    ]


def _measure_weight(browser: Browser, state: Any, url: str) -> tuple[Weight, Weight]:
    """First load in a browser with an empty cache, then the same browser coming back."""
    context = browser.new_context(viewport=DESKTOP, storage_state=state)
    page = context.new_page()
    page.goto(url)
    load_everything(page)
    first = weight(page)
    # Away and back, as a donor returns (going to the same address again would be a reload).
    page.goto("about:blank")
    page.goto(url)
    load_everything(page)
    repeat = weight(page)
    context.close()
    return first, repeat


def measure(browser: Browser, url: str, shots: Path | None) -> list[Row]:
    donor = browser.new_context(viewport=DESKTOP)
    paths = _donor_journeys(donor, url)
    donor_state = donor.storage_state()
    staff = browser.new_context(viewport=DESKTOP)
    _staff_login(staff, url)
    staff_state = staff.storage_state()
    specs = pages(paths, _staff_order_path(staff, url, paths["number"]))
    rows = []
    for spec in specs:
        row = Row(spec)
        state = donor_state if spec.donor else staff_state
        if spec.donor and spec.path != "/no-such-page":
            row.first, row.repeat = _measure_weight(browser, state, url + spec.path)
        for viewport in (PHONE, DESKTOP):
            context = browser.new_context(viewport=viewport, storage_state=state)
            page = context.new_page()
            page.goto(url + spec.path)
            if viewport is PHONE:
                if spec.first_screen:
                    row.first_screen_missing = below_fold(page, spec.first_screen)
                row.small = small_targets(page)
                row.overflow = overflow_x(page)
            row.axe[viewport["width"]] = axe_violations(page)
            if shots is not None and spec.screenshot:
                load_everything(page)
                page.screenshot(path=str(shots / f"{spec.name}-{viewport['width']}.png"),
                                full_page=True)
            context.close()
        rows.append(row)
    donor.close()
    staff.close()
    return rows


def _kb(value: int) -> str:
    return f"{value / 1024:6.1f} KB"


def report(rows: list[Row]) -> list[str]:
    lines = ["Page weight (1280 px, every picture loaded; goals: first load under 150 KB,",
             "repeat load under 20 KB)",
             f"{'page':<16}{'first load':>12}{'requests':>10}{'repeat load':>13}"
             f"{'requests':>10}  goals"]
    for row in rows:
        if row.first is None or row.repeat is None:
            continue
        met = row.first.bytes < FIRST_LOAD_GOAL and row.repeat.bytes < REPEAT_LOAD_GOAL
        lines.append(f"{row.spec.name:<16}{_kb(row.first.bytes):>12}{row.first.requests:>10}"
                     f"{_kb(row.repeat.bytes):>13}{row.repeat.requests:>10}  "
                     f"{'met' if met else 'MISSED'}")
    lines += ["", "Accessibility: axe-core violations (360 px / 1280 px); targets under 44 px "
              "and sideways overflow on a 360 px phone",
              f"{'page':<16}{'axe 360':>8}{'axe 1280':>9}{'small':>7}{'overflow':>10}"]
    for row in rows:
        lines.append(f"{row.spec.name:<16}{len(row.axe.get(360, [])):>8}"
                     f"{len(row.axe.get(1280, [])):>9}{len(row.small):>7}"
                     f"{str(row.overflow) + ' px':>10}")
    details = [f"  {row.spec.name} at {width} px: {v['id']} ({v['impact']}) {v['nodes'][:3]}"
               for row in rows for width, found in row.axe.items() for v in found]
    details += [f"  {row.spec.name}: small target {target}" for row in rows
                if row.spec.donor for target in row.small]
    if details:
        lines += ["", "Details:", *details]
    lines += ["", "First screen on a 360 x 740 phone (price and primary button without "
              "scrolling)"]
    for row in rows:
        if row.first_screen_missing is not None:
            verdict = ("yes" if not row.first_screen_missing
                       else "NO: " + ", ".join(row.first_screen_missing))
            lines.append(f"{row.spec.name:<16}{verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__)
    parser.add_argument("--screenshots", type=Path, help="save screenshots into this folder")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, live_shop(Path(tmp)) as url, \
            sync_playwright() as playwright, contextlib.redirect_stdout(io.StringIO()):
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        rows = measure(browser, url, args.screenshots)
        browser.close()
    print("\n".join(report(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
