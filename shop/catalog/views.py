"""Storefront pages and the catalog API."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from shop.campaign.views import storefront_campaign
from shop.cart.forms import AddToCartForm
from shop.cart.session import current_cart
from shop.catalog.service import catalog_as_json, featured_bundle, storefront_catalog
from shop.donations.forms import DonationForm
from shop.donations.views import donation_form_context
from shop.storefront_cache import cacheable_json, page_for_newcomers

bp = Blueprint("catalog", __name__)


def render_storefront(
    form: AddToCartForm | None = None, failed_variant: str | None = None, status: int = 200
) -> ResponseReturnValue:
    """The storefront; after a refused add, the failing bundle's form shows the errors."""
    products = storefront_catalog()
    slugs = {bundle.slug for product in products for bundle in product.active_bundles}
    campaign, units = storefront_campaign()
    return (
        render_template(
            "storefront/index.html",
            products=products,
            featured=featured_bundle(products),
            general_errors_form=form if form is not None and failed_variant not in slugs
            else None,
            form=form,
            failed_variant=failed_variant,
            donation_form=DonationForm(formdata=None),
            cart=current_cart(),
            **donation_form_context(),
            campaign=campaign,
            units=units,
        ),
        status,
    )


@bp.get("/")
@page_for_newcomers
def storefront() -> ResponseReturnValue:
    return render_storefront()


@bp.get("/api/catalog")
def catalog_api() -> ResponseReturnValue:
    return cacheable_json(catalog_as_json(storefront_catalog()))
