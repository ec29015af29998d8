"""Donation rules: accepted amounts, the processing fee a donor may cover, monthly plans."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from shop.donations.models import MonthlyGift
from shop.donations.state import PlanStatus
from shop.extensions import db
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


def fee_to_cover(amount_cents: int, percent: Decimal, fixed_cents: int) -> int:
    """What to add so that, after the processor takes percent% + fixed, the gift arrives whole.

    total = (amount + fixed) / (1 - percent/100), rounded up to the cent.
    """
    rate = percent / Decimal(100)
    if not 0 <= rate < 1:
        raise ValueError("FEE_PERCENT must be at least 0 and below 100")
    total = ((Decimal(amount_cents) + fixed_cents) / (1 - rate)).to_integral_value(
        rounding=ROUND_CEILING
    )
    return int(total) - amount_cents


@dataclass(frozen=True)
class Dedication:
    kind: str | None = None  # honor | memory
    name: str | None = None
    email: str | None = None

    @property
    def as_tuple(self) -> tuple[str | None, str | None, str | None]:
        return (self.kind, self.name, self.email)


@dataclass(frozen=True)
class Gift:
    """A gift as the donor asked for it on the donation form."""

    amount_cents: int
    fee_cents: int
    currency: str
    monthly: bool
    dedication: Dedication
    anonymous: bool
    email: str | None
    name: str

    @property
    def total_cents(self) -> int:
        return self.amount_cents + self.fee_cents


def create_monthly_gift(gift: Gift) -> MonthlyGift:
    """A pending monthly plan; it becomes active when Stripe confirms the subscription."""
    assert gift.email
    plan = MonthlyGift(
        email=gift.email, name=gift.name, anonymous=gift.anonymous,
        amount_cents=gift.amount_cents, fee_cents=gift.fee_cents, currency=gift.currency,
        dedication_type=gift.dedication.kind, dedication_name=gift.dedication.name,
        dedication_email=gift.dedication.email, status=PlanStatus.PENDING,
    )
    db.session.add(plan)
    db.session.flush()
    return plan
