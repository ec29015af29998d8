"""POST /checkout: make the order, then 303 to Stripe Checkout."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from shop.cart import service as cart_service
from shop.cart.presenters import render_cart
from shop.cart.session import current_cart, note_checkout
from shop.checkout import service
from shop.checkout.forms import CheckoutForm
from shop.checkout.send import send_to_checkout
from shop.extensions import db, limiter

log = logging.getLogger(__name__)

bp = Blueprint("checkout", __name__)


@bp.post("/checkout")
@limiter.limit("20 per minute")
def checkout() -> ResponseReturnValue:
    form = CheckoutForm()
    cart = current_cart()
    if cart is None or not cart.lines:
        return render_cart(
            cart, checkout_form=form,
            error="Your cart is empty. Add a care package or a gift first.", status=422,
        )
    if not form.validate():
        return render_cart(cart, checkout_form=form, status=422)
    # Lock the cart row so a double click waits for the first click's order.
    cart = service.lock_cart(cart.id)
    assert cart is not None
    changes = cart_service.price_changes(cart)
    if changes:
        # Staff changed a price since the donor saw it: show it before they pay.
        cart_service.acknowledge_prices(cart)
        db.session.commit()
        return render_cart(cart, checkout_form=form, price_changes=changes, status=409,
                           error="A price in your cart changed; please check the total "
                                 "before you pay.")
    try:
        order = service.prepare_order(cart, form.email.data.strip(), (form.name.data or "").strip())
    except service.CheckoutError as exc:
        db.session.rollback()
        return render_cart(cart, checkout_form=form, error=str(exc), status=422)
    note_checkout()  # its payment, applied wherever Stripe's event lands, empties the cart
    if order.stripe_checkout_url:
        db.session.commit()
        return redirect(order.stripe_checkout_url, code=303)
    db.session.commit()  # the order exists before Stripe hears of it

    return send_to_checkout(
        order, back_path=url_for("cart.view_cart", checkout="cancelled"),
        unavailable=lambda: (render_template("storefront/payment_unavailable.html",
                                             order=order), 503),
        refused=lambda message: render_cart(cart, checkout_form=form, error=message,
                                            status=422),
        limited=lambda message: render_cart(cart, checkout_form=form, error=message,
                                            status=429),
    )
