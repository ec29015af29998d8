"""What a page costs and whether a person can use it, measured in a real browser.

Shared by the page report (`python -m bench.pages`) and the browser tests, so both measure
the same way:
- `weight`: bytes over the wire and requests, from the browser's Resource Timing entries
  (a file served from the HTTP cache has a transfer size of 0 and is not a request);
- `axe_violations`: axe-core's rule violations (axe-core is bundled by the
  axe-playwright-python package, MPL-2.0);
- `small_targets`: controls smaller than 44 x 44 CSS px (WCAG 2.5.5), except links inside
  a sentence, which WCAG exempts; a checkbox or radio counts with its label;
- `overflow_x`: how far the page is wider than the screen;
- `below_fold`: which of the given elements are not wholly on the first screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

MIN_TARGET = 44


@dataclass(frozen=True)
class Weight:
    bytes: int
    requests: int


_WEIGHT_JS = """() => {
  const entries = [...performance.getEntriesByType('navigation'),
                   ...performance.getEntriesByType('resource')];
  const fetched = entries.filter(e => e.transferSize > 0);
  return {bytes: fetched.reduce((sum, e) => sum + e.transferSize, 0),
          requests: fetched.length};
}"""


def weight(page: Page) -> Weight:
    """What the page in `page` fetched over the network since it was loaded."""
    result = page.evaluate(_WEIGHT_JS)
    return Weight(int(result["bytes"]), int(result["requests"]))


def load_everything(page: Page) -> None:
    """Scroll to the end so lazy images load too, then wait for the network to settle."""
    page.wait_for_load_state("networkidle")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("[...document.images].every(image => image.complete)")
    page.evaluate("window.scrollTo(0, 0)")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now: [{"id", "impact", "nodes"}, ...]."""
    results = Axe().run(page)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [" ".join(node["target"]) for node in v["nodes"]]}
            for v in results.response["violations"]]


_TARGETS_JS = """(min) => {
  const small = [];
  const visible = el => {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const inSentence = a => {
    const block = a.closest('p, li, dd, td');
    if (!block || block.closest('nav')) return false;
    return block.textContent.trim().length > a.textContent.trim().length + 1;
  };
  const controls = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary');
  for (const el of controls) {
    if (el.tagName === 'A' && inSentence(el)) continue;
    let box = el.getBoundingClientRect();
    if (el.type === 'checkbox' || el.type === 'radio') {
      const label = el.closest('label');
      if (label && visible(label)) box = label.getBoundingClientRect();
    } else if (!visible(el)) {
      continue;
    }
    if (box.width === 0 && box.height === 0) continue;
    if (el.classList.contains('skip-link') && box.bottom <= 0) continue;
    if (box.width + 0.5 < min || box.height + 0.5 < min) {
      const name = (el.getAttribute('data-testid') || el.getAttribute('name') ||
                    el.textContent.trim().slice(0, 30) || el.tagName).replace(/\\s+/g, ' ');
      const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
      small.push(`${el.tagName.toLowerCase()} "${name}" ${size}`);
    }
  }
  return small;
}"""


def small_targets(page: Page, minimum: int = MIN_TARGET) -> list[str]:
    """Controls smaller than `minimum` CSS px either way, as 'tag "name" WxH'."""
    return list(page.evaluate(_TARGETS_JS, minimum))


def overflow_x(page: Page) -> int:
    """CSS px the page is wider than the viewport (0 when nothing overflows sideways)."""
    return int(page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def below_fold(page: Page, selectors: list[str]) -> list[str]:
    """The selectors whose element is missing, hidden, or not wholly on the first screen."""
    viewport = page.viewport_size or {"height": 0, "width": 0}
    missing = []
    for selector in selectors:
        element = page.locator(selector).first
        box = element.bounding_box() if element.count() else None
        if (box is None or not element.is_visible() or box["y"] < 0
                or box["y"] + box["height"] > viewport["height"]):
            missing.append(selector)
    return missing
