"""The donation form."""

from __future__ import annotations

from typing import Any

from flask import current_app
from wtforms import StringField
from wtforms.validators import ValidationError

from shop.donations.service import parse_gift
from shop.forms import ShopForm
from shop.money import InvalidAmount


class DonationForm(ShopForm):
    amount = StringField("Amount")

    clean_amount_cents: int

    def validate_amount(self, field: Any) -> None:
        config = current_app.config
        try:
            self.clean_amount_cents = parse_gift(
                field.data, config["CURRENCY"], config["DONATION_MIN"], config["DONATION_MAX"]
            )
        except InvalidAmount as exc:
            raise ValidationError(str(exc)) from exc
