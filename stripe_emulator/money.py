"""Currency facts: zero-decimal currencies, charge minimums and display formatting."""

from __future__ import annotations

ZERO_DECIMAL = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
})
SYMBOLS = {"usd": "$", "eur": "\u20ac", "gbp": "\u00a3", "jpy": "\u00a5", "cad": "CA$",
           "aud": "A$"}
# Minimum charge amounts in minor units (Stripe's documented table, abridged).
MINIMUMS = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "chf": 50, "jpy": 50,
            "sek": 300, "nok": 300, "dkk": 250, "mxn": 1000, "hkd": 400, "sgd": 50, "nzd": 50}
MAXIMUM = 99_999_999


def format_amount(amount: int, currency: str) -> str:
    """`2500, "usd"` -> `$25.00`; `2500, "jpy"` -> `¥2500`; unknown codes get a suffix."""
    cur = currency.lower()
    text = str(amount) if cur in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = SYMBOLS.get(cur)
    return f"{symbol}{text}" if symbol else f"{text} {cur.upper()}"


def minimum(currency: str) -> int:
    return MINIMUMS.get(currency.lower(), 50)
