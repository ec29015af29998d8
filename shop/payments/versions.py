"""Stripe API versions: the one the shop pins, and which versions of events it can read.

Stripe renders every webhook event in its endpoint's API version. Breaking changes come
only with a major release (acacia, basil, clover, ...); the monthly releases in between
only add (Stripe's versioning policy, docs.stripe.com/upgrades). The shop reads events of
the majors it was built and tested against; the one change among them that touches what
it reads is 2025-03-31.basil's invoice (`parent.subscription_details` instead of a
top-level `subscription`, no `charge`/`payment_intent`), and the readers in values.py
understand both shapes. An event of any other version is refused so that Stripe keeps it
and delivers it again once the endpoint is fixed.
"""

from __future__ import annotations

import re

# Majors whose events the shop reads: acacia (from 2024-09-30) up to endive.
UNDERSTOOD_MAJORS = ("acacia", "basil", "clover", "dahlia", "endive")
_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2})\.([a-z]+)$")


def is_version(text: str) -> bool:
    """True for a named Stripe API version such as `2026-10-28.endive`."""
    return bool(_VERSION.match(text or ""))


def understood(version: str | None) -> bool:
    """Whether the shop reads events rendered in this API version."""
    match = _VERSION.match(version or "")
    return match is not None and match.group(2) in UNDERSTOOD_MAJORS

