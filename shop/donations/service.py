"""Donation rules: what amounts the shop accepts as a gift."""

from __future__ import annotations

from decimal import Decimal

from shop.money import InvalidAmount, format_money, parse_amount, to_minor


def parse_gift(text: str | None, currency: str, minimum: Decimal, maximum: Decimal) -> int:
    """The gift in minor units, or InvalidAmount with a message for the donor."""
    cents = parse_amount(text, currency)
    low, high = to_minor(minimum, currency), to_minor(maximum, currency)
    if cents < low:
        raise InvalidAmount(f"The smallest gift we can accept is {format_money(low, currency)}.")
    if cents > high:
        raise InvalidAmount(
            f"The largest gift we can accept online is {format_money(high, currency)}; "
            "please contact us for larger gifts."
        )
    return cents
