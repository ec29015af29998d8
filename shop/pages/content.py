"""The text of the charity's pages: settings with placeholders, split into paragraphs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Each page's setting and title. The text is the operator's: a setting of paragraphs
# separated by blank lines, with {org}, {tax_id}, {address}, {email} and {phone} filled in.
PAGES = {
    "about": ("ABOUT_TEXT", "About us"),
    "contact": ("CONTACT_TEXT", "Contact us"),
    "privacy": ("PRIVACY_TEXT", "Privacy"),
    "refund-policy": ("REFUND_POLICY_TEXT", "Refunds"),
}


@dataclass(frozen=True)
class PageText:
    slug: str
    title: str
    paragraphs: list[str]


_PLACEHOLDER = re.compile(r"\{(org|tax_id|address|email|phone)\}")


def _fill(text: str, config: Any) -> str:
    """Fill in the known placeholders; any other brace an operator wrote stays as it is."""
    values = {
        "org": config["ORG_NAME"], "tax_id": config["ORG_TAX_ID"],
        "address": config["ORG_ADDRESS"], "email": config["ORG_EMAIL"],
        "phone": config.get("ORG_PHONE") or "",
    }
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), text)


def page_text(slug: str, config: Any) -> PageText | None:
    """The page's title and paragraphs, or None for a page that does not exist."""
    if slug not in PAGES:
        return None
    setting, title = PAGES[slug]
    filled = _fill(str(config.get(setting) or "").replace("\r\n", "\n"), config)
    paragraphs = [" ".join(part.split()) for part in filled.split("\n\n") if part.strip()]
    return PageText(slug=slug, title=title, paragraphs=paragraphs)
