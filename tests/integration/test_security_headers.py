"""Security headers on every response, HSTS over https, and no-store on donors' private pages."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.donations.links import plan_token
from shop.donations.models import MonthlyGift
from shop.extensions import db
from shop.orders.models import Order
from tests.support import add_to_cart, checkout, csrf_token

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def policy(response: object) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]  # type: ignore[attr-defined]
    parts = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in parts}


def test_every_response_forbids_inline_code_framing_and_sniffing(client: FlaskClient) -> None:
    answers = {
        "page": client.get("/"),
        "static file": client.get("/static/shop.css"),
        "not found": client.get("/no-such-page"),
        "JSON error": client.get("/api/orders/no-such-token"),
        "refused webhook": client.post("/stripe/webhook", data=b"{}"),
    }
    for what, response in answers.items():
        csp = policy(response)
        assert csp["default-src"] == "'self'", what
        assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'", what
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"], what
        assert csp["frame-ancestors"] == "'none'", what
        assert response.headers["X-Content-Type-Options"] == "nosniff", what
        assert response.headers["Referrer-Policy"] == "same-origin", what
        assert response.headers["X-Frame-Options"] == "DENY", what
        # Plain http (a local run): no HSTS, which would lock the browser out of it.
        assert "Strict-Transport-Security" not in response.headers, what


def test_hsts_only_over_https(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://shop.test")
    max_age = response.headers["Strict-Transport-Security"].removeprefix("max-age=")
    assert int(max_age) >= 365 * 24 * 3600


@pytest.mark.shop_config({"TRUSTED_PROXY_HOPS": 1})
def test_hsts_behind_a_proxy_that_terminated_tls(client: FlaskClient) -> None:
    response = client.get("/", headers={"X-Forwarded-Proto": "https",
                                        "X-Forwarded-For": "198.51.100.4"})
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_a_form_may_lead_to_stripe_checkout_and_nowhere_else(app: Flask,
                                                            client: FlaskClient) -> None:
    sources = policy(client.get("/donate"))["form-action"].split()
    assert sources[0] == "'self'" and "https://checkout.stripe.com" in sources
    # The local stand-in's checkout page, where tests and `make run` pay.
    assert app.config["STRIPE_API_BASE"].rstrip("/") in sources


def test_donor_pages_with_their_data_and_staff_pages_are_never_cached(
    app: Flask, client: FlaskClient,
) -> None:
    add_to_cart(client, "single-package")
    assert checkout(client, email="kept@example.org").status_code == 303
    client.post("/donate", data={"amount": "18", "frequency": "monthly",
                                 "email": "monthly@example.org", "name": "Mona",
                                 "csrf_token": csrf_token(client, "/donate")})
    with app.app_context():
        token = db.session.scalars(db.select(Order.token)).first()
        plan = db.session.scalars(db.select(MonthlyGift)).one()
        monthly = f"/monthly/{plan_token(plan)}"
    private = [f"/orders/{token}", f"/api/orders/{token}", monthly,
               "/staff/login"]
    for path in private:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
