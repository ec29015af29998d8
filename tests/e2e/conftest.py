"""A real Chromium (Debian's) driven by Playwright against the live shop."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import need_service

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        need_service("Chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def javascript(request: pytest.FixtureRequest) -> bool:
    """Whether the page runs JavaScript: on, unless a test marked `with_and_without_js`
    is running its second time."""
    return bool(getattr(request, "param", True))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A donor journey marked so runs twice: every page must also work without JavaScript.
    if metafunc.definition.get_closest_marker("with_and_without_js"):
        metafunc.parametrize("javascript", [True, False], indirect=True, ids=["js", "no-js"])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "with_and_without_js: run the browser test with JavaScript on, then off")


@pytest.fixture
def page(browser: Browser, javascript: bool) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(15_000)
    # A script or style the Content-Security-Policy blocked fails nothing visible by itself.
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert blocked == [], "the Content-Security-Policy blocked something"
