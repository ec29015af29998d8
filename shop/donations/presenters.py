"""The donation form's presets, fees and limits, for the donate page and the storefront."""

from __future__ import annotations

from flask import current_app

from shop.donations.service import fee_to_cover
from shop.money import decimals, format_money, to_minor


def donation_form_context() -> dict[str, object]:
    """What the donation form shows: presets with the fee each would add, the limits."""
    config = current_app.config
    currency = config["CURRENCY"]
    presets = []
    impacts = config["DONATION_IMPACT"]
    for major in config["DONATION_PRESETS"]:
        cents = to_minor(major, currency)
        fee = fee_to_cover(cents, config["FEE_PERCENT"], config["FEE_FIXED_CENTS"])
        label = format_money(cents, currency)
        presets.append({"value": f"{major}", "label": label,
                        # "$36" on a tile; "$36.50" keeps its cents.
                        "short": label.removesuffix(".00"),
                        "fee": format_money(fee, currency), "impact": impacts.get(major, "")})
    return {
        "presets": presets,
        "donation_min": config["DONATION_MIN"],
        "donation_max": config["DONATION_MAX"],
        "fee_percent": config["FEE_PERCENT"],
        "fee_fixed": format_money(config["FEE_FIXED_CENTS"], currency),
        "fee_fixed_cents": config["FEE_FIXED_CENTS"],
        "decimals": decimals(currency),
    }
