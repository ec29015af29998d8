"""Many donors paying at the same moment (PostgreSQL, a live shop) never overfill a unit."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from shop.extensions import db
from shop.orders.models import Order, SideEffect
from shop.orders.side_effect_state import SideEffectKind
from shop.orders.side_effects import request_notice
from shop.units.models import Unit
from tests.conftest import LiveShop
from tests.servers import PartnerServer
from tests.support import StripeStandIn, buy_and_pay, post_event, sign


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    # Row locks are what is under test; SQLite runs one writer at a time anyway.
    return str(request.param)


def deliver_all_at_once(url: str, events: list[dict[str, Any]]) -> list[int]:
    """Post every webhook from its own thread, released together; retry what Stripe would."""
    barrier = threading.Barrier(len(events))
    statuses: list[int] = [0] * len(events)

    def post(index: int, event: dict[str, Any]) -> None:
        body = json.dumps({k: v for k, v in event.items() if k != "_emulator"}).encode()
        barrier.wait()
        for _ in range(5):
            response = requests.post(
                f"{url}/stripe/webhook", data=body, timeout=60,
                headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"},
            )
            statuses[index] = response.status_code
            if response.status_code != 503:  # 503 asks Stripe to deliver it again
                return

    threads = [threading.Thread(target=post, args=(i, e)) for i, e in enumerate(events)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


@pytest.mark.shop_config({"UNIT_SIZE": 4})
def test_donors_paying_at_once_fill_units_exactly_and_each_full_unit_ships_once(
    app: Flask, live_shop: LiveShop, stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    stripe_stand_in.configure(delivery_mode="hold")  # the test delivers them, all at once
    quantities = [1, 2, 1, 1, 2, 1, 1, 1, 2, 1, 1, 2]  # 16 packages: exactly four units
    events = []
    for donor, quantity in enumerate(quantities):
        _, event = buy_and_pay(app.test_client(), stripe_stand_in, "single-package",
                               note=f"Donor {donor}", join_unit=True, quantity=quantity,
                               email=f"donor{donor}@example.org")
        events.append(event)
    # Each event twice, as Stripe sometimes does: duplicates must change nothing.
    statuses = deliver_all_at_once(live_shop.url, events + events)
    assert statuses == [200] * len(statuses)

    with app.app_context():
        units = db.session.scalars(db.select(Unit).order_by(Unit.number)).all()
        funded = {unit.number: len(unit.funded_places) for unit in units}
        assert funded == {1: 4, 2: 4, 3: 4, 4: 4}
        assert {unit.status for unit in units} == {"shipped"}
        effects = db.session.scalars(db.select(SideEffect)).all()
        # Every donor hears once that their packages shipped, whatever units they fill.
        assert Counter(e.kind for e in effects) == {"receipt": 12, "unit_packing_order": 4,
                                                    "shipped_notice": 12}

    assert sorted(partner.accepted) == ["UNIT-0001", "UNIT-0002", "UNIT-0003", "UNIT-0004"]
    notes = Counter(line["note"] for body in partner.accepted.values() for line in body["lines"])
    assert notes == Counter({f"Donor {d}": q for d, q in enumerate(quantities)})
    assert all(body["packages"] == 4 and len(body["lines"]) == 4
               for body in partner.accepted.values())
    assert len(partner.requests) == 4


def test_two_packing_orders_of_one_order_accepted_at_once_tell_the_donor_once(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    """An order's packages in two units: both units' packing orders are accepted in the
    same moment, each transaction asks for the donor's shipping notice, neither fails."""
    _, event = buy_and_pay(client, stripe_stand_in, "single-package", join_unit=True)
    assert post_event(client, event).status_code == 200
    with app.app_context():
        order_id = db.session.scalars(db.select(Order.id)).one()

    first_asked, second_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def ask(first: bool) -> None:
        try:
            with app.app_context():
                order = db.session.get(Order, order_id)
                assert order is not None
                if not first:
                    first_asked.wait(10)
                    second_started.set()
                request_notice(order, SideEffectKind.SHIPPED_NOTICE)
                if first:
                    first_asked.set()
                    second_started.wait(10)
                    time.sleep(0.3)  # the second now waits on the unique key, then finds it
                db.session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=ask, args=(first,)) for first in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with app.app_context():
        notices = db.session.scalars(
            db.select(SideEffect).where(SideEffect.kind == SideEffectKind.SHIPPED_NOTICE)
        ).all()
        assert [notice.order_id for notice in notices] == [order_id]
