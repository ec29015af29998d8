"""GET /about, /contact, /privacy and /refund-policy."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue

from shop.pages.content import page_text

bp = Blueprint("pages", __name__)


def _page(slug: str) -> ResponseReturnValue:
    page = page_text(slug, current_app.config)
    if page is None:
        abort(404)
    return render_template("pages/page.html", page=page)


@bp.get("/about")
def about() -> ResponseReturnValue:
    return _page("about")


@bp.get("/contact")
def contact() -> ResponseReturnValue:
    return _page("contact")


@bp.get("/privacy")
def privacy() -> ResponseReturnValue:
    return _page("privacy")


@bp.get("/refund-policy")
def refund_policy() -> ResponseReturnValue:
    return _page("refund-policy")
