"""The shop's edge for text: the base form, the cleaned query string, path parameters.

Every form inherits ShopForm, so each single-line field is cleaned by shop.text before
any validator runs, and each multi-line field loses its control characters. Every query
parameter is cleaned the same way by ShopRequest, and a path segment with a control
character matches no route (404). Code behind this edge never sees NUL or a line break
in a name.
"""

from __future__ import annotations

from typing import Any

from flask import Request, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import UnicodeConverter
from werkzeug.utils import cached_property
from wtforms import PasswordField, StringField, TextAreaField

from shop.text import clean_block, clean_line

# Money fields a browser could add to try to set its own price.
PRICE_FIELDS = frozenset(
    {"price", "price_cents", "unit_price", "unit_amount", "total", "total_cents",
     "amount_cents", "currency"}
)
PRICE_FIELD_MESSAGE = "Prices come from the shop's catalog; this form does not take a price."


def text_filter(field_class: type) -> Any:
    """The cleaner a field's text goes through: none for passwords (kept as typed)."""
    if issubclass(field_class, PasswordField):
        return None
    if issubclass(field_class, TextAreaField):
        return clean_block
    if issubclass(field_class, StringField):
        return clean_line
    return None


class ShopForm(FlaskForm):  # type: ignore[misc]
    """Cleans every text field first; refuses a form that carries a price field."""

    allowed_money_fields: frozenset[str] = frozenset()

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            cleaner = text_filter(unbound_field.field_class)
            if cleaner is not None:
                # First, so the field's own filters and every validator see clean text.
                filters = [cleaner, *unbound_field.kwargs.get("filters", ())]
                options = {**options, "filters": filters}
            return super().bind_field(form, unbound_field, options)  # type: ignore[misc]

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators=extra_validators))
        sent = set(request.form.keys()) if request else set()
        smuggled = sorted((sent & PRICE_FIELDS) - self.allowed_money_fields)
        if smuggled:
            self.form_errors.append(PRICE_FIELD_MESSAGE)
            return False
        return valid


def field_attrs(form: Any, name: str, target: str | None = None,
                testid: str | None = None) -> dict[str, str]:
    """A field's attributes for templates: its data-testid, and once the form refused it,
    aria-invalid and aria-describedby naming the message under it (`<target>-error`).

    `target` is the id of the element the message belongs to, by default the field's id.
    """
    attrs = {"data-testid": testid} if testid else {}
    if form is None or not form.errors.get(name):
        return attrs
    target = target or form[name].id
    return attrs | {"aria-invalid": "true", "aria-describedby": f"{target}-error"}


class ShopRequest(Request):
    """Flask's request, with every query parameter (name and value) one clean line."""

    @cached_property
    def args(self) -> MultiDict[str, str]:
        raw = super().args
        return ImmutableMultiDict(
            [(clean_line(key) or "", clean_line(value) or "")
             for key, value in raw.items(multi=True)]
        )


class CleanSegmentConverter(UnicodeConverter):
    """A path parameter without control characters; one with them matches no route."""

    def __init__(self, map: Any, minlength: int = 1, maxlength: int | None = None,
                 length: int | None = None) -> None:
        super().__init__(map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", r"[^/\x00-\x1f\x7f-\x9f]")
