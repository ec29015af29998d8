"""Cart pages: view the cart, add a bundle, change or remove a line."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from shop.campaign.service import current_campaign
from shop.cart import service
from shop.cart.forms import AddToCartForm, RemoveLineForm, UpdateLineForm
from shop.cart.presenters import render_cart
from shop.cart.session import cart_page_keepable, current_cart
from shop.catalog.presenters import render_storefront
from shop.catalog.service import find_bundle
from shop.extensions import db, limiter, utcnow
from shop.orders.note_state import NoteReview
from shop.storefront_cache import page_for_newcomers, page_per_cart

bp = Blueprint("cart", __name__)

EMOJI_REMOVED = ("Emoji were removed from your note because our packing partner cannot "
                 "print them.")
NOTE_HELD = ("Our team reads some notes before they are printed, so this package ships once "
             "your note has been read.")


def _flash_note_outcome(form: AddToCartForm | UpdateLineForm) -> None:
    if form.note_symbols_removed:
        flash(EMOJI_REMOVED, "info")
    if form.note_review == NoteReview.PENDING:
        flash(NOTE_HELD, "info")


CHECKOUT_CANCELLED = ("You left the payment page, so nothing was charged. Your cart is kept: "
                      "check out again whenever you are ready.")


@bp.get("/cart")
@page_for_newcomers
@page_per_cart(cart_page_keepable)
def view_cart() -> ResponseReturnValue:
    if request.args.get("checkout") == "cancelled":
        # Stripe's "back" link: say what happened once, then show the plain cart address.
        flash(CHECKOUT_CANCELLED, "info")
        return redirect(url_for("cart.view_cart"))
    cart = current_cart()
    changes = service.price_changes(cart) if cart is not None else []
    if cart is not None and changes:
        service.acknowledge_prices(cart)  # shown once, on this page, before checkout
        db.session.commit()
    return render_cart(cart, price_changes=changes)


@bp.post("/cart/add")
@limiter.limit("60 per minute")
def add() -> ResponseReturnValue:
    form = AddToCartForm()
    if not form.validate():
        return render_storefront(form, failed_variant=form.variant.data, status=422)
    bundle = find_bundle(form.variant.data)
    if bundle is None:
        form.variant.errors = ["That bundle is not available. Please choose one from the list."]
        return render_storefront(form, failed_variant=form.variant.data, status=422)
    join_unit = bool(form.join_unit.data)
    if join_unit and current_campaign().has_ended(utcnow()):
        form.join_unit.errors = ["The campaign has ended, so units are no longer being "
                                 "filled. Untick “Join a unit” to send your package on its own."]
        return render_storefront(form, failed_variant=form.variant.data, status=422)
    cart = current_cart(create=True)
    assert cart is not None
    try:
        service.add_bundle(
            cart, bundle, form.clean_quantity, form.clean_note,
            max_quantity=current_app.config["CART_MAX_QUANTITY"], join_unit=join_unit,
            note_review=form.note_review, note_review_reason=form.note_review_reason,
        )
    except service.CartError as exc:
        db.session.rollback()
        (form.join_unit if join_unit and bundle.packages != 1 else form.quantity).errors = [
            str(exc)
        ]
        return render_storefront(form, failed_variant=form.variant.data, status=422)
    db.session.commit()
    flash(f"Added {bundle.name} to your cart.", "success")
    _flash_note_outcome(form)
    return redirect(url_for("cart.view_cart"))


@bp.post("/cart/lines/<int:line_id>")
def update_line(line_id: int) -> ResponseReturnValue:
    cart = current_cart()
    form = UpdateLineForm()
    if cart is None:
        return render_cart(None, error="Your cart is empty.", status=404)
    try:
        line = service.find_line(cart, line_id)
    except service.CartError as exc:
        return render_cart(cart, error=str(exc), status=404)
    if not form.validate():
        return render_cart(cart, line_form=form, line_id=line.id, status=422)
    service.update_line(line, form.clean_quantity, form.clean_note,
                        note_review=form.note_review,
                        note_review_reason=form.note_review_reason)
    db.session.commit()
    flash("Your cart was updated.", "success")
    if line.kind == "package":
        _flash_note_outcome(form)
    return redirect(url_for("cart.view_cart"))


@bp.post("/cart/lines/<int:line_id>/remove")
def remove_line(line_id: int) -> ResponseReturnValue:
    cart = current_cart()
    form = RemoveLineForm()
    if cart is None or not form.validate():
        return redirect(url_for("cart.view_cart"))
    try:
        line = service.find_line(cart, line_id)
    except service.CartError:
        return redirect(url_for("cart.view_cart"))
    service.remove_line(cart, line)
    db.session.commit()
    flash("Removed from your cart.", "success")
    return redirect(url_for("cart.view_cart"))
