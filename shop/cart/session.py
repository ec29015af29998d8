"""The link between a browser's session cookie and its server-side cart."""

from __future__ import annotations

from flask import current_app, session

from shop.cart.models import Cart
from shop.cart.service import create_cart, find_cart

SESSION_KEY = "cart"


def current_cart(*, create: bool = False) -> Cart | None:
    cart = find_cart(session.get(SESSION_KEY))
    if cart is None and create:
        cart = create_cart(current_app.config["CURRENCY"])
        session[SESSION_KEY] = cart.token
        session.permanent = True
    return cart
