"""Storefront, catalog API, cart and donation forms: what donors see and what we refuse."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.cart.models import CartLine
from shop.extensions import db
from tests.support import add_to_cart, csrf_token, donate


def cart_lines(app: Flask) -> list[CartLine]:
    with app.app_context():
        return list(db.session.scalars(db.select(CartLine)))


def test_storefront_shows_both_bundles_with_contents_and_prices(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "Warm Winter care package" in html
    assert "Fleece jacket" in html
    assert "Single care package" in html and "$65.00" in html
    assert "Unit ten-pack" in html and "$590.00" in html
    assert html.count('data-testid="add-to-cart"') == 2


def test_catalog_api_lists_products_with_variants(client: FlaskClient) -> None:
    body = client.get("/api/catalog").get_json()
    products = {p["slug"]: p for p in body["products"]}
    package = products["warm-winter-care-package"]
    assert package["kind"] == "package"
    variants = {v["slug"]: v for v in package["variants"]}
    assert variants["unit-ten-pack"] == {
        "slug": "unit-ten-pack", "name": "Unit ten-pack", "packages": 10,
        "price_cents": 59000, "currency": "usd",
    }
    assert variants["single-package"]["packages"] == 1
    assert products["donation"]["kind"] == "donation"


def test_ten_pack_with_a_note_lands_in_the_cart_escaped(client: FlaskClient) -> None:
    note = "<b>Stay warm</b> & safe 🧤❤️"
    response = add_to_cart(client, "unit-ten-pack", 2, note)
    assert response.status_code == 302 and response.location.endswith("/cart")
    html = client.get("/cart").get_data(as_text=True)
    assert html.count('data-testid="cart-line"') == 1
    assert "&lt;b&gt;Stay warm&lt;/b&gt; &amp; safe 🧤❤️" in html
    assert "<b>Stay warm</b>" not in html
    assert "$1,180.00" in html and "20 packages" in html


def test_the_same_bundle_and_note_adds_up_and_a_new_note_gets_its_own_line(
    client: FlaskClient,
) -> None:
    add_to_cart(client, "single-package", 1, "Hi")
    add_to_cart(client, "single-package", 2, "Hi")
    add_to_cart(client, "single-package", 1, "Hello")
    html = client.get("/cart").get_data(as_text=True)
    assert html.count('data-testid="cart-line"') == 2
    assert "$260.00" in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantity": "0"}, "at least 1"),
        ({"quantity": "-1"}, "at least 1"),
        ({"quantity": str(10**9)}, "up to 100"),
        ({"quantity": "x"}, "whole number"),
        ({"quantity": "1.5"}, "whole number"),
        ({"variant": "nope"}, "not available"),
        ({"variant": ""}, "choose a bundle"),
        ({"note": "x" * 501}, "keep it to 500"),
        ({"price": "1"}, "Prices come from the shop"),
        ({"price_cents": "100"}, "Prices come from the shop"),
    ],
)
def test_bad_add_to_cart_is_refused_clearly_and_writes_nothing(
    app: Flask, client: FlaskClient, fields: dict[str, str], message: str
) -> None:
    data = {"variant": "unit-ten-pack", "quantity": "1", "note": ""} | fields
    response = client.post("/cart/add", data=data | {"csrf_token": csrf_token(client)})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert cart_lines(app) == []


def test_a_form_without_its_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    response = client.post("/cart/add", data={"variant": "unit-ten-pack", "quantity": "1"})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert cart_lines(app) == []


def test_change_quantity_and_note_then_remove(app: Flask, client: FlaskClient) -> None:
    add_to_cart(client, "single-package", 1, "first")
    [line] = cart_lines(app)
    token = csrf_token(client, "/cart")
    response = client.post(
        f"/cart/lines/{line.id}", data={"quantity": "3", "note": "second ✨", "csrf_token": token}
    )
    assert response.status_code == 302
    html = client.get("/cart").get_data(as_text=True)
    assert "second ✨" in html and "$195.00" in html
    bad = client.post(
        f"/cart/lines/{line.id}", data={"quantity": "0", "note": "", "csrf_token": token}
    )
    assert bad.status_code == 422 and "at least 1" in bad.get_data(as_text=True)
    assert cart_lines(app)[0].quantity == 3
    client.post(f"/cart/lines/{line.id}/remove", data={"csrf_token": token})
    assert 'data-testid="cart-empty"' in client.get("/cart").get_data(as_text=True)


def test_another_donors_cart_line_cannot_be_touched(app: Flask, client: FlaskClient) -> None:
    add_to_cart(client, "single-package", 1, "mine")
    [line] = cart_lines(app)
    stranger = app.test_client()
    token = csrf_token(stranger, "/")
    response = stranger.post(
        f"/cart/lines/{line.id}", data={"quantity": "5", "note": "", "csrf_token": token}
    )
    assert response.status_code == 404
    assert cart_lines(app)[0].quantity == 1


def test_a_gift_becomes_a_donation_line(app: Flask, client: FlaskClient) -> None:
    response = donate(client, "36.50")
    assert response.status_code == 302 and response.location.endswith("/cart")
    [line] = cart_lines(app)
    assert (line.kind, line.amount_cents, line.quantity) == ("donation", 3650, 1)
    assert "$36.50" in client.get("/cart").get_data(as_text=True)


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-5", "negative"), ("0", "smallest gift"), ("abc", "as a number"),
     ("1e9", "as a number"), ("10.999", "2 decimal places"), ("4.99", "smallest gift"),
     ("100000.01", "largest gift"), ("", "enter an amount")],
)
def test_bad_gifts_are_refused_and_nothing_is_written(
    app: Flask, client: FlaskClient, amount: str, message: str
) -> None:
    response = donate(client, amount)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert cart_lines(app) == []


def test_health_endpoints(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"]["database"] == "ok"


def test_unknown_pages_get_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "could not find" in response.get_data(as_text=True)
    api = client.get("/api/orders/not-a-real-token")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("quantity", "message"),
    [("+-5", "whole number"), ("+5", "whole number"), ("5e0", "whole number"),
     ("\u0665", "whole number"), ("5 5", "whole number"), ("0x5", "whole number"),
     ("5.", "whole number"), ("", "enter a quantity"), ("-0", "at least 1"),
     ("99999999999", "up to 100")],
)
def test_a_quantity_that_is_not_plain_digits_in_range_is_refused(
    app: Flask, client: FlaskClient, quantity: str, message: str
) -> None:
    response = add_to_cart(client, "single-package", quantity)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert cart_lines(app) == []


def test_spaces_around_a_quantity_are_only_trimmed(app: Flask, client: FlaskClient) -> None:
    assert add_to_cart(client, "single-package", " 3 ").status_code == 302
    assert [line.quantity for line in cart_lines(app)] == [3]


def test_a_refused_note_edit_keeps_the_donors_new_text_in_the_box(
    app: Flask, client: FlaskClient
) -> None:
    add_to_cart(client, "single-package", 1, "Stay warm")
    [line] = cart_lines(app)
    token = csrf_token(client, "/cart")
    response = client.post(f"/cart/lines/{line.id}", data={
        "quantity": "2", "note": "Write to me at me@example.org", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ">Write to me at me@example.org</textarea>" in html
    assert f'<a href="#note-{line.id}"' in html
    assert f'aria-describedby="note-{line.id}-error"' in html
    [kept] = cart_lines(app)
    assert (kept.note, kept.quantity) == ("Stay warm", 1)
