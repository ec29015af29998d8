"""Storefront pages and the catalog API."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from shop.catalog.presenters import render_storefront
from shop.catalog.service import catalog_as_json, storefront_catalog
from shop.storefront_cache import cacheable_json, page_for_newcomers

bp = Blueprint("catalog", __name__)


@bp.get("/")
@page_for_newcomers
def storefront() -> ResponseReturnValue:
    return render_storefront()


@bp.get("/api/catalog")
def catalog_api() -> ResponseReturnValue:
    return cacheable_json(catalog_as_json(storefront_catalog()))
