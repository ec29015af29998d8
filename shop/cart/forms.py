"""Forms for adding packages to the cart and changing its lines."""

from __future__ import annotations

from typing import Any

from flask import current_app
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

from shop.cart.notes import NoteSettings, screen_note
from shop.cart.service import CartError, parse_quantity
from shop.forms import ShopForm
from shop.orders.note_state import NoteReview


class _QuantityAndNote(ShopForm):
    quantity = StringField("Quantity", default="1")
    note = TextAreaField("Personal note of support (optional)")

    clean_quantity: int
    clean_note: str
    # Pending when staff must read the note before its package is packed.
    note_review: NoteReview | None = None
    note_review_reason: str | None = None
    # Emoji were taken out because the partner cannot print them; the donor is told.
    note_symbols_removed: bool = False

    def validate_quantity(self, field: Any) -> None:
        try:
            self.clean_quantity = parse_quantity(
                field.data, current_app.config["CART_MAX_QUANTITY"]
            )
        except CartError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_note(self, field: Any) -> None:
        result = screen_note(field.data, NoteSettings.from_config(current_app.config))
        if result.verdict == "refused":
            raise ValidationError(result.reason)
        self.clean_note = result.clean_text
        self.note_symbols_removed = result.symbols_removed
        if result.verdict == "review":
            self.note_review, self.note_review_reason = NoteReview.PENDING, result.reason


class AddToCartForm(_QuantityAndNote):
    variant = HiddenField(
        "Bundle", validators=[DataRequired(message="Please choose a bundle to add.")]
    )
    join_unit = BooleanField("Join a unit's ten-pack")


class UpdateLineForm(_QuantityAndNote):
    pass


class RemoveLineForm(ShopForm):
    pass
