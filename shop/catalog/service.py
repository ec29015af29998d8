"""Catalog rules: look up what is for sale, and seed the winter campaign."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from sqlalchemy.orm import selectinload

from shop.catalog.models import Bundle, Product
from shop.extensions import db
from shop.storefront_cache import CATALOG, cached

WARM_WINTER_CONTENTS = "\n".join(
    [
        "Fleece jacket",
        "Thermal base layer (top and leggings)",
        "Two pairs of merino wool socks",
        "Knitted beanie and neck gaiter",
        "Insulated gloves",
        "Hand warmers and lip balm",
    ]
)


def impact_line(packages: int, unit_size: int) -> str:
    """What a bundle of this many packages does, in the donor's words."""
    words: str
    if packages == 1:
        words = gettext("Keeps one soldier warm")
    elif packages == unit_size:
        words = gettext("Keeps a whole unit warm")
    else:
        words = gettext("Keeps %(num)s soldiers warm", num=packages)
    return words


def active_products() -> list[Product]:
    """Products for sale in storefront order, their bundles loaded in the same round trip."""
    return list(
        db.session.scalars(
            db.select(Product).where(Product.active.is_(True)).order_by(Product.position)
            .options(selectinload(Product.bundles))
        )
    )


@dataclass(frozen=True)
class BundleView:
    """A bundle for sale as donor pages show it (a copy: no session, safe to cache)."""

    slug: str
    name: str
    packages: int
    price_cents: int
    currency: str
    image_path: str
    image_alt: str


@dataclass(frozen=True)
class ProductView:
    """A product for sale with its active bundles, as donor pages show it."""

    slug: str
    name: str
    kind: str
    summary: str
    contents_list: tuple[str, ...]
    active_bundles: tuple[BundleView, ...]


def _product_view(product: Product) -> ProductView:
    return ProductView(
        slug=product.slug, name=product.name, kind=product.kind, summary=product.summary,
        contents_list=tuple(product.contents_list),
        active_bundles=tuple(
            BundleView(slug=b.slug, name=b.name, packages=b.packages,
                       price_cents=b.price_cents, currency=b.currency,
                       image_path=b.image_path, image_alt=b.image_alt)
            for b in product.active_bundles
        ),
    )


def storefront_catalog() -> tuple[ProductView, ...]:
    """What is for sale, from the storefront cache (one query on a miss)."""
    return cached(CATALOG, lambda: tuple(_product_view(p) for p in active_products()))


def featured_bundle(products: Sequence[ProductView]) -> BundleView | None:
    """The bundle the storefront's first button adds: the first single package for sale."""
    bundles = [bundle for product in products if product.kind == "package"
               for bundle in product.active_bundles]
    singles = [bundle for bundle in bundles if bundle.packages == 1]
    choices = singles or bundles
    return choices[0] if choices else None


def find_bundle(slug: str) -> Bundle | None:
    """The bundle for sale under this slug, or None when it is unknown or withdrawn."""
    bundle: Bundle | None = db.session.scalar(db.select(Bundle).where(Bundle.slug == slug))
    if bundle is None or not bundle.active or not bundle.product.active:
        return None
    return bundle


def catalog_as_json(products: Sequence[ProductView]) -> dict[str, Any]:
    return {
        "products": [
            {
                "slug": product.slug,
                "name": product.name,
                "kind": product.kind,
                "variants": [
                    {
                        "slug": bundle.slug,
                        "name": bundle.name,
                        "packages": bundle.packages,
                        "price_cents": bundle.price_cents,
                        "currency": bundle.currency,
                    }
                    for bundle in product.active_bundles
                ],
            }
            for product in products
        ]
    }


def seed_winter_campaign(currency: str) -> list[str]:
    """Create or update the demo catalog; safe to run again. Returns what changed."""
    changes: list[str] = []
    package = _upsert_product(
        slug="warm-winter-care-package",
        name="Warm Winter care package",
        kind="package",
        summary=(
            "Everything a soldier needs to stay warm on winter duty, packed with your "
            "personal note of support."
        ),
        contents=WARM_WINTER_CONTENTS,
        position=0,
        changes=changes,
    )
    single = _upsert_bundle(package, "single-package", "Single care package", 1, 6500, currency,
                            0, changes)
    _default_image(single, "img/catalog/single-package.svg",
                   "An open care package box holding a navy fleece jacket, a red beanie "
                   "and socks, with a heart-shaped note tag", changes)
    ten = _upsert_bundle(package, "unit-ten-pack", "Unit ten-pack", 10, 59000, currency, 1,
                         changes)
    _default_image(ten, "img/catalog/unit-ten-pack.svg",
                   "Ten care package boxes stacked in a pyramid, with a tag saying ten", changes)
    _upsert_product(
        slug="donation",
        name="Donation",
        kind="donation",
        summary="A gift of any amount towards the winter campaign, where it is needed most.",
        contents="",
        position=1,
        changes=changes,
    )
    return changes


def _upsert_product(
    *, slug: str, name: str, kind: str, summary: str, contents: str, position: int,
    changes: list[str],
) -> Product:
    product: Product | None = db.session.scalar(db.select(Product).where(Product.slug == slug))
    if product is None:
        product = Product(slug=slug)
        db.session.add(product)
        changes.append(f"product {slug} created")
    product.name, product.kind, product.summary = name, kind, summary
    product.contents, product.position, product.active = contents, position, True
    return product


def _default_image(bundle: Bundle, path: str, alt: str, changes: list[str]) -> None:
    """The demo picture, unless staff have chosen one of their own."""
    if not bundle.image_path:
        bundle.image_path, bundle.image_alt = path, alt
        changes.append(f"bundle {bundle.slug} picture set")


def _upsert_bundle(
    product: Product, slug: str, name: str, packages: int, price_cents: int, currency: str,
    position: int, changes: list[str],
) -> Bundle:
    bundle: Bundle | None = db.session.scalar(db.select(Bundle).where(Bundle.slug == slug))
    if bundle is None:
        bundle = Bundle(slug=slug, product=product)
        db.session.add(bundle)
        changes.append(f"bundle {slug} created")
    bundle.name, bundle.packages, bundle.price_cents = name, packages, price_cents
    bundle.currency, bundle.position, bundle.active = currency, position, True
    return bundle
