"""The database goes away between Stripe's webhook retries: the retry pays the order once.

Only the test's own database is touched: its connections are terminated and, for the
outage, it refuses new ones (ALTER DATABASE ... ALLOW_CONNECTIONS false). The server
itself keeps running for everyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from tests.conftest import LiveShop
from tests.faults.conftest import Scenario, Seen, all_delivered, deliveries, order_status
from tests.servers import PartnerServer, SmtpSink
from tests.support import StripeStandIn, add_to_cart, checkout, session_id_from, wait_for

pytestmark = pytest.mark.postgres

OTHER_BACKENDS = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                  "AND pid <> pg_backend_pid()")


def completed_attempts(stand_in: StripeStandIn) -> list[Any]:
    [event] = stand_in.events("checkout.session.completed") or [{"_emulator": {
        "attempts": []}}]
    return [a["status"] for a in event["_emulator"]["attempts"]]


def place_order(client: FlaskClient) -> str:
    add_to_cart(client, "unit-ten-pack", 1, "From the night shift")
    return session_id_from(checkout(client).location)


def paid_once(seen: Seen) -> dict[str, bool]:
    [(number, status)] = seen.orders.items()
    return {
        "order paid": status == "paid",
        "one move to paid": seen.paid_transitions == {number: 1},
        "one receipt": seen.receipts == {number: 1},
        "one packing order": seen.packing_orders == {number: 1},
    }


def test_the_database_down_for_the_first_delivery_is_repaired_by_stripes_retry(
    app: Flask, client: FlaskClient, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer, server_admin: Engine,
    scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("database down between webhook retries",
                   "every connection to the shop's database terminated and new ones refused "
                   "during the first delivery; back before Stripe's retry")
    stripe_stand_in.configure(retry_delays=[1.0], max_attempts=20)
    session_id = place_order(client)
    name = app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]

    with server_admin.connect() as admin:
        admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = :name"), {"name": name})
        stripe_stand_in.pay(session_id)
        wait_for(lambda: 503 in completed_attempts(stripe_stand_in))
        admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))

    wait_for(lambda: all_delivered(stripe_stand_in), timeout=30)
    assert completed_attempts(stripe_stand_in)[0] == 503
    assert completed_attempts(stripe_stand_in)[-1] == 200
    run.sent = deliveries(stripe_stand_in)
    run.finish(app, stripe_stand_in, mailbox, partner, paid_once)


def test_connections_killed_mid_webhook_then_stripes_retry_pays_once(
    app: Flask, client: FlaskClient, live_shop: LiveShop, stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink, partner: PartnerServer, pg_admin: Engine,
    scenario: Callable[[str, str], Scenario],
) -> None:
    run = scenario("database connections killed mid-webhook",
                   "pg_terminate_backend on every connection of the shop while the paid "
                   "webhook waits on the order's row; Stripe retries")
    stripe_stand_in.configure(retry_delays=[1.0], max_attempts=20)
    session_id = place_order(client)

    def waiting_on_a_lock(admin: Connection) -> bool:
        return bool(admin.execute(text(OTHER_BACKENDS + " AND wait_event_type = 'Lock'"))
                    .all())

    with pg_admin.connect() as admin, pg_admin.connect() as holder:
        holder = holder.execution_options(isolation_level="READ COMMITTED")
        holder.execute(text("SELECT id FROM orders FOR UPDATE"))
        holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar()
        stripe_stand_in.pay(session_id)
        wait_for(lambda: waiting_on_a_lock(admin))
        killed = admin.execute(text(
            f"SELECT pg_terminate_backend(pid) FROM ({OTHER_BACKENDS}) AS others "
            "WHERE pid <> :holder"), {"holder": holder_pid}).all()
        assert killed, "no connection of the shop to terminate"
        wait_for(lambda: 503 in completed_attempts(stripe_stand_in))
        assert order_status(app) == "pending"  # the killed transaction left nothing behind
        holder.rollback()

    wait_for(lambda: all_delivered(stripe_stand_in), timeout=30)
    run.sent = deliveries(stripe_stand_in)
    run.finish(app, stripe_stand_in, mailbox, partner, paid_once)
