"""POST /checkout: make the order, then 303 to Stripe Checkout."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from shop.cart.session import current_cart
from shop.cart.views import render_cart
from shop.checkout import service
from shop.checkout.forms import CheckoutForm
from shop.extensions import db, limiter
from shop.payments.client import PaymentError

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
    try:
        order = service.prepare_order(cart, form.email.data.strip(), (form.name.data or "").strip())
    except service.CheckoutError as exc:
        db.session.rollback()
        return render_cart(cart, checkout_form=form, error=str(exc), status=422)
    if order.stripe_checkout_url:
        db.session.commit()
        return redirect(order.stripe_checkout_url, code=303)
    db.session.commit()  # the order exists before Stripe hears of it

    # One Stripe call per order at a time: a simultaneous click waits here for the first
    # one's session instead of asking Stripe with the same key while it is still working.
    order = service.lock_order(order.id) or order
    if order.stripe_checkout_url:
        db.session.commit()
        return redirect(order.stripe_checkout_url, code=303)
    urls = service.CheckoutUrls(
        public_url=current_app.config["PUBLIC_URL"],
        order_path=url_for("orders.order_page", token=order.token),
        cart_path=url_for("cart.view_cart"),
    )
    try:
        session = service.start_checkout_session(order, urls)
    except PaymentError as exc:
        log.warning("order %s: checkout session not created: %s", order.number, exc)
        service.note_payment_unavailable(order, exc)
        db.session.commit()
        return render_template("storefront/payment_unavailable.html", order=order), 503
    service.attach_session(order, session)
    db.session.commit()
    log.info("order %s: checkout session %s", order.number, session.id)
    if not session.url:
        return render_template("storefront/payment_unavailable.html", order=order), 503
    return redirect(session.url, code=303)
