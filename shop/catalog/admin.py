"""Catalog changes staff make on /staff/catalog: products and bundles, prices included.

A price lives on the bundle; an order keeps the price of its lines as they were at
checkout (OrderLine is a snapshot), and an open cart shows the new price with a notice
before checkout (shop.cart.service.price_changes). Like every service these change and
flush; the view commits and writes the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from shop.catalog.models import Bundle, Product
from shop.extensions import db
from shop.money import InvalidAmount, format_money, parse_amount

MAX_PRICE_CENTS = 100_000_000  # $1,000,000: a typo guard, far above any bundle
MAX_PACKAGES = 1000
SLUG = re.compile(r"[^a-z0-9]+")


class CatalogError(ValueError):
    """A change the catalog refuses; the message is for staff. Nothing changed."""


@dataclass(frozen=True)
class Change:
    """One field that changed, for the audit log: ("price", "$65.00", "$70.00")."""

    field: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.field}: {self.before} -> {self.after}"


def all_products() -> Sequence[Product]:
    return db.session.scalars(select(Product).order_by(Product.position, Product.id)).all()


def _text(value: str | None, field: str, *, required: bool = True, limit: int = 200) -> str:
    text = (value or "").strip()
    if required and not text:
        raise CatalogError(f"Please give the {field}.")
    if len(text) > limit:
        raise CatalogError(f"The {field} is too long ({limit} characters at most).")
    return text


def _whole(value: str | None, field: str, *, low: int, high: int) -> int:
    text = (value or "").strip()
    if not text.isascii() or not text.lstrip("-").isdigit():
        raise CatalogError(f"The {field} must be a whole number.")
    number = int(text)
    if not low <= number <= high:
        raise CatalogError(f"The {field} must be from {low} to {high}.")
    return number


def parse_price(value: str | None, currency: str) -> int:
    """A price staff typed, in minor units: more than zero, at most the currency's decimals."""
    text = (value or "").strip()
    if not text:
        raise CatalogError("Please give the price.")
    try:
        cents = parse_amount(text, currency)
    except InvalidAmount as exc:
        raise CatalogError(f"Price: {exc}") from exc
    if cents <= 0:
        raise CatalogError("The price must be more than zero.")
    if cents > MAX_PRICE_CENTS:
        raise CatalogError(f"The price must be at most {format_money(MAX_PRICE_CENTS, currency)}.")
    return cents


def _apply(record: object, changes: list[Change], field: str, value: object,
           shown: str | None = None, before_shown: str | None = None) -> None:
    before = getattr(record, field)
    if before != value:
        changes.append(Change(field, before_shown if before_shown is not None else str(before),
                              shown if shown is not None else str(value)))
        setattr(record, field, value)


def update_product(product: Product, *, name: str | None, summary: str | None,
                   contents: str | None, position: str | None, active: bool) -> list[Change]:
    """Apply the form's values to a product; the changes made (none when all equal)."""
    values = {
        "name": _text(name, "name"),
        "summary": _text(summary, "description", required=False, limit=2000),
        "contents": _text(contents, "list of what is inside", required=False, limit=2000),
        "position": _whole(position, "display order", low=0, high=1000),
    }
    changes: list[Change] = []
    for field, value in values.items():
        _apply(product, changes, field, value)
    _apply(product, changes, "active", active)
    db.session.flush()
    return changes


def update_bundle(bundle: Bundle, *, name: str | None, price: str | None,
                  packages: str | None, position: str | None, active: bool,
                  image_path: str | None = None, image_alt: str | None = None) -> list[Change]:
    """Apply the form's values to a bundle (its price in the major unit); the changes.

    Changing a price changes what open carts will pay (they show a notice first) and
    never an order already placed.
    """
    new_name = _text(name, "name")
    cents = parse_price(price, bundle.currency)
    count = _whole(packages, "number of packages", low=1, high=MAX_PACKAGES)
    order = _whole(position, "display order", low=0, high=1000)
    images = {}
    if hasattr(bundle, "image_path") and image_path is not None:
        images["image_path"] = _text(image_path, "picture", required=False, limit=500)
        images["image_alt"] = _text(image_alt, "picture's description", required=False,
                                    limit=300)
        if images["image_path"] and not images["image_alt"]:
            raise CatalogError("Please describe the picture for people who cannot see it.")
    changes: list[Change] = []
    _apply(bundle, changes, "name", new_name)
    _apply(bundle, changes, "price_cents", cents, shown=format_money(cents, bundle.currency),
           before_shown=format_money(bundle.price_cents, bundle.currency))
    _apply(bundle, changes, "packages", count)
    _apply(bundle, changes, "position", order)
    _apply(bundle, changes, "active", active)
    for field, value in images.items():
        _apply(bundle, changes, field, value)
    db.session.flush()
    return changes


def slug_for(name: str, model: type[Bundle] | type[Product] = Bundle) -> str:
    """A unique slug for a new bundle (or product) named `name`: "winter-kit", "winter-kit-2"."""
    base = SLUG.sub("-", name.lower()).strip("-")[:60] or model.__tablename__.rstrip("s")
    slug, n = base, 2
    while db.session.scalar(select(model.id).where(model.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def add_bundle(product: Product, *, name: str | None, price: str | None,
               packages: str | None, currency: str) -> Bundle:
    """A new way to buy a package product (for sale at once)."""
    if product.kind != "package":
        raise CatalogError("Gifts have no bundles: donors choose the amount.")
    new_name = _text(name, "name")
    bundle = Bundle(product=product, slug=slug_for(new_name), name=new_name,
                    price_cents=parse_price(price, currency),
                    packages=_whole(packages, "number of packages", low=1, high=MAX_PACKAGES),
                    currency=currency, position=len(product.bundles), active=True)
    db.session.add(bundle)
    db.session.flush()
    return bundle


def add_product(*, name: str | None, summary: str | None, contents: str | None,
                bundle_name: str | None, price: str | None, packages: str | None,
                currency: str) -> Product:
    """A new package product with its first bundle, both for sale at once.

    A product with no bundle could not be bought, so the first bundle's name, price
    (major unit) and number of packages come with it. Raises CatalogError, nothing added.
    """
    new_name = _text(name, "name")
    product = Product(
        slug=slug_for(new_name, Product), name=new_name, kind="package",
        summary=_text(summary, "description", required=False, limit=2000),
        contents=_text(contents, "list of what is inside", required=False, limit=2000),
        position=1 + max((p.position for p in all_products()), default=0), active=True)
    first = _text(bundle_name, "first bundle's name")
    cents = parse_price(price, currency)
    count = _whole(packages, "number of packages", low=1, high=MAX_PACKAGES)
    db.session.add(product)
    db.session.flush()
    db.session.add(Bundle(product=product, slug=slug_for(first), name=first, price_cents=cents,
                          packages=count, currency=currency, position=0, active=True))
    db.session.flush()
    return product
