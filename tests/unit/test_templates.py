"""Pages carry no inline script or style, so the Content-Security-Policy can forbid both."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: link": re.compile(r"javascript:", re.I),
}


def test_no_page_template_has_inline_script_or_style() -> None:
    # Emails are not pages: mail clients need inline styles and run no script.
    pages = [p for p in TEMPLATES.rglob("*.html") if p.parent.name != "email"]
    assert len(pages) > 20
    found = [f"{page.relative_to(TEMPLATES)}: {what}"
             for page in pages for what, pattern in INLINE.items()
             if pattern.search(page.read_text())]
    assert found == []
