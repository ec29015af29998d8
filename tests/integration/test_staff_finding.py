"""Finding and exporting: search by number, email, name, dedication and payment reference;
the default list hides abandoned checkouts; dashboard counts link to exactly their orders;
the accountant's CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from shop.extensions import db
from shop.orders.models import Order, SideEffect
from tests.integration.test_staff import (  # noqa: F401  (fixtures)
    listed,
    make_order,
    manager,
    post_action,
    viewer,
)
from tests.integration.test_staff_refunds import refund
from tests.support import StripeStandIn, buy_and_pay, donate, post_event

HEADER_START = ["number", "paid_at", "status", "email", "name", "gross", "refunded", "net",
                "goods", "gift", "fee_covered", "currency", "dedication", "anonymous", "plan",
                "stripe_payment_intent_id"]


def edit(app: Flask, number: str, **changes: object) -> None:
    with app.app_context():
        order = db.session.scalars(db.select(Order).where(Order.number == number)).one()
        for key, value in changes.items():
            if key == "dedication_name":
                order.lines[0].dedication_type = "memory"
                order.lines[0].dedication_name = str(value)
            else:
                setattr(order, key, value)
        db.session.commit()


def test_search_finds_number_email_name_dedication_and_payment_reference(
    app: Flask, manager: FlaskClient,  # noqa: F811
) -> None:
    alma = make_order(app, email="alma@example.org", name="Alma Núñez")
    gift = make_order(app, kind="donation", email="bert@example.org")
    edit(app, gift, dedication_name="Grandpa Joe")
    other = make_order(app, email="cleo@example.org")
    with app.app_context():
        intent = db.session.scalars(db.select(Order.stripe_payment_intent_id)
                                    .where(Order.number == other)).one()
    assert listed(manager, f"?q={alma}") == [alma]
    assert listed(manager, "?q=BERT@") == [gift]
    assert listed(manager, "?q=alma n") == [alma]
    assert listed(manager, "?q=grandpa") == [gift]
    assert listed(manager, f"?q={intent}") == [other]
    assert listed(manager, "?q=pi_test") == []  # a payment reference matches whole
    assert listed(manager, "?q=nobody") == []


def test_the_default_list_hides_checkouts_abandoned_more_than_a_day_ago(
    app: Flask, manager: FlaskClient,  # noqa: F811
) -> None:
    now = datetime.now(UTC)
    old_pending = make_order(app, status="pending", created_at=now - timedelta(days=2))
    old_expired = make_order(app, status="expired", created_at=now - timedelta(days=3))
    fresh = make_order(app, status="pending", created_at=now - timedelta(hours=2))
    old_paid = make_order(app, status="paid", created_at=now - timedelta(days=5))
    review = make_order(app, status="needs_review", created_at=now - timedelta(days=4))
    assert listed(manager) == [fresh, review, old_paid]
    assert listed(manager, "?abandoned=1") == [fresh, old_pending, old_expired, review,
                                               old_paid]
    assert listed(manager, "?status=expired") == [old_expired]
    page = manager.get("/staff/orders").get_data(as_text=True)
    assert 'name="abandoned"' in page


def test_a_dashboard_count_lists_exactly_its_orders_and_clears_once_resolved(
    app: Flask, manager: FlaskClient,  # noqa: F811
) -> None:
    failed = make_order(app, status="paid", receipt="failed", last_error="SMTP 554")
    make_order(app, status="paid")
    page = manager.get("/staff/dashboard").get_data(as_text=True)
    assert 'data-testid="attention-failed" data-count="1"' in page
    assert 'href="/staff/orders?attention=failed"' in page
    assert listed(manager, "?attention=failed") == [failed]
    with app.app_context():
        effect = db.session.scalars(db.select(SideEffect).where(
            SideEffect.status == "failed")).one()
        effect.status = "done"  # what a successful resend leads to
        db.session.commit()
    page = manager.get("/staff/dashboard").get_data(as_text=True)
    assert 'data-testid="attention-failed" data-count="0"' in page
    assert listed(manager, "?attention=failed") == []
    assert manager.get("/staff/orders?attention=lost").status_code == 400


def export(client: FlaskClient, query: str = "") -> tuple[object, list[dict[str, str]]]:
    response = client.get(f"/staff/orders.csv{query}", buffered=False)
    assert response.status_code == 200
    streamed = response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:len(HEADER_START)] == HEADER_START
    response.streamed = streamed  # type: ignore[attr-defined]
    return response, [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_accountants_csv_has_amounts_splits_and_a_telling_filename(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, "single-package", gift="15.08",
                          name="Dana")
    post_event(client, paid)
    refund(manager, "CP-000001", "10.00")
    post_event(client, stripe_stand_in.events("charge.refunded")[-1])
    donor = app.test_client()
    donate(donor, "25", dedication_type="memory", dedication_name="Rose",
           anonymous="y", email="anon@example.org")
    donate(app.test_client(), "30", dedication_type="honor", dedication_name="Sgt. Lee",
           email="lee@example.org")
    response, rows = export(manager)
    assert response.streamed  # type: ignore[attr-defined]
    by_number = {row["number"]: row for row in rows}
    first = by_number["CP-000001"]
    assert (first["gross"], first["refunded"], first["net"]) == ("80.08", "10.00", "70.08")
    # The refund comes off the gift first: goods + gift == net.
    assert (first["goods"], first["gift"], first["fee_covered"]) == ("65.00", "5.08", "0.00")
    assert first["currency"] == "usd" and first["anonymous"] == "no"
    assert first["stripe_payment_intent_id"].startswith("pi_")
    assert datetime.fromisoformat(first["paid_at"]).tzinfo is not None
    disposition = response.headers["Content-Disposition"]  # type: ignore[attr-defined]
    today = datetime.now(UTC).date().isoformat()
    assert f"orders_start_to_{today}.csv" in disposition
    gift = by_number["CP-000002"]
    assert gift["dedication"] == "In memory of Rose" and gift["anonymous"] == "yes"
    assert gift["goods"] == "0.00" and gift["plan"] == ""
    # The CSV speaks the shop's locale (en_US by default), as the receipts do.
    assert by_number["CP-000003"]["dedication"] == "In honor of Sgt. Lee"

    filtered, rows = export(manager, "?status=partially_refunded&paid_from=2020-01-01"
                                     f"&paid_to={today}")
    assert [row["number"] for row in rows] == ["CP-000001"]
    name = filtered.headers["Content-Disposition"]  # type: ignore[attr-defined]
    assert f"orders_2020-01-01_to_{today}_status-partially_refunded.csv" in name
    bad = manager.get("/staff/orders.csv?paid_from=yesterday",
                      headers={"Accept": "text/csv"})
    assert bad.status_code == 400


def test_the_dashboard_shows_progress_money_by_kind_and_a_chart(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, "single-package", gift="20")
    post_event(client, paid)
    make_order(app, status="paid", kind="donation", created_at=datetime.now(UTC)
               - timedelta(days=12))
    page = manager.get("/staff/dashboard").get_data(as_text=True)
    words = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert 'data-testid="dashboard-campaign"' in page and "1 of 1000 packages funded" in words
    week = page.split('data-testid="dashboard-window-7"')[1].split("</tr>")[0]
    month = page.split('data-testid="dashboard-window-30"')[1].split("</tr>")[0]
    assert re.findall(r'data-category="([^"]+)">([^<]+)<', week) == [
        ("packages", "$65.00"), ("one-off", "$20.00"), ("monthly", "$0.00")]
    assert re.findall(r'data-category="([^"]+)">([^<]+)<', month) == [
        ("packages", "$65.00"), ("one-off", "$45.00"), ("monthly", "$0.00")]
    chart = page.split('data-testid="dashboard-chart"')[1].split("</svg>")[0]
    assert chart.count("<rect") == 3 and "style=" not in chart
    assert "<script" not in page
