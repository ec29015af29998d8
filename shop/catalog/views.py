"""Storefront pages and the catalog API."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from shop.catalog.presenters import render_storefront
from shop.catalog.service import active_products, catalog_as_json

bp = Blueprint("catalog", __name__)


@bp.get("/")
def storefront() -> ResponseReturnValue:
    return render_storefront()


@bp.get("/api/catalog")
def catalog_api() -> ResponseReturnValue:
    return jsonify(catalog_as_json(active_products()))
