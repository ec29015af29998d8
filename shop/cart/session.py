"""The link between a browser's session cookie and its server-side cart."""

from __future__ import annotations

from flask import current_app, g, request, session
from sqlalchemy import func

from shop.cart.models import Cart, CartLine
from shop.cart.service import create_cart, find_cart
from shop.extensions import db

SESSION_KEY = "cart"


def current_cart(*, create: bool = False) -> Cart | None:
    cart = find_cart(session.get(SESSION_KEY))
    if request.method == "GET":
        g.shown_cart = cart  # a page that shows it counts its items from it
    if cart is None and create:
        cart = create_cart(current_app.config["CURRENCY"])
        session[SESSION_KEY] = cart.token
        session.permanent = True
    return cart


def cart_item_count() -> int:
    """How many items the browser's cart holds (a bundle's quantity, a gift as one).

    For the header on every page: no query for a browser without a cart, one indexed
    query otherwise, once per request.
    """
    token = session.get(SESSION_KEY)
    if not token:
        return 0
    if "cart_item_count" not in g and g.get("shown_cart") is not None:
        g.cart_item_count = sum(line.quantity for line in g.shown_cart.lines)
    if "cart_item_count" not in g:
        g.cart_item_count = int(db.session.scalar(
            db.select(func.coalesce(func.sum(CartLine.quantity), 0))
            .join(Cart, Cart.id == CartLine.cart_id).where(Cart.token == token)
        ) or 0)
    return int(g.cart_item_count)
