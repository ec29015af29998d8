"""What browsers and caches see on donor pages: cookies only when needed, ETags, fresh data."""

from __future__ import annotations

import os
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text
from werkzeug.test import TestResponse

from shop import create_app
from shop.catalog.models import Bundle
from shop.extensions import db
from shop.storefront_cache import LOCAL_SECONDS, bust
from tests.conftest import need_service
from tests.integration.test_staff import staff_client
from tests.support import (
    CSRF,
    StripeStandIn,
    add_to_cart,
    checkout,
    csrf_token,
    post_event,
    session_id_from,
)


def set_cookies(response: TestResponse) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def vary(response: TestResponse) -> str:
    return response.headers.get("Vary", "")


def test_a_new_visitor_reads_donor_pages_without_getting_a_cookie(client: FlaskClient) -> None:
    for path in ("/", "/donate", "/cart", "/api/catalog", "/api/campaign"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert set_cookies(response) == [], path
    # The forms still carry a token, and it is the same for every visitor without a session.
    first = CSRF.findall(client.get("/").get_data(as_text=True))
    other = CSRF.findall(client.application.test_client().get("/donate").get_data(as_text=True))
    assert first and set(first) == set(other)


def test_the_cart_cookie_is_written_when_the_cart_changes_not_on_every_view(
    client: FlaskClient,
) -> None:
    added = add_to_cart(client, "single-package", 1)
    assert added.status_code == 302 and any(c.startswith("session=") for c in set_cookies(added))
    client.get("/cart")  # the first page with a form gives this session its own token
    for _ in range(2):
        response = client.get("/cart")
        assert 'data-testid="cart-line"' in response.get_data(as_text=True)
        assert set_cookies(response) == []
        assert "Cookie" in vary(response)


def test_a_cross_site_post_with_the_shared_token_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient,
) -> None:
    token = csrf_token(client)
    data = {"variant": "single-package", "quantity": 1, "note": "", "csrf_token": token}
    forged = client.post("/cart/add", data=data, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 400
    forged = client.post("/cart/add", data=data, headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 400
    assert 'data-testid="cart-line"' not in client.get("/cart").get_data(as_text=True)
    ours = client.post("/cart/add", data=data, headers={"Origin": "http://localhost"})
    assert ours.status_code == 302
    assert 'data-testid="cart-line"' in client.get("/cart").get_data(as_text=True)


def test_a_second_tab_opened_before_the_cart_existed_still_adds_to_it(
    client: FlaskClient,
) -> None:
    shared = csrf_token(client)  # both tabs opened before the first add
    add_to_cart(client, "single-package", 1, "first tab")
    own = csrf_token(client, "/cart")
    assert own != shared
    data = {"variant": "unit-ten-pack", "quantity": 1, "note": "", "csrf_token": shared}
    assert client.post("/cart/add", data=data, headers={"Origin": "http://localhost"}
                       ).status_code == 302
    assert client.post("/cart/add", data=data, headers={"Origin": "https://evil.example"}
                       ).status_code == 400
    html = client.get("/cart").get_data(as_text=True)
    assert html.count('data-testid="cart-line"') == 2
    # The session kept its own token: the page's form still works.
    assert client.post("/cart/add", data=data | {"csrf_token": own}).status_code == 302


def test_a_logged_in_staff_member_takes_only_their_own_token(
    app: Flask, runner: FlaskCliRunner,
) -> None:
    staff = staff_client(app, runner, "manager@example.org", "manager")
    shared = csrf_token(app.test_client())
    assert staff.post("/staff/logout", data={"csrf_token": shared}).status_code == 400
    assert staff.get("/staff/orders").status_code == 200  # still logged in


def test_the_json_endpoints_are_public_with_an_etag_and_answer_304_when_unchanged(
    client: FlaskClient,
) -> None:
    for path in ("/api/catalog", "/api/campaign"):
        response = client.get(path)
        etag = response.headers["ETag"]
        assert "public" in response.headers["Cache-Control"]
        assert "max-age=5" in response.headers["Cache-Control"]
        assert "Cookie" not in vary(response), path
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b""
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_the_storefront_shows_a_staff_price_change_at_once_and_the_api_etag_changes(
    app: Flask, client: FlaskClient,
) -> None:
    etag = client.get("/api/catalog").headers["ETag"]
    assert "$65.00" in client.get("/").get_data(as_text=True)
    with app.app_context():
        bundle = db.session.scalar(db.select(Bundle).where(Bundle.slug == "single-package"))
        assert bundle is not None
        bundle.price_cents = 7000
        db.session.commit()
    assert "$70.00" in client.get("/").get_data(as_text=True)
    response = client.get("/api/catalog", headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag


def test_a_change_made_in_raw_sql_shows_once_the_cache_is_busted(
    app: Flask, client: FlaskClient,
) -> None:
    client.get("/")  # the very first view makes the campaign's totals row
    assert "$65.00" in client.get("/").get_data(as_text=True)
    with app.app_context():
        db.session.connection().exec_driver_sql(
            "UPDATE bundles SET price_cents = 7100 WHERE slug = 'single-package'")
        db.session.commit()
        assert "$71.00" not in client.get("/").get_data(as_text=True)  # cached for seconds
        db.session.execute(text("SELECT 1"))
        bust()
        db.session.commit()
    assert "$71.00" in client.get("/").get_data(as_text=True)


@pytest.mark.shop_config({"REDIS_URL": os.environ.get("TEST_REDIS_URL")})
def test_with_redis_a_price_change_shows_at_once_and_a_newcomers_page_is_shared(
    app: Flask, client: FlaskClient,
) -> None:
    if not app.config["REDIS_URL"]:
        need_service("Redis", "TEST_REDIS_URL is not set")  # fails in CI, skips elsewhere
    assert app.config["CACHE_TYPE"] == "RedisCache"
    with app.app_context():
        bust()
        db.session.commit()
    client.get("/")
    first = client.get("/").get_data(as_text=True)
    assert "$65.00" in first
    assert app.test_client().get("/").get_data(as_text=True) == first
    with app.app_context():
        bundle = db.session.scalar(db.select(Bundle).where(Bundle.slug == "single-package"))
        assert bundle is not None
        bundle.price_cents = 7200
        db.session.commit()
    assert "$72.00" in client.get("/").get_data(as_text=True)


def _line_ids(html: str) -> list[str]:
    return re.findall(r'action="/cart/lines/(\d+)/remove"', html)


def _worker(app: Flask, **overrides: object) -> Flask:
    """Another process serving the same shop (same database and Redis, its own memory)."""
    config = dict(app.config) | overrides
    for key in ("CELERY", "RATELIMIT_STORAGE_URI", "RATELIMIT_STORAGE_OPTIONS"):
        config.pop(key, None)
    return create_app(config)


def _as(client: FlaskClient, browser: FlaskClient) -> FlaskClient:
    """`client` carrying the browser's cookie: the browser's next request, to another worker."""
    cookie = browser.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", cookie.value)
    return client


@pytest.mark.shop_config({"REDIS_URL": os.environ.get("TEST_REDIS_URL")})
def test_a_cart_page_is_kept_until_the_cart_or_the_storefront_changes_on_any_worker(
    app: Flask, client: FlaskClient,
) -> None:
    if not app.config["REDIS_URL"]:
        need_service("Redis", "TEST_REDIS_URL is not set")  # fails in CI, skips elsewhere
    other = _worker(app).test_client()
    assert add_to_cart(client, "single-package", note="Keep warm").status_code == 302
    client.get("/cart")  # the flash of the add is shown once
    kept = client.get("/cart").get_data(as_text=True)
    assert "Keep warm" in kept and len(_line_ids(kept)) == 1
    assert client.get("/cart").get_data(as_text=True) == kept

    # A change the ORM does not see is not shown while the page is kept...
    with app.app_context():
        db.session.connection().exec_driver_sql("UPDATE cart_lines SET note = 'Raw edit'")
        db.session.commit()
    assert "Keep warm" in client.get("/cart").get_data(as_text=True)
    # ...one the donor makes is, at once, even when another worker made it.
    assert add_to_cart(_as(other, client), "unit-ten-pack", note="From us all").status_code == 302
    _as(client, other).get("/cart")  # the flash
    page = client.get("/cart").get_data(as_text=True)
    assert "From us all" in page and "Raw edit" in page and len(_line_ids(page)) == 2
    line = _line_ids(page)[0]
    assert _as(other, client).post(
        f"/cart/lines/{line}/remove", data={"csrf_token": csrf_token(other, "/cart")},
    ).status_code == 302
    _as(client, other).get("/cart")
    assert len(_line_ids(client.get("/cart").get_data(as_text=True))) == 1

    # Another browser's cart is its own page.
    stranger = app.test_client()
    assert add_to_cart(stranger, "single-package", note="Other donor").status_code == 302
    stranger.get("/cart")
    assert "Other donor" in stranger.get("/cart").get_data(as_text=True)
    assert "Other donor" not in client.get("/cart").get_data(as_text=True)

    # A staff price change on any worker reaches the kept page within a second.
    with app.app_context():
        bundle = db.session.scalar(db.select(Bundle).where(Bundle.slug == "unit-ten-pack"))
        assert bundle is not None
        bundle.price_cents += 500
        db.session.commit()
    assert 'data-testid="cart-price-change"' in client.get("/cart").get_data(as_text=True)
    assert 'data-testid="cart-price-change"' not in client.get("/cart").get_data(as_text=True)
    with _worker(app).app_context():
        bundle = db.session.scalar(db.select(Bundle).where(Bundle.slug == "unit-ten-pack"))
        assert bundle is not None
        bundle.price_cents += 500
        db.session.commit()
    time.sleep(LOCAL_SECONDS)
    assert 'data-testid="cart-price-change"' in client.get("/cart").get_data(as_text=True)


@pytest.mark.shop_config({"REDIS_URL": os.environ.get("TEST_REDIS_URL")})
def test_a_cart_emptied_by_its_payment_on_another_worker_shows_empty_at_once(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    """The donor looks at the cart while on Stripe's page (another tab, or Back); the
    payment's event is applied by another worker, which the donor's cookie cannot tell."""
    if not app.config["REDIS_URL"]:
        need_service("Redis", "TEST_REDIS_URL is not set")  # fails in CI, skips elsewhere
    assert add_to_cart(client, "single-package", note="Keep warm").status_code == 302
    client.get("/cart")
    session_id = session_id_from(checkout(client).location)
    for _ in range(2):
        assert len(_line_ids(client.get("/cart").get_data(as_text=True))) == 1
    stripe_stand_in.pay(session_id)
    [event] = [e for e in stripe_stand_in.events("checkout.session.completed")
               if e["data"]["object"]["id"] == session_id]
    # Applied where the donor's cookie never comes (here in the request, as without a broker).
    elsewhere = _worker(app, REDIS_URL=None)
    assert post_event(elsewhere.test_client(), event).get_json()["outcome"] == "processed"
    page = client.get("/cart").get_data(as_text=True)
    assert _line_ids(page) == [] and 'data-testid="cart-empty"' in page


@pytest.mark.shop_config({"REDIS_URL": os.environ.get("TEST_REDIS_URL")})
def test_a_page_built_on_another_worker_from_its_older_copy_is_not_shared_after_a_change(
    app: Flask, client: FlaskClient,
) -> None:
    """Worker B still holds the catalog it read a moment ago when staff change a price on
    worker A: B may show the old price for LOCAL_SECONDS, and no worker longer than that."""
    if not app.config["REDIS_URL"]:
        need_service("Redis", "TEST_REDIS_URL is not set")  # fails in CI, skips elsewhere
    other = _worker(app).test_client()
    assert "$65.00" in client.get("/").get_data(as_text=True)
    other.get("/api/catalog")  # B keeps the catalog for a second
    with app.app_context():
        bundle = db.session.scalar(db.select(Bundle).where(Bundle.slug == "single-package"))
        assert bundle is not None
        bundle.price_cents = 7300
        db.session.commit()
    other.get("/")  # B builds the newcomers' page from what it holds
    time.sleep(LOCAL_SECONDS + 0.2)
    for worker in (client, other, app.test_client()):
        assert "$73.00" in worker.get("/").get_data(as_text=True)
