"""Parse and format amounts of money: integer minor units (cents) and a currency."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# ISO 4217 currencies Stripe treats as having no minor unit.
ZERO_DECIMAL = frozenset(
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
     "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]
)
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$", "ils": "₪"}

# Digits with optional thousands separators, then at most the currency's decimals.
_AMOUNT = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$", re.ASCII)


class InvalidAmount(ValueError):
    """The text is not an amount of money we accept; the message is for the donor."""


def decimals(currency: str) -> int:
    return 0 if currency.lower() in ZERO_DECIMAL else 2


def parse_amount(text: str | None, currency: str) -> int:
    """Turn what a donor typed ("36", "36.50", "1,000") into minor units.

    Refuses negatives, exponents, more decimals than the currency has, and anything
    that is not plainly a number; never goes through float.
    """
    if text is None or not str(text).strip():
        raise InvalidAmount("Please enter an amount.")
    cleaned = str(text).strip()
    symbol = SYMBOLS.get(currency.lower())
    if symbol and cleaned.startswith(symbol):
        cleaned = cleaned[len(symbol) :].strip()
    if cleaned.startswith("-"):
        raise InvalidAmount("The amount cannot be negative.")
    match = _AMOUNT.match(cleaned)
    if not match:
        raise InvalidAmount("Please enter the amount as a number, like 36 or 36.50.")
    places = decimals(currency)
    fraction = match.group(1)
    if fraction is not None and len(fraction) > places:
        if places == 0:
            raise InvalidAmount("This currency has no cents; please enter a whole amount.")
        raise InvalidAmount(f"Please use at most {places} decimal places.")
    try:
        value = Decimal(cleaned.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise InvalidAmount("Please enter the amount as a number.") from exc
    return int(value.scaleb(places))


def to_minor(major: Decimal | int, currency: str) -> int:
    """A setting in major units (e.g. DONATION_MIN=5) as minor units."""
    return int(Decimal(major).scaleb(decimals(currency)))


def format_money(cents: int, currency: str) -> str:
    """Format minor units for people: 123450 usd -> "$1,234.50"."""
    places = decimals(currency)
    major = Decimal(cents).scaleb(-places)
    number = f"{major:,.{places}f}"
    symbol = SYMBOLS.get(currency.lower())
    if symbol:
        return f"-{symbol}{number[1:]}" if cents < 0 else f"{symbol}{number}"
    return f"{number} {currency.upper()}"


def format_plain(cents: int, currency: str) -> str:
    """Minor units as a plain decimal string for forms and CSV: 3650 -> "36.50"."""
    places = decimals(currency)
    return f"{Decimal(cents).scaleb(-places):.{places}f}"
