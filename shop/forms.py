"""The shop's base form: CSRF-protected, and deaf to prices sent by the browser."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm

# Money fields a browser could add to try to set its own price.
PRICE_FIELDS = frozenset(
    {"price", "price_cents", "unit_price", "unit_amount", "total", "total_cents",
     "amount_cents", "currency"}
)
PRICE_FIELD_MESSAGE = "Prices come from the shop's catalog; this form does not take a price."


class ShopForm(FlaskForm):
    """Refuses a form that carries a price field instead of silently using it."""

    allowed_money_fields: frozenset[str] = frozenset()

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators=extra_validators))
        sent = set(request.form.keys()) if request else set()
        smuggled = sorted((sent & PRICE_FIELDS) - self.allowed_money_fields)
        if smuggled:
            self.form_errors.append(PRICE_FIELD_MESSAGE)
            return False
        return valid
