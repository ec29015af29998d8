"""Running the charity without a developer: the catalog (prices reach open carts with a
notice, never placed orders) and the campaign's settings, kept in the database."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shop.audit.models import AuditEntry
from shop.campaign.service import current_campaign
from shop.catalog.models import Bundle
from shop.extensions import db
from shop.orders.models import Order
from tests.integration.test_staff import (  # noqa: F401  (fixtures)
    manager,
    viewer,
)
from tests.support import StripeStandIn, add_to_cart, buy_and_pay, checkout, csrf_token, post_event


def bundle_id(app: Flask, slug: str) -> int:
    with app.app_context():
        found: int = db.session.scalars(db.select(Bundle.id).where(Bundle.slug == slug)).one()
        return found


def save_bundle(staff: FlaskClient, app: Flask, slug: str, price: str,
                **extra: str) -> TestResponse:
    data = {"csrf_token": csrf_token(staff, "/staff/orders"), "name": extra.pop(
        "name", "Single care package"), "price": price, "packages": "1", "position": "0",
        "active": "y"} | extra
    return staff.post(f"/staff/catalog/bundles/{bundle_id(app, slug)}", data=data)


def test_a_new_price_shows_in_open_carts_with_a_notice_and_placed_orders_keep_theirs(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, "single-package")
    post_event(client, paid)
    donor = app.test_client()
    add_to_cart(donor, "single-package", 2)
    assert "$130.00" in donor.get("/cart").get_data(as_text=True)

    assert save_bundle(manager, app, "single-package", "70.00").status_code == 303
    catalog = manager.get("/staff/catalog").get_data(as_text=True)
    assert "manager@charity.example: Single care package: $65.00 -&gt; $70.00" in catalog

    # The checkout is stopped once to show the new price; the next one goes through.
    stopped = checkout(donor, email="second@example.org")
    assert stopped.status_code == 409
    html = stopped.get_data(as_text=True)
    assert 'data-testid="cart-price-change"' in html
    assert "Single care package now costs $70.00 (it was $65.00" in html
    assert "$140.00" in html
    assert "cart-price-change" not in donor.get("/cart").get_data(as_text=True)
    assert checkout(donor, email="second@example.org").status_code == 303
    with app.app_context():
        totals = dict(db.session.execute(db.select(Order.email, Order.total_cents)).all())
    assert totals == {"donor@example.org": 6500, "second@example.org": 14000}


@pytest.mark.parametrize(("price", "message"), [
    ("0", "more than zero"), ("-5", "cannot be negative"), ("", "Please give the price"),
    ("12.345", "at most 2 decimal places"), ("ten", "as a number"),
])
def test_bad_prices_are_refused_and_change_nothing(
    app: Flask, manager: FlaskClient, price: str, message: str,  # noqa: F811
) -> None:
    response = save_bundle(manager, app, "single-package", price)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(db.select(Bundle.price_cents).where(
            Bundle.slug == "single-package")).one() == 6500


def test_staff_edit_products_and_add_bundles_and_viewers_cannot(
    app: Flask, client: FlaskClient, manager: FlaskClient, viewer: FlaskClient,  # noqa: F811
) -> None:
    token = csrf_token(manager, "/staff/catalog")
    with app.app_context():
        product_id = db.session.scalars(db.select(Bundle.product_id)).first()
    saved = manager.post(f"/staff/catalog/products/{product_id}", data={
        "csrf_token": token, "name": "Winter care package", "summary": "Warm things",
        "contents": "Fleece jacket\nSocks", "position": "0", "active": "y"})
    assert saved.status_code == 303
    added = manager.post(f"/staff/catalog/products/{product_id}/bundles", data={
        "csrf_token": token, "name": "Three-pack", "price": "180", "packages": "3"})
    assert added.status_code == 303
    store = client.get("/").get_data(as_text=True)
    assert "Winter care package" in store and "Three-pack" in store
    assert save_bundle(manager, app, "unit-ten-pack", "590.00", name="Unit ten-pack",
                       packages="10", active="").status_code == 303
    assert 'data-variant="unit-ten-pack"' not in client.get("/").get_data(as_text=True)

    assert viewer.get("/staff/catalog").status_code == 403
    assert save_bundle(viewer, app, "single-package", "1.00").status_code == 403
    with app.app_context():
        assert db.session.scalars(db.select(Bundle.price_cents).where(
            Bundle.slug == "single-package")).one() == 6500


def test_staff_add_a_new_care_package_that_donors_can_buy(
    app: Flask, client: FlaskClient, manager: FlaskClient, viewer: FlaskClient,  # noqa: F811
) -> None:
    form = {"csrf_token": csrf_token(manager, "/staff/catalog"), "name": "Sleeping bag kit",
            "summary": "A four-season sleeping bag", "contents": "Sleeping bag\nLiner",
            "bundle_name": "One sleeping bag kit", "price": "120.50", "packages": "1"}
    # A kit with no price, or a price that is no price, adds nothing.
    for bad, message in [({"price": ""}, "Please give the price"),
                         ({"price": "-3"}, "cannot be negative"),
                         ({"bundle_name": ""}, "first bundle"),
                         ({"packages": "+-5"}, "number of packages")]:
        refused = manager.post("/staff/catalog/products", data=form | bad)
        assert refused.status_code == 400
        assert message in refused.get_data(as_text=True)
        assert "Sleeping bag kit" not in client.get("/").get_data(as_text=True)
    assert viewer.post("/staff/catalog/products", data=form).status_code == 403

    assert manager.post("/staff/catalog/products", data=form).status_code == 303
    store = client.get("/").get_data(as_text=True)
    assert "Sleeping bag kit" in store and "Sleeping bag" in store and "$120.50" in store
    add_to_cart(client, "one-sleeping-bag-kit", 2)
    assert "$241.00" in client.get("/cart").get_data(as_text=True)
    with app.app_context():
        logged = db.session.execute(db.select(AuditEntry.actor, AuditEntry.message).where(
            AuditEntry.action == "catalog.product")).all()
    assert logged == [("manager@charity.example",
                       "Added Sleeping bag kit with One sleeping bag kit at $120.50 (1 package)")]


def campaign_form(staff: FlaskClient, **values: str) -> dict[str, str]:
    today = date.today()
    return {"csrf_token": csrf_token(staff, "/staff/campaign"), "name": "Spring 2027",
            "start": (today - timedelta(days=10)).isoformat(),
            "end": (today + timedelta(days=30)).isoformat(), "goal_packages": "50",
            "goal_money": "3250.00", "unit_size": "5", "partial_policy": "hold"} | values


def test_the_campaign_is_set_in_the_back_office_and_saving_recounts(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, "unit-ten-pack")
    post_event(client, paid)
    page = manager.get("/staff/campaign").get_data(as_text=True)
    assert 'value="Warm Winter 2026"' in page  # the settings are the first default

    saved = manager.post("/staff/campaign", data=campaign_form(manager),
                         follow_redirects=True)
    text = saved.get_data(as_text=True)
    assert "recounted: 10 packages and $590.00 raised" in text
    api = client.get("/api/campaign").get_json()
    assert (api["name"], api["goal_packages"], api["goal_cents"]) == ("Spring 2027", 50, 325000)
    assert (api["packages_funded"], api["raised_cents"]) == (10, 59000)
    with app.app_context():
        campaign = current_campaign()
        assert (campaign.unit_size, campaign.partial_policy) == (5, "hold")
    assert "Ships with 4 other donors' packages to one unit" in client.get(
        "/").get_data(as_text=True)

    # Dates that leave the payment out: saving recounts without a command line.
    later = date.today() + timedelta(days=5)
    manager.post("/staff/campaign", data=campaign_form(
        manager, start=later.isoformat(), end=(later + timedelta(days=9)).isoformat()))
    assert client.get("/api/campaign").get_json()["packages_funded"] == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("end", "2000-01-01", "cannot end before it starts"),
    ("start", "yesterday", "must be a date"),
    ("goal_packages", "0", "at least 1"),
    ("goal_money", "-10", "cannot be negative"),
    ("unit_size", "1", "at least 2"),
    ("partial_policy", "burn", "Not a valid choice"),
    ("name", "", "Please name the campaign"),
])
def test_bad_campaign_settings_are_refused_and_change_nothing(
    app: Flask, manager: FlaskClient, field: str, value: str, message: str,  # noqa: F811
) -> None:
    response = manager.post("/staff/campaign", data=campaign_form(manager, **{field: value}))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert current_campaign().name == "Warm Winter 2026"
    assert re.search(r'value="Warm Winter 2026"', manager.get("/staff/campaign").get_data(
        as_text=True))
