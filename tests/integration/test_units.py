"""Fill a unit together: single packages join a unit; a full unit is one packing order."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop.extensions import db
from shop.orders.models import Order, OrderEvent, SideEffect
from shop.units.models import Unit
from tests.integration.test_staff import staff_client
from tests.servers import PartnerServer, SmtpSink, text_of
from tests.support import (
    StripeStandIn,
    add_to_cart,
    buy_and_pay,
    csrf_token,
    dispute_at_stripe,
    post_event,
    refund_at_stripe,
)

DONORS = itertools.count(1)


def join(app: Flask, stand_in: StripeStandIn, note: str, quantity: int = 1,
         email: str | None = None) -> tuple[str, dict[str, Any]]:
    """A new donor (a browser of their own) sends single packages to a unit and pays."""
    client = app.test_client()
    token, event = buy_and_pay(client, stand_in, "single-package", note=note, join_unit=True,
                               quantity=quantity, email=email or f"donor{next(DONORS)}@ex.org")
    response = post_event(client, event)
    assert response.status_code == 200, response.get_json()
    return token, event


def unit_orders(partner: PartnerServer) -> dict[str, dict[str, Any]]:
    return {key: body for key, body in partner.accepted.items() if key.startswith("UNIT-")}


def api_units(client: FlaskClient) -> list[dict[str, Any]]:
    return list(client.get("/api/campaign").get_json()["units"])


def messages(app: Flask, token: str) -> list[str]:
    with app.app_context():
        order = db.session.scalars(db.select(Order).where(Order.token == token)).one()
        return [event.message for event in order.events]


def sweep(runner: FlaskCliRunner) -> None:
    time.sleep(0.06)
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output


def test_ten_donors_fill_a_unit_and_the_partner_gets_one_packing_order_with_ten_notes(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
    mailbox: SmtpSink,
) -> None:
    tokens = []
    for number in range(1, 10):
        token, _ = join(app, stripe_stand_in, f"Stay warm, from donor {number}")
        tokens.append(token)
    # Nine packages wait in the unit: no packing order for any of them yet.
    assert partner.requests == []
    assert api_units(client) == [{"number": 1, "packages_funded": 9, "packages": 10}]
    assert "Unit 1: 9 of 10 packages funded" in client.get("/").get_data(as_text=True)
    member = client.get(f"/api/orders/{tokens[0]}").get_json()
    assert member["fulfilment_status"] == "waiting_for_unit"
    assert member["units"] == [{"number": 1, "packages": 1, "packages_funded": 9, "size": 10,
                                "status": "open"}]

    tokens.append(join(app, stripe_stand_in, "Stay warm, from donor 10")[0])

    [request] = partner.requests
    assert request["signed"] and request["key"] == "UNIT-0001"
    body = json.loads(request["raw"])
    assert body["order_number"] == "UNIT-0001" and body["unit"] == 1
    assert body["packages"] == 10 and body["created_at"].endswith("Z")
    assert body["lines"] == [
        {"bundle": "single-package", "quantity": 1, "packages": 1,
         "note": f"Stay warm, from donor {number}"} for number in range(1, 11)
    ]
    assert "@ex.org" not in request["raw"].decode()
    # Every donor still gets a receipt, and hears that the unit shipped; none gets a
    # packing order of their own.
    kinds = Counter(str(m["X-Shop-Message"]) for m in mailbox.messages)
    assert kinds == {"receipt": 10, "shipped": 10}
    [shipped] = [m for m in mailbox.messages if m["X-Shop-Message"] == "shipped"][-1:]
    assert "in unit 1's ten-pack, which has gone to our packing partner" in text_of(shipped)
    with app.app_context():
        assert db.session.scalars(
            db.select(SideEffect).where(SideEffect.kind == "packing_order")).all() == []

    first = client.get(f"/api/orders/{tokens[0]}").get_json()
    assert first["fulfilment_status"] == "accepted"
    assert first["units"][0]["status"] == "shipped"
    timeline = messages(app, tokens[0])
    assert "Package placed in unit 1 (1 of 10)" in timeline
    assert "Unit 1 is full; its packing order is queued" in timeline
    assert "Unit 1's packing order accepted by the partner as PK-0001" in timeline
    assert "Package placed in unit 1 (10 of 10)" in messages(app, tokens[-1])

    # The storefront invites the next donors to unit 2.
    page = client.get("/").get_data(as_text=True)
    assert "Unit 2: 0 of 10 packages funded" in page
    assert api_units(client) == [{"number": 1, "packages_funded": 10, "packages": 10}]


@pytest.mark.shop_config({"UNIT_SIZE": 3})
def test_a_donor_sending_several_packages_fills_one_unit_and_starts_the_next(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    token, _ = join(app, stripe_stand_in, "From the whole office", quantity=4)
    [body] = unit_orders(partner).values()
    assert body["packages"] == 3 and [line["note"] for line in body["lines"]] == [
        "From the whole office"] * 3
    assert api_units(client) == [{"number": 1, "packages_funded": 3, "packages": 3},
                                 {"number": 2, "packages_funded": 1, "packages": 3}]
    units = client.get(f"/api/orders/{token}").get_json()["units"]
    assert [(u["number"], u["packages"]) for u in units] == [(1, 3), (2, 1)]


@pytest.mark.shop_config({"UNIT_SIZE": 3})
def test_an_order_with_a_ten_pack_and_a_joined_package_packs_each_in_its_place(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    add_to_cart(client, "unit-ten-pack", 1, "For the squad")
    _, paid = buy_and_pay(client, stripe_stand_in, "single-package", note="One more",
                          join_unit=True)
    post_event(client, paid)
    [(key, body)] = partner.accepted.items()
    assert key.startswith("CP-")
    assert body["packages"] == 10
    assert body["lines"] == [{"bundle": "unit-ten-pack", "quantity": 1, "packages": 10,
                              "note": "For the squad"}]
    assert api_units(client) == [{"number": 1, "packages_funded": 1, "packages": 3}]


@pytest.mark.shop_config({"UNIT_SIZE": 3})
def test_a_refund_while_the_unit_fills_reopens_the_place_for_another_donor(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    join(app, stripe_stand_in, "Anna's note")
    _, bob = join(app, stripe_stand_in, "Bob's note")
    post_event(client, refund_at_stripe(stripe_stand_in, bob))
    assert api_units(client) == [{"number": 1, "packages_funded": 1, "packages": 3}]
    join(app, stripe_stand_in, "Carla's note")
    assert partner.requests == []
    join(app, stripe_stand_in, "Dan's note")
    [body] = unit_orders(partner).values()
    assert [line["note"] for line in body["lines"]] == ["Anna's note", "Carla's note",
                                                        "Dan's note"]


@pytest.mark.shop_config({"UNIT_SIZE": 3})
def test_a_refund_before_a_full_unit_ships_reopens_it_and_nothing_goes_out_until_refilled(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    partner: PartnerServer,
) -> None:
    partner.fail_next = 1  # the partner is down when the unit fills
    join(app, stripe_stand_in, "Anna's note")
    _, bob = join(app, stripe_stand_in, "Bob's note")
    carla_token, _ = join(app, stripe_stand_in, "Carla's note")
    assert len(partner.requests) == 1 and unit_orders(partner) == {}
    assert client.get(f"/api/orders/{carla_token}").get_json()["fulfilment_status"] == "pending"

    post_event(client, refund_at_stripe(stripe_stand_in, bob))
    assert api_units(client) == [{"number": 1, "packages_funded": 2, "packages": 3}]
    assert "Unit 1 is open again (2 of 3): a package was refunded; its packing order waits " \
           "until the unit fills" in messages(app, carla_token)
    sweep(runner)
    sweep(runner)
    assert unit_orders(partner) == {} and len(partner.requests) == 1

    join(app, stripe_stand_in, "Dan's note")
    [body] = unit_orders(partner).values()
    assert [line["note"] for line in body["lines"]] == ["Anna's note", "Carla's note",
                                                        "Dan's note"]
    sweep(runner)
    assert len(unit_orders(partner)) == 1


@pytest.mark.shop_config({"UNIT_SIZE": 2})
def test_a_unit_packing_order_the_partner_could_not_take_is_sent_again_by_the_sweep(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    partner: PartnerServer,
) -> None:
    partner.fail_next = 1
    anna, _ = join(app, stripe_stand_in, "Anna's note")
    join(app, stripe_stand_in, "Bob's note")
    assert unit_orders(partner) == {}
    assert any(m.startswith("Unit 1's packing order attempt 1 failed, retrying")
               for m in messages(app, anna))
    sweep(runner)
    sweep(runner)
    assert len(unit_orders(partner)) == 1 and len(partner.requests) == 2
    assert {r["key"] for r in partner.requests} == {"UNIT-0001"}
    assert client.get(f"/api/orders/{anna}").get_json()["fulfilment_status"] == "accepted"


@pytest.mark.shop_config({"UNIT_SIZE": 2})
def test_a_refund_after_the_unit_shipped_keeps_its_place(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    anna, paid = join(app, stripe_stand_in, "Anna's note")
    join(app, stripe_stand_in, "Bob's note")
    assert len(unit_orders(partner)) == 1
    post_event(client, refund_at_stripe(stripe_stand_in, paid))
    assert client.get(f"/api/orders/{anna}").get_json()["status"] == "refunded"
    assert api_units(client) == [{"number": 1, "packages_funded": 2, "packages": 2}]
    assert client.get("/api/campaign").get_json()["packages_funded"] == 1


@pytest.mark.shop_config({"UNIT_SIZE": 3})
def test_a_partial_refund_keeps_the_package_in_its_unit(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = join(app, stripe_stand_in, "Anna's note")
    post_event(client, refund_at_stripe(stripe_stand_in, paid, 1000))
    assert api_units(client) == [{"number": 1, "packages_funded": 1, "packages": 3}]
    assert client.get("/api/campaign").get_json()["packages_funded"] == 1


@pytest.mark.shop_config({"UNIT_SIZE": 2})
def test_a_disputed_package_leaves_its_unit_and_a_won_dispute_brings_it_back(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    anna, paid = join(app, stripe_stand_in, "Anna's note")
    dispute_id, opened = dispute_at_stripe(stripe_stand_in, paid)
    post_event(client, opened)
    assert api_units(client) == [{"number": 1, "packages_funded": 0, "packages": 2}]
    join(app, stripe_stand_in, "Bob's note")
    stripe_stand_in.close_dispute(dispute_id, "won")
    post_event(client, stripe_stand_in.events("charge.dispute.closed")[-1])
    [body] = unit_orders(partner).values()
    assert [line["note"] for line in body["lines"]] == ["Bob's note", "Anna's note"]
    assert client.get(f"/api/orders/{anna}").get_json()["fulfilment_status"] == "accepted"


@pytest.mark.shop_config({"UNIT_SIZE": 3})
def test_a_lost_dispute_keeps_the_package_out_of_the_unit(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    _, paid = join(app, stripe_stand_in, "Anna's note")
    dispute_id, opened = dispute_at_stripe(stripe_stand_in, paid)
    post_event(client, opened)
    stripe_stand_in.close_dispute(dispute_id, "lost")
    post_event(client, stripe_stand_in.events("charge.dispute.closed")[-1])
    assert api_units(client) == [{"number": 1, "packages_funded": 0, "packages": 3}]
    assert partner.requests == []


def end_campaign(app: Flask) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    app.config["CAMPAIGN_END"] = yesterday
    app.config["CAMPAIGN_START"] = yesterday - timedelta(days=60)


@pytest.mark.shop_config({"UNIT_PARTIAL_POLICY": "ship"})
def test_close_campaign_ships_a_partly_filled_unit_once(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    partner: PartnerServer,
) -> None:
    tokens = [join(app, stripe_stand_in, f"Note {n}")[0] for n in range(1, 4)]
    early = runner.invoke(args=["close-campaign"])
    assert early.exit_code == 0 and "no unit was closed" in early.output
    assert partner.requests == []

    end_campaign(app)
    result = runner.invoke(args=["close-campaign"])
    assert result.exit_code == 0, result.output
    assert "Unit 1: shipping as it is with 3 of 10 packages." in result.output
    [body] = unit_orders(partner).values()
    assert body["packages"] == 3 and [line["note"] for line in body["lines"]] == [
        "Note 1", "Note 2", "Note 3"]
    assert "The campaign has ended: unit 1 ships as it is with 3 of 10 packages; its " \
           "packing order is queued" in messages(app, tokens[0])

    again = runner.invoke(args=["close-campaign"])
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert len(partner.requests) == 1
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="campaign-ended"' in page and 'data-testid="join-unit"' not in page


@pytest.mark.shop_config({"UNIT_PARTIAL_POLICY": "hold"})
def test_close_campaign_holds_a_partly_filled_unit_until_staff_ship_it(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    partner: PartnerServer,
) -> None:
    token, _ = join(app, stripe_stand_in, "Held note")
    end_campaign(app)
    result = runner.invoke(args=["close-campaign"])
    assert "Unit 1: held with 1 of 10 packages." in result.output
    assert runner.invoke(args=["close-campaign"]).output.strip().endswith("nothing to do.")
    assert partner.requests == []
    assert client.get(f"/api/orders/{token}").get_json()["fulfilment_status"] == "held"

    staff = staff_client(app, runner, "manager@example.org", "manager")
    page = staff.get("/staff/units").get_data(as_text=True)
    assert 'data-status="held"' in page and "UNIT_PARTIAL_POLICY=hold" in page
    form_token = csrf_token(staff, "/staff/units")
    shipped = staff.post("/staff/units/1/ship", data={"csrf_token": form_token})
    assert shipped.status_code == 303
    [body] = unit_orders(partner).values()
    assert body["lines"][0]["note"] == "Held note"
    again = staff.post("/staff/units/1/ship", data={"csrf_token": form_token},
                       follow_redirects=True)
    assert "Unit 1 is shipped; only a held unit can be shipped" in again.get_data(as_text=True)
    assert len(partner.requests) == 1


def test_the_daily_task_does_nothing_while_the_campaign_runs_then_closes_it(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    from shop import jobs

    join(app, stripe_stand_in, "Daily note")
    beat = app.config["CELERY"]["beat_schedule"]
    assert any(entry["task"] == jobs.CAMPAIGN_CLOSE for entry in beat.values())
    with app.app_context():
        jobs.send_now(jobs.CAMPAIGN_CLOSE)
    assert partner.requests == []
    end_campaign(app)
    with app.app_context():
        jobs.send_now(jobs.CAMPAIGN_CLOSE)
        jobs.send_now(jobs.CAMPAIGN_CLOSE)
    assert len(unit_orders(partner)) == 1


def test_only_a_single_package_can_join_a_unit_and_only_while_the_campaign_runs(
    app: Flask, client: FlaskClient,
) -> None:
    refused = add_to_cart(client, "unit-ten-pack", 1, "", join_unit="y")
    assert refused.status_code == 422
    assert "a ten-pack already fills one" in refused.get_data(as_text=True)
    assert 'data-testid="cart-empty"' in client.get("/cart").get_data(as_text=True)

    assert add_to_cart(client, "single-package", 1, "Hi", join_unit="y").status_code == 302
    assert add_to_cart(client, "single-package", 1, "Hi").status_code == 302
    cart = client.get("/cart").get_data(as_text=True)
    assert cart.count('data-testid="cart-line"') == 2
    assert cart.count('data-testid="cart-join-unit"') == 1

    end_campaign(app)
    late = add_to_cart(client, "single-package", 1, "", join_unit="y")
    assert late.status_code == 422
    assert "The campaign has ended, so units are no longer being filled" in \
        late.get_data(as_text=True)


@pytest.mark.shop_config({"UNIT_SIZE": 2, "FULFILMENT_URL": None,
                          "FULFILMENT_EMAIL": "packing@partner.test"})
def test_without_a_partner_api_a_full_unit_is_one_packing_slip_by_email(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    join(app, stripe_stand_in, "Anna's note")
    join(app, stripe_stand_in, "Bob's note")
    [slip] = mailbox.to("packing@partner.test")
    assert str(slip["Subject"]) == "Packing order UNIT-0001: 2 care packages"
    text = text_of(slip)
    assert 'Note to print and enclose: "Anna\'s note"' in text
    assert 'Note to print and enclose: "Bob\'s note"' in text


@pytest.mark.shop_config({"UNIT_SIZE": 2})
def test_a_unit_packing_order_the_partner_refuses_is_shown_to_staff_and_can_be_retried(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
    partner: PartnerServer,
) -> None:
    partner.fail_next, partner.fail_status = 1, 422
    anna, _ = join(app, stripe_stand_in, "Anna's note")
    join(app, stripe_stand_in, "Bob's note")
    assert client.get(f"/api/orders/{anna}").get_json()["fulfilment_status"] == "failed"
    assert any(m.startswith("Unit 1's packing order failed after 1 attempts")
               for m in messages(app, anna))
    staff = staff_client(app, runner, "manager@example.org", "manager")
    number = client.get(f"/api/orders/{anna}").get_json()["number"]
    order_page = staff.get(f"/staff/orders/{number}").get_data(as_text=True)
    assert 'data-testid="staff-line-join-unit"' in order_page
    assert "No packing order of its own: its packages travel with units" in order_page
    assert 'data-testid="staff-order-unit" data-unit="1"' in order_page
    assert "packing order failed" in order_page
    page = staff.get("/staff/units").get_data(as_text=True)
    assert 'data-testid="staff-unit-packing" data-status="failed"' in page
    form_token = csrf_token(staff, "/staff/units")
    staff.post("/staff/units/1/retry-packing-order", data={"csrf_token": form_token})
    assert len(unit_orders(partner)) == 1
    with app.app_context():
        assert db.session.scalars(db.select(Unit)).one().status == "shipped"


def test_the_first_donor_to_open_a_unit_gets_their_receipt_at_once(
    app: Flask, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    # Opening a unit uses a savepoint; the receipt must still wait for the real commit.
    join(app, stripe_stand_in, "First!", email="first@example.org")
    assert len(mailbox.to("first@example.org", "receipt")) == 1
    with app.app_context():
        kinds = [e.kind for e in db.session.scalars(db.select(OrderEvent))]
    assert "receipt_done" in kinds


@pytest.mark.shop_config({"UNIT_SIZE": 3})
def test_a_payment_under_review_takes_a_place_only_when_staff_approve_it(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn,
) -> None:
    token, paid = buy_and_pay(client, stripe_stand_in, "single-package", note="Checked",
                              join_unit=True)
    paid["data"]["object"]["amount_total"] = 100  # Stripe reports another amount
    post_event(client, paid)
    order = client.get(f"/api/orders/{token}").get_json()
    assert order["status"] == "needs_review" and order["units"] == []
    assert api_units(client) == []
    assert client.get("/api/campaign").get_json()["packages_funded"] == 0

    staff = staff_client(app, runner, "manager@example.org", "manager")
    approved = staff.post(f"/staff/orders/{order['number']}/approve",
                          data={"csrf_token": csrf_token(staff, "/staff/orders")})
    assert approved.status_code == 303
    assert api_units(client) == [{"number": 1, "packages_funded": 1, "packages": 3}]
    assert client.get("/api/campaign").get_json()["packages_funded"] == 1
