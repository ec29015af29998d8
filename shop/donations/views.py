"""The donation page: a gift of any amount goes into the cart as its own line."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from shop.cart.service import add_donation
from shop.cart.session import current_cart
from shop.donations.forms import DonationForm
from shop.extensions import db, limiter
from shop.money import format_money

bp = Blueprint("donations", __name__)


def _render(form: DonationForm, status: int = 200) -> ResponseReturnValue:
    config = current_app.config
    return (
        render_template(
            "storefront/donate.html",
            form=form,
            donation_min=config["DONATION_MIN"],
            donation_max=config["DONATION_MAX"],
        ),
        status,
    )


@bp.get("/donate")
def donate_page() -> ResponseReturnValue:
    return _render(DonationForm())


@bp.post("/donate")
@limiter.limit("30 per minute")
def donate() -> ResponseReturnValue:
    form = DonationForm()
    if not form.validate():
        return _render(form, status=422)
    cart = current_cart(create=True)
    assert cart is not None
    add_donation(cart, form.clean_amount_cents)
    db.session.commit()
    flash(
        f"Thank you! Your gift of {format_money(form.clean_amount_cents, cart.currency)} "
        "is in your cart.",
        "success",
    )
    return redirect(url_for("cart.view_cart"))
