"""The staff's catalog page (admins and managers): products and bundles, prices included.

A price change is written to the audit log with who made it; open carts show the new
price with a notice before checkout; placed orders keep theirs.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from shop.audit import service as audit
from shop.catalog import admin as catalog
from shop.catalog.models import Bundle, Product
from shop.extensions import db
from shop.money import format_money
from shop.staff.auth import log_action, manager_required
from shop.staff.forms import ActionForm
from shop.text import clean_block, clean_line


def _page(error: str | None = None, error_for: str | None = None, status: int = 200
          ) -> ResponseReturnValue:
    return render_template(
        "staff/catalog.html", products=catalog.all_products(), error=error,
        error_for=error_for, form=ActionForm(formdata=None),
        price_history=audit.recent("catalog.price", limit=20),
        has_images=hasattr(Bundle, "image_path"),
    ), status


def _line(name: str) -> str | None:
    """A single-line field, cleaned like every form field (shop.text)."""
    return clean_line(request.form.get(name))


def _block(name: str) -> str | None:
    return clean_block(request.form.get(name))


def _packages(count: int) -> str:
    return f"{count} package" if count == 1 else f"{count} packages"


def _checked(name: str) -> bool:
    return request.form.get(name) in ("y", "on", "yes", "1", "true")


@manager_required
def catalog_page() -> ResponseReturnValue:
    return _page()


def _valid_form() -> bool:
    form = ActionForm()
    form.allowed_money_fields = frozenset({"price"})
    return bool(form.validate())


@manager_required
def save_product(product_id: int) -> ResponseReturnValue:
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    if not _valid_form():
        return _page("The form expired; please try again.", f"product-{product_id}", 400)
    try:
        changes = catalog.update_product(
            product, name=_line("name"), summary=_block("summary"),
            contents=_block("contents"), position=_line("position"),
            active=_checked("active"))
    except catalog.CatalogError as exc:
        db.session.rollback()
        return _page(str(exc), f"product-{product_id}", 400)
    if changes:
        log_action("catalog.product", target=product.slug,
                   message="; ".join(str(c) for c in changes))
    db.session.commit()
    flash(f"{product.name} is saved." if changes else "Nothing changed.", "success")
    return redirect(url_for("staff.catalog_page"), code=303)


@manager_required
def save_bundle(bundle_id: int) -> ResponseReturnValue:
    bundle = db.session.get(Bundle, bundle_id)
    if bundle is None:
        abort(404)
    if not _valid_form():
        return _page("The form expired; please try again.", f"bundle-{bundle_id}", 400)
    was = bundle.price_cents
    try:
        changes = catalog.update_bundle(
            bundle, name=_line("name"), price=_line("price"),
            packages=_line("packages"), position=_line("position"),
            active=_checked("active"), image_path=_line("image_path"),
            image_alt=_line("image_alt"))
    except catalog.CatalogError as exc:
        db.session.rollback()
        return _page(str(exc), f"bundle-{bundle_id}", 400)
    if bundle.price_cents != was:
        log_action("catalog.price", target=bundle.slug,
                   message=f"{bundle.name}: {format_money(was, bundle.currency)} -> "
                           f"{format_money(bundle.price_cents, bundle.currency)}",
                   data={"bundle": bundle.slug, "from_cents": was,
                         "to_cents": bundle.price_cents})
    others = [c for c in changes if c.field != "price_cents"]
    if others:
        log_action("catalog.bundle", target=bundle.slug,
                   message="; ".join(str(c) for c in others))
    db.session.commit()
    flash(f"{bundle.name} is saved." if changes else "Nothing changed.", "success")
    return redirect(url_for("staff.catalog_page"), code=303)


@manager_required
def add_bundle(product_id: int) -> ResponseReturnValue:
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    if not _valid_form():
        return _page("The form expired; please try again.", f"new-bundle-{product_id}", 400)
    try:
        bundle = catalog.add_bundle(product, name=_line("name"),
                                    price=_line("price"),
                                    packages=_line("packages"),
                                    currency=current_app.config["CURRENCY"])
    except catalog.CatalogError as exc:
        db.session.rollback()
        return _page(str(exc), f"new-bundle-{product_id}", 400)
    log_action("catalog.bundle", target=bundle.slug,
               message=f"Added {bundle.name} at {format_money(bundle.price_cents, bundle.currency)}"
                       f" ({_packages(bundle.packages)})")
    db.session.commit()
    flash(f"{bundle.name} is for sale now.", "success")
    return redirect(url_for("staff.catalog_page"), code=303)


@manager_required
def add_product() -> ResponseReturnValue:
    if not _valid_form():
        return _page("The form expired; please try again.", "new-product", 400)
    try:
        product = catalog.add_product(
            name=_line("name"), summary=_block("summary"), contents=_block("contents"),
            bundle_name=_line("bundle_name"), price=_line("price"),
            packages=_line("packages"), currency=current_app.config["CURRENCY"])
    except catalog.CatalogError as exc:
        db.session.rollback()
        return _page(str(exc), "new-product", 400)
    bundle = product.bundles[0]
    log_action("catalog.product", target=product.slug,
               message=f"Added {product.name} with {bundle.name} at "
                       f"{format_money(bundle.price_cents, bundle.currency)}"
                       f" ({_packages(bundle.packages)})")
    db.session.commit()
    flash(f"{product.name} is for sale now.", "success")
    return redirect(url_for("staff.catalog_page"), code=303)


def register(bp: Blueprint) -> None:
    """Add the pages of this module to the staff blueprint."""
    bp.add_url_rule("/catalog", view_func=catalog_page, methods=["GET"])
    bp.add_url_rule("/catalog/products", view_func=add_product, methods=["POST"])
    bp.add_url_rule("/catalog/products/<int:product_id>", view_func=save_product, methods=["POST"])
    bp.add_url_rule("/catalog/bundles/<int:bundle_id>", view_func=save_bundle, methods=["POST"])
    bp.add_url_rule("/catalog/products/<int:product_id>/bundles", view_func=add_bundle,
                     methods=["POST"])
