"""The storefront page as the catalog's and the cart's views render it."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from shop.campaign.presenters import storefront_campaign
from shop.cart.forms import AddToCartForm
from shop.cart.session import current_cart
from shop.catalog.service import featured_bundle, storefront_catalog
from shop.donations.forms import DonationForm
from shop.donations.presenters import donation_form_context


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
