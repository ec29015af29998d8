"""Which Stripe API versions the shop pins and reads."""

from __future__ import annotations

import typing

import pytest
from stripe.params import WebhookEndpointCreateParams

from shop import create_app
from shop.config import DEFAULT_STRIPE_API_VERSION, ConfigError
from shop.payments.versions import understood


def test_the_pinned_default_is_a_version_stripe_knows_and_the_shop_reads() -> None:
    hint = WebhookEndpointCreateParams.__annotations__["api_version"]
    known = typing.get_args(typing.get_args(hint)[0])
    assert DEFAULT_STRIPE_API_VERSION in known
    assert understood(DEFAULT_STRIPE_API_VERSION)


@pytest.mark.parametrize(("version", "read"), [
    ("2024-09-30.acacia", True), ("2025-02-24.acacia", True), ("2025-03-31.basil", True),
    ("2026-11-25.endive", True), ("2024-06-20", False), ("2020-08-27", False),
    ("2027-03-31.fig", False), ("2025-03-01.dashboard", False), ("", False), (None, False),
])
def test_named_versions_of_the_known_majors_are_read(version: str | None, read: bool) -> None:
    assert understood(version) is read


def test_the_shop_refuses_to_start_pinned_to_a_version_it_cannot_read() -> None:
    with pytest.raises(ConfigError, match="STRIPE_API_VERSION"):
        create_app({"STRIPE_API_VERSION": "2020-08-27", "TESTING": True,
                    "SQLALCHEMY_DATABASE_URI": "sqlite://"})
