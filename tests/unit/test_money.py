"""Amounts typed by donors become exact minor units, or a clear refusal."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.donations.service import parse_gift
from shop.money import InvalidAmount, format_money, format_plain, parse_amount


@pytest.mark.parametrize(
    ("text", "cents"),
    [("36", 3600), ("36.5", 3650), ("36.50", 3650), (" 5 ", 500), ("1,000", 100000),
     ("$18", 1800), ("0.01", 1), ("100000", 10000000)],
)
def test_amounts_donors_type_become_cents(text: str, cents: int) -> None:
    assert parse_amount(text, "usd") == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5", "negative"),
        ("abc", "as a number"),
        ("1e9", "as a number"),
        ("10.999", "at most 2 decimal places"),
        ("", "enter an amount"),
        ("1,00", "as a number"),
        ("NaN", "as a number"),
        ("Infinity", "as a number"),
        ("١٢", "as a number"),  # Arabic-Indic digits are not accepted as amounts
        ("5.", "as a number"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidAmount, match=message):
        parse_amount(text, "usd")


def test_zero_decimal_currency_has_no_cents() -> None:
    assert parse_amount("500", "jpy") == 500
    with pytest.raises(InvalidAmount, match="no cents"):
        parse_amount("5.5", "jpy")


@pytest.mark.parametrize(
    ("text", "message"),
    [("0", "smallest gift"), ("4.99", "smallest gift"), ("100000.01", "largest gift")],
)
def test_gifts_outside_the_limits_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidAmount, match=message):
        parse_gift(text, "usd", Decimal(5), Decimal(100000))


def test_gift_limits_are_inclusive() -> None:
    assert parse_gift("5", "usd", Decimal(5), Decimal(100000)) == 500
    assert parse_gift("100000", "usd", Decimal(5), Decimal(100000)) == 10_000_000


def test_formatting_for_people() -> None:
    assert format_money(123450, "usd") == "$1,234.50"
    assert format_money(5, "usd") == "$0.05"
    assert format_money(500, "jpy") == "500 JPY"
    assert format_money(-2500, "eur") == "-€25.00"
    assert format_plain(3650, "usd") == "36.50"


@given(st.integers(min_value=0, max_value=10**12))
def test_formatted_plain_amounts_parse_back(cents: int) -> None:
    assert parse_amount(format_plain(cents, "usd"), "usd") == cents


@given(st.text(max_size=20))
def test_parser_never_crashes_on_any_text(text: str) -> None:
    try:
        cents = parse_amount(text, "usd")
    except InvalidAmount:
        return
    assert isinstance(cents, int) and cents >= 0
