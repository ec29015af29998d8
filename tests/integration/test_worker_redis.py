"""With REDIS_URL set, tasks go through Redis to a real Celery worker, and survive its absence."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop import create_app
from shop.catalog.service import seed_winter_campaign
from shop.config import DEFAULT_STRIPE_API_VERSION
from shop.extensions import db, utcnow
from shop.orders.models import Order, SideEffect
from shop.payments import events
from shop.payments.models import StripeEvent
from tasks.events import apply_event
from tests.conftest import need_service
from tests.servers import PartnerServer, SmtpSink
from tests.support import StripeStandIn, buy_and_pay, post_event, sign, wait_for
from tests.workers import RedisServer, Worker

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def shared_redis() -> str:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        need_service("Redis", f"{REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    try:
        server = RedisServer(tmp_path).start()
    except FileNotFoundError:
        need_service("Redis", "redis-server is not installed")
        raise
    yield server
    server.stop()


def _redis_app(app: Flask, redis_url: str) -> Flask:
    """The test app again, with a broker: tasks now go through Redis to the worker."""
    # A queue of this test's own: another run sharing the Redis never takes its tasks.
    config = dict(app.config) | {"REDIS_URL": redis_url,
                                 "CELERY_QUEUE": f"shop-test-{uuid.uuid4().hex[:12]}"}
    config.pop("CELERY", None)
    config.pop("RATELIMIT_STORAGE_URI", None)
    redis_app = create_app(config)
    with redis_app.app_context():
        seed_winter_campaign(redis_app.config["CURRENCY"])
        db.session.commit()
    return redis_app


@pytest.fixture
def worker_log(tmp_path: Path) -> Path:
    return tmp_path / "worker.log"


def test_a_real_worker_on_redis_sends_the_receipt_and_the_packing_order(
    app: Flask, shared_redis: str, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer, worker_log: Path,
) -> None:
    redis_app = _redis_app(app, shared_redis)
    assert redis_app.extensions["celery"].conf.task_always_eager is False
    worker = Worker(redis_app, worker_log)
    try:
        worker.wait_ready()
        client = redis_app.test_client()
        token, event = buy_and_pay(client, stripe_stand_in, note="From the whole street")
        assert post_event(client, event).status_code == 200
        wait_for(lambda: len(mailbox.to("donor@example.org", "receipt")) == 1, timeout=30)
        wait_for(lambda: len(partner.accepted) == 1, timeout=30)
        wait_for(lambda: client.get(f"/api/orders/{token}").get_json()["receipt_sent"])
        api = client.get(f"/api/orders/{token}").get_json()
        assert api["fulfilment_status"] == "accepted"
        assert len(partner.requests) == 1
    finally:
        worker.stop()
    assert "receipts.send" in worker.output()


def test_a_task_sent_while_the_broker_is_down_is_delivered_by_the_sweep(
    app: Flask, own_redis: RedisServer, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer, worker_log: Path,
) -> None:
    redis_app = _redis_app(app, own_redis.url)
    client: FlaskClient = redis_app.test_client()
    runner: FlaskCliRunner = redis_app.test_cli_runner()
    own_redis.stop()

    token, event = buy_and_pay(client, stripe_stand_in)
    assert post_event(client, event).status_code == 200
    assert client.get(f"/api/orders/{token}").get_json()["status"] == "paid"
    with redis_app.app_context():
        pending = db.session.scalars(db.select(SideEffect.status)).all()
    assert sorted(pending) == ["pending", "pending"]
    assert mailbox.messages == [] and partner.requests == []

    own_redis.start()
    worker = Worker(redis_app, worker_log)
    try:
        worker.wait_ready()
        assert runner.invoke(args=["sweep"]).exit_code == 0
        wait_for(lambda: len(mailbox.to("donor@example.org", "receipt")) == 1, timeout=30)
        wait_for(lambda: len(partner.accepted) == 1, timeout=30)
        assert runner.invoke(args=["sweep"]).exit_code == 0
        wait_for(lambda: client.get(f"/api/orders/{token}").get_json()["receipt_sent"])
    finally:
        worker.stop()
    assert len(mailbox.to("donor@example.org", "receipt")) == 1
    assert len(partner.requests) == 1


def test_with_a_broker_the_webhook_stores_the_event_and_a_worker_applies_it_once(
    app: Flask, shared_redis: str, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    partner: PartnerServer, worker_log: Path,
) -> None:
    """Stripe's delivery waits only for the event to be stored; a task lost with the
    broker's queue is sent again by the sweep, and the order is paid once."""
    redis_app = _redis_app(app, shared_redis)
    redis_app.config["SIDE_EFFECT_DEADLINE"] = 0
    client = redis_app.test_client()
    token, event = buy_and_pay(client, stripe_stand_in)
    for _ in range(2):  # Stripe delivers some events twice
        response = post_event(client, event)
        assert response.status_code == 200
        assert response.get_json()["outcome"] == "received"
    with redis_app.app_context():
        assert db.session.scalars(db.select(Order.status)).one() == "pending"
        assert db.session.scalars(db.select(StripeEvent.status)).all() == ["received"]
    assert redis_app.extensions["celery"].control.purge() == 2  # the queued tasks are lost
    waiting = "are not applied yet: is a Celery worker running?"
    assert any(waiting in w for w in client.get("/readyz").get_json()["warnings"])

    worker = Worker(redis_app, worker_log)
    try:
        worker.wait_ready()
        assert redis_app.test_cli_runner().invoke(args=["sweep"]).exit_code == 0
        wait_for(lambda: len(mailbox.to("donor@example.org", "receipt")) == 1, timeout=30)
        wait_for(lambda: client.get(f"/api/orders/{token}").get_json()["receipt_sent"])
    finally:
        worker.stop()
    assert not any(waiting in w for w in client.get("/readyz").get_json()["warnings"])
    with redis_app.app_context():
        assert db.session.scalars(db.select(Order.status)).one() in ("paid", "fulfilled")
        assert db.session.scalars(db.select(StripeEvent.status)).all() == ["processed"]
    assert len(mailbox.to("donor@example.org", "receipt")) == 1
    assert len(partner.requests) == 1


def test_with_a_broker_an_event_no_handler_can_read_is_set_aside_not_retried(
    app: Flask, shared_redis: str,
) -> None:
    redis_app = _redis_app(app, shared_redis)
    body = json.dumps({"id": "evt_unreadable", "object": "event",
                       "type": "checkout.session.completed", "created": int(time.time()),
                       "livemode": False, "api_version": DEFAULT_STRIPE_API_VERSION,
                       "data": {"object": {}}}).encode()
    response = redis_app.test_client().post(
        "/stripe/webhook", data=body,
        headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"})
    assert response.status_code == 200 and response.get_json()["outcome"] == "received"
    redis_app.extensions["celery"].control.purge()
    with redis_app.app_context():
        row_id = db.session.scalars(db.select(StripeEvent.id)).one()
    with redis_app.app_context():  # what the worker runs
        assert apply_event.run(row_id) == "ignored"
    with redis_app.app_context():
        row = db.session.get(StripeEvent, row_id)
        assert row is not None and row.status == "ignored" and row.processed_at is not None
        assert "could not be read: KeyError" in row.detail
        assert events.waiting_to_apply(utcnow()) == []  # the sweep leaves it alone
