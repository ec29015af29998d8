"""The link between a browser's session cookie and its server-side cart."""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app, g, has_request_context, request, session
from sqlalchemy import event, func
from sqlalchemy.orm import Session, UOWTransaction

from shop.cart.models import Cart, CartLine
from shop.cart.service import create_cart, find_cart
from shop.extensions import db

SESSION_KEY = "cart"
# Renewed whenever this browser's cart changes: a copy of the cart page made before is
# never shown again, since it was kept under the old cookie (storefront_cache.page_per_cart).
REVISION_KEY = "cart_rev"
# Set once the cart has gone to a checkout: its payment empties the cart wherever
# Stripe's event is applied, which this browser's cookie cannot tell, so from then on
# its page is rendered every time.
CHECKED_OUT_KEY = "cart_checked_out"
_CHANGED = "shop_cart_changed"


def renew_revision() -> None:
    """The browser's cart changed: its session takes a new revision, so its cookie changes."""
    session[REVISION_KEY] = secrets.token_hex(4)


def note_checkout() -> None:
    """The browser's cart goes to a checkout (see CHECKED_OUT_KEY)."""
    session[CHECKED_OUT_KEY] = True


def cart_page_keepable() -> bool:
    """Whether this browser's cart page may be kept (storefront_cache.page_per_cart)."""
    return bool(session.get(SESSION_KEY)) and not session.get(CHECKED_OUT_KEY)


def _changes_a_cart(obj: Any) -> bool:
    return isinstance(obj, Cart | CartLine)


@event.listens_for(Session, "after_flush")
def _note_cart_change(session_: Session, _flush: UOWTransaction) -> None:
    if any(map(_changes_a_cart, [*session_.new, *session_.dirty, *session_.deleted])):
        session_.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _renew_after_commit(session_: Session) -> None:
    # Any cart changed in a request of a browser that has one: (almost always) its own.
    if (session_.info.pop(_CHANGED, False) and has_request_context()
            and session.get(SESSION_KEY)):
        renew_revision()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session_: Session, _previous: object) -> None:
    if not session_.in_transaction():
        session_.info.pop(_CHANGED, None)


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
