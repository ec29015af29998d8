"""Fixtures: the app on SQLite and PostgreSQL, the Stripe stand-in, a live shop."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from shop import create_app
from shop.catalog.service import seed_winter_campaign
from shop.extensions import db
from stripe_emulator import EmulatorServer
from tests.servers import PartnerServer, SmtpSink
from tests.support import WEBHOOK_SECRET, StripeStandIn

PARTNER_SECRET = "partner-test-secret"


def _own_redis_db() -> None:
    """Under pytest-xdist each process takes a Redis db of its own (TEST_REDIS_URL's, then
    the ones below it), so caches and rate limits of one process never reach another's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...
    url = os.environ.get("TEST_REDIS_URL")
    if not (url and worker.startswith("gw") and worker[2:].isdigit()):
        return
    base, _, number = url.rpartition("/")
    if number.isdigit():
        os.environ["TEST_REDIS_URL"] = f"{base}/{(int(number) - int(worker[2:])) % 16}"


_own_redis_db()

# CI sets REQUIRE_SERVICES=1: a missing PostgreSQL, Redis or Chromium fails, never skips.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")


def _postgres_url() -> str | None:
    if POSTGRES_URL and POSTGRES_URL.startswith("postgres"):
        url = POSTGRES_URL
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                url = "postgresql+psycopg://" + url[len(prefix) :]
        return url
    return None


def _backends() -> list[Any]:
    backends: list[Any] = ["sqlite"]
    if _postgres_url() or REQUIRE_SERVICES:
        backends.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    return backends


def need_service(name: str, reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required here (REQUIRE_SERVICES=1): {reason}")
    pytest.skip(f"{name} unavailable: {reason}")


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[EmulatorServer]:
    server = EmulatorServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server: SmtpSink) -> SmtpSink:
    smtp_server.reset()
    return smtp_server


@pytest.fixture(scope="session")
def partner_server() -> Iterator[PartnerServer]:
    server = PartnerServer(PARTNER_SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def partner(partner_server: PartnerServer) -> PartnerServer:
    partner_server.reset()
    return partner_server


@pytest.fixture
def stripe_stand_in(stripe_server: EmulatorServer) -> StripeStandIn:
    stand_in = StripeStandIn(stripe_server.url)
    stand_in.reset()
    stand_in.configure(
        webhook_url=None, webhook_secret=WEBHOOK_SECRET, delivery_mode="hold",
        retry_delays=[0.2, 0.5, 1.0], max_attempts=4,
    )
    return stand_in


_postgres_databases: dict[str, str] = {}


def _prepare_postgres(admin_url: str) -> str:
    """A database of this test run's own (so parallel runs never truncate each other)."""
    if admin_url in _postgres_databases:
        return _postgres_databases[admin_url]
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"shop_test_{os.getpid()}"
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        need_service("PostgreSQL", str(exc).splitlines()[0])
    finally:
        engine.dispose()
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    _postgres_databases[admin_url] = url
    return url


def pytest_sessionfinish(session: pytest.Session) -> None:
    for admin_url, url in _postgres_databases.items():
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        try:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except OperationalError:
            pass
        finally:
            engine.dispose()


def _truncate_all() -> None:
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


def base_config(
    stripe_url: str, database_url: str, smtp_port: int, partner_url: str
) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STRIPE_API_BASE": stripe_url,
        "STRIPE_SECRET_KEY": "sk_test_suite",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_MAX_NETWORK_RETRIES": 0,
        "STRIPE_TIMEOUT": 5.0,
        "PUBLIC_URL": "http://shop.test",
        "RATELIMIT_ENABLED": False,
        "REDIS_URL": None,
        # Tasks run before the response, so a test can check their outcome at once
        # (tests/integration/test_tasks_in_background.py covers the default).
        "TASKS_IN_BACKGROUND": False,
        "CURRENCY": "usd",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_TIMEOUT": 5.0,
        "MAIL_DEFAULT_SENDER": "receipts@warmhands.test",
        "FULFILMENT_URL": partner_url,
        "FULFILMENT_SECRET": PARTNER_SECRET,
        "FULFILMENT_EMAIL": None,
        "FULFILMENT_TIMEOUT": 5.0,
        "ORG_NAME": "Warm Hands Test Charity",
        "ORG_TAX_ID": "12-3456789",
        "ORG_ADDRESS": "5 Test Lane, Springfield",
        # Retries come due at once, so a test can run the sweep instead of waiting.
        "SIDE_EFFECT_DEADLINE": 0,
        "SIDE_EFFECT_BACKOFF": 0.01,
        "SIDE_EFFECT_BACKOFF_MAX": 0.05,
        "SIDE_EFFECT_MAX_ATTEMPTS": 4,
        # The campaign runs around today, whatever day the suite runs.
        "CAMPAIGN_START": (datetime.now(UTC) - timedelta(days=30)).date(),
        "CAMPAIGN_END": (datetime.now(UTC) + timedelta(days=90)).date(),
    }


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(
    backend: str,
    tmp_path: Path,
    stripe_stand_in: StripeStandIn,
    mailbox: SmtpSink,
    partner: PartnerServer,
    request: pytest.FixtureRequest,
) -> Iterator[Flask]:
    if backend == "postgresql":
        url = _prepare_postgres(
            _postgres_url() or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
    else:
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    overrides = getattr(request, "param", None) or {}
    marker = request.node.get_closest_marker("shop_config")
    if marker:
        overrides = overrides | marker.args[0]
    config = base_config(stripe_stand_in.url, url, mailbox.port, partner.url)
    flask_app = create_app(config | overrides)
    with flask_app.app_context():
        if backend == "postgresql":
            db.create_all()
            _truncate_all()
        else:
            db.create_all()
        seed_winter_campaign(flask_app.config["CURRENCY"])
        db.session.commit()
    yield flask_app
    with flask_app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


class LiveShop:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveShop:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def live_shop(app: Flask, stripe_stand_in: StripeStandIn) -> Iterator[LiveShop]:
    """The shop served over HTTP; the stand-in delivers its webhooks to it as Stripe would."""
    with LiveShop(app) as shop:
        app.config["PUBLIC_URL"] = shop.url
        stripe_stand_in.configure(
            webhook_url=f"{shop.url}/stripe/webhook", delivery_mode="auto"
        )
        yield shop
        stripe_stand_in.configure(webhook_url=None, delivery_mode="hold")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "shop_config(dict): settings for the app fixture")
