"""The donation form: a preset or other amount, once or monthly, fee cover, dedication."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import Email, Length, Optional, ValidationError

from shop.donations.service import Dedication, Gift, fee_to_cover, parse_gift
from shop.forms import NoContactDetails, ShopForm
from shop.money import InvalidAmount, parse_amount

FREQUENCIES = ("once", "monthly")
DEDICATION_TYPES = ("honor", "memory")


class DonationForm(ShopForm):
    # `amount` is a preset's value from the radio group, "other", or typed by a script.
    amount = StringField("Amount")
    other_amount = StringField("Other amount")
    frequency = StringField("How often", default="once")
    cover_fee = BooleanField("Cover the processing fee")
    dedication_type = StringField("Dedicate this gift")
    dedication_name = StringField(
        "Name", validators=[Length(max=200, message="Please keep the name under 200 characters."),
                        NoContactDetails()]
    )
    dedication_email = EmailField(
        "Email to tell them (optional)",
        validators=[Optional(), Length(max=254),
                    Email(message="The dedication email is not a valid email address.",
                          check_deliverability=False)],
    )
    anonymous = BooleanField("Give anonymously")
    email = EmailField(
        "Your email",
        validators=[Optional(), Length(max=254),
                    Email(message="Please enter a valid email address, like name@example.org.",
                          check_deliverability=False)],
    )
    name = StringField(
        "Your name (optional)",
        validators=[Length(max=200, message="Please keep your name under 200 characters."),
                    NoContactDetails()],
    )

    clean_amount_cents: int

    @property
    def chosen_amount(self) -> str:
        """Which radio the form shows checked: "other" whenever an other amount was typed."""
        if self.other_amount.data:
            return "other"
        return self.amount.data or ""

    def fee_for_chosen_amount(self) -> int | None:
        """What covering the fee adds to the amount the donor sent, if it is an amount."""
        raw = self.other_amount.data or self.amount.data
        if not raw or raw == "other":
            return None
        config = current_app.config
        try:
            cents = parse_amount(raw, config["CURRENCY"])
        except InvalidAmount:
            return None
        return fee_to_cover(cents, config["FEE_PERCENT"], config["FEE_FIXED_CENTS"])

    def validate_amount(self, field: Any) -> None:
        # A typed other amount is the gift, whatever preset is still checked: the donor
        # typed it last, and charging a preset they moved away from is the worse mistake.
        config = current_app.config
        raw = self.other_amount.data or field.data
        if raw == "other":
            raw = ""
        try:
            self.clean_amount_cents = parse_gift(
                raw, config["CURRENCY"], config["DONATION_MIN"], config["DONATION_MAX"]
            )
        except InvalidAmount as exc:
            raise ValidationError(str(exc)) from exc

    def validate_frequency(self, field: Any) -> None:
        field.data = field.data or "once"
        if field.data not in FREQUENCIES:
            raise ValidationError("Please choose to give once or monthly.")

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators=extra_validators)
        if self.frequency.data == "monthly" and not self.email.data:
            # On the email field, where the donor can fix it (Optional() ends its own chain).
            self.email.errors = [*self.email.errors,
                                 "Please enter your email: a monthly gift needs it for its "
                                 "receipts and the link to manage it."]
            return False
        return valid

    def validate_dedication_type(self, field: Any) -> None:
        field.data = field.data or None
        if field.data is None:
            # A name typed with "No dedication" still selected: ask, never drop it.
            if self.dedication_name.data:
                raise ValidationError(gettext(
                    "Please choose “in honor of” or “in memory of” for %(name)s, or clear "
                    "the name to give without a dedication.", name=self.dedication_name.data))
            if self.dedication_email.data:
                raise ValidationError(gettext(
                    "Please choose “in honor of” or “in memory of” and enter their name, "
                    "or clear the dedication email to give without a dedication."))
            return
        if field.data not in DEDICATION_TYPES:
            raise ValidationError(gettext("Please choose “in honor of” or “in memory of”."))
        if not self.dedication_name.data:
            raise ValidationError(gettext("Please enter the name of the person the gift "
                                          "honors."))

    def gift(self) -> Gift:
        """The validated gift (call after validate())."""
        config = current_app.config
        amount = self.clean_amount_cents
        fee = (fee_to_cover(amount, config["FEE_PERCENT"], config["FEE_FIXED_CENTS"])
               if self.cover_fee.data else 0)
        dedication = Dedication()
        if self.dedication_type.data:
            dedication = Dedication(
                kind=self.dedication_type.data,
                name=self.dedication_name.data or "",
                email=self.dedication_email.data or None,
            )
        return Gift(
            amount_cents=amount, fee_cents=fee, currency=config["CURRENCY"],
            monthly=self.frequency.data == "monthly", dedication=dedication,
            anonymous=bool(self.anonymous.data),
            email=self.email.data or None,
            name=self.name.data or "",
        )
