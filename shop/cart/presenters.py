"""The cart page as the cart's views and checkout's view both render it."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from shop.cart import service
from shop.cart.forms import UpdateLineForm
from shop.cart.models import Cart
from shop.checkout.forms import CheckoutForm


def render_cart(
    cart: Cart | None,
    *,
    checkout_form: CheckoutForm | None = None,
    line_form: UpdateLineForm | None = None,
    line_id: int | None = None,
    error: str | None = None,
    status: int = 200,
    price_changes: list[service.PriceChange] | None = None,
) -> ResponseReturnValue:
    """The cart; after a refused change, that line's form shows what the donor typed."""
    return (
        render_template(
            "storefront/cart.html",
            cart=cart,
            checkout_form=checkout_form or CheckoutForm(),
            line_form=line_form,
            line_form_id=line_id,
            error=error,
            price_changes=price_changes or [],
        ),
        status,
    )
