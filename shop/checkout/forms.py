"""The checkout form: who the receipt goes to."""

from __future__ import annotations

from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Email, Length

from shop.forms import NoContactDetails, ShopForm


class CheckoutForm(ShopForm):
    email = EmailField(
        "Email for your receipt",
        validators=[
            DataRequired(message="Please enter your email address for the receipt."),
            Length(max=254, message="That email address is too long."),
            Email(message="Please enter a valid email address, like name@example.org.",
                  check_deliverability=False),
        ],
    )
    name = StringField(
        "Your name (optional)",
        validators=[Length(max=200, message="Please keep your name under 200 characters."),
                    NoContactDetails()],
    )
