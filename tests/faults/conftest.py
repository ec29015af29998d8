"""Fault scenarios: PostgreSQL, Redis servers of their own, real workers, and a report row each.

Every scenario ends with `Scenario.finish(...)`: it counts what the donor and the packing
partner would notice (receipts the SMTP server accepted, packing orders sent to the partner,
whether it took them or refused them as duplicates), compares each order with what Stripe
says happened to its money, writes one `ScenarioResult` line to the report (`FAULTS_REPORT`,
else a temporary file) and fails the test unless nothing was lost, the final state is right
and nothing was sent twice beyond what the scenario declared with `expect_duplicates` (a
resend the design cannot avoid, named in the table with its reason).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from shop import create_app
from shop.extensions import db
from shop.orders.models import Order, OrderEvent, SideEffect
from tests.conftest import REQUIRE_SERVICES, LiveShop, _postgres_url, need_service
from tests.gunicorn_server import Gunicorn
from tests.servers import PartnerServer, SmtpSink, free_port
from tests.support import StripeStandIn, stripe_get
from tests.workers import ROOT, RedisServer, Worker, worker_env

RECEIPT_SUBJECT = re.compile(r"Your receipt from .* \(order (CP-\d+)\)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every fault scenario needs PostgreSQL: `-m "not postgres"` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def backend() -> str:
    """Row locks and concurrent transactions are the point here: PostgreSQL only."""
    if not (_postgres_url() or REQUIRE_SERVICES):
        need_service("PostgreSQL", "set TEST_DATABASE_URL to run the fault scenarios")
    return "postgresql"


# ---------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    sent: int  # events or requests sent to the shop
    faults: str  # what was injected
    lost: int  # orders Stripe took money for that are not in the state Stripe implies
    duplicates: int  # receipts beyond one per order + packing orders sent beyond one per order
    correct: bool  # the final state is the one expected
    failed_checks: list[str] = field(default_factory=list)
    family: str = ""  # the scenario's module, which orders the table
    expected_duplicates: int = 0  # resends the design cannot avoid in this scenario
    why_duplicates: str = ""  # ... and why, shown in the table next to the count


@pytest.fixture(scope="session")
def fault_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = os.environ.get("FAULTS_REPORT")
    report = Path(path) if path else tmp_path_factory.mktemp("faults") / "faults.jsonl"
    report.parent.mkdir(parents=True, exist_ok=True)
    return report


@dataclass
class Seen:
    """What the outside world shows after a scenario."""

    orders: dict[str, str]  # order number -> status
    receipts: Counter[str]  # order number -> receipts the mail server accepted
    packing_orders: Counter[str]  # order number -> distinct packing orders the partner took
    packing_sent: Counter[str]  # order number -> packing orders sent, taken or refused as dup
    lost: list[str]
    paid_transitions: Counter[str]  # order number -> moves into "paid"

    @property
    def duplicates(self) -> int:
        """Receipts beyond one per order, plus packing orders *sent* beyond one per order
        (a second POST the partner refused with 409 still counts: the shop sent it)."""
        return sum(n - 1 for n in self.receipts.values() if n > 1) + sum(
            n - 1 for n in self.packing_sent.values() if n > 1
        )


def stripe_expectations(stand_in: StripeStandIn) -> dict[int, frozenset[str]]:
    """For every order Stripe took money for, the statuses that agree with Stripe."""
    disputes = {d["charge"]: d for d in stripe_get(stand_in, "disputes", limit=100)["data"]}
    expected: dict[int, frozenset[str]] = {}
    for session in stand_in.sessions():
        if session.get("payment_status") != "paid":
            continue
        order_id = int(session["metadata"]["order_id"])
        intent = stripe_get(stand_in, f"payment_intents/{session['payment_intent']}")
        charge = stripe_get(stand_in, f"charges/{intent['latest_charge']}")
        dispute = disputes.get(charge["id"])
        if dispute is not None and dispute["status"] == "lost":
            ok = {"dispute_lost"}
        elif dispute is not None and dispute["status"] != "won":
            ok = {"disputed"}
        elif charge["amount_refunded"] >= charge["amount"]:
            ok = {"refunded"}
        elif charge["amount_refunded"] > 0:
            ok = {"partially_refunded"}
        else:
            ok = {"paid", "fulfilled"}
        expected[order_id] = frozenset(ok)
    return expected


def look(app: Flask, stand_in: StripeStandIn, mailbox: SmtpSink,
         partner: PartnerServer) -> Seen:
    with app.app_context():
        db.session.remove()
        rows = {o.id: (o.number or "", o.status) for o in db.session.scalars(db.select(Order))}
        paid = Counter(
            number for number in db.session.scalars(
                db.select(Order.number).join(OrderEvent)
                .where(OrderEvent.kind == "status", OrderEvent.to_status == "paid")
            )
        )
        db.session.remove()
    receipts: Counter[str] = Counter()
    for message in list(mailbox.messages):
        match = RECEIPT_SUBJECT.search(str(message["Subject"]))
        if match:
            receipts[match.group(1)] += 1
    packing = Counter(str(body.get("order_number")) for body in list(partner.accepted.values()))
    lost = []
    for order_id, statuses in stripe_expectations(stand_in).items():
        number, status = rows.get(order_id, (f"order id {order_id}", "missing"))
        if status not in statuses:
            lost.append(f"{number} is {status}, Stripe says {'/'.join(sorted(statuses))}")
    return Seen(orders={n: s for n, s in rows.values()}, receipts=receipts,
                packing_orders=packing, packing_sent=partner.sent(), lost=lost,
                paid_transitions=paid)


class Scenario:
    """One row of the table: count what was sent, then check and record the outcome."""

    def __init__(self, report: Path, name: str, faults: str, family: str = "") -> None:
        self.report = report
        self.name = name
        self.faults = faults
        self.family = family
        self.sent = 0
        self.expected_duplicates = 0
        self.why_duplicates = ""

    def expect_duplicates(self, count: int, why: str) -> None:
        """This scenario sends `count` duplicates by design; `why` goes into the table."""
        self.expected_duplicates, self.why_duplicates = count, why

    def finish(self, app: Flask, stand_in: StripeStandIn, mailbox: SmtpSink,
               partner: PartnerServer,
               checks: Callable[[Seen], dict[str, bool]]) -> Seen:
        seen = look(app, stand_in, mailbox, partner)
        results = checks(seen)
        failed = [what for what, ok in results.items() if not ok]
        result = ScenarioResult(self.name, self.sent, self.faults, len(seen.lost),
                                seen.duplicates, not failed, failed, self.family,
                                self.expected_duplicates, self.why_duplicates)
        with self.report.open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(result)) + "\n")
        assert seen.lost == [], f"orders lost: {seen.lost}"
        assert seen.duplicates <= self.expected_duplicates, (
            f"duplicates: receipts {dict(seen.receipts)}, packing orders sent "
            f"{dict(seen.packing_sent)}, taken {dict(seen.packing_orders)}"
        )
        assert not failed, f"not as expected: {failed}; saw {seen}"
        return seen


@pytest.fixture
def scenario(fault_report: Path,
             request: pytest.FixtureRequest) -> Callable[[str, str], Scenario]:
    family = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")

    def start(name: str, faults: str) -> Scenario:
        return Scenario(fault_report, name, faults, family)

    return start


def all_at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call in its own thread, all released together; their responses."""
    barrier = threading.Barrier(len(calls))
    answers: list[requests.Response | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], requests.Response]) -> None:
        barrier.wait()
        answers[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(a is not None for a in answers), "a request did not finish"
    return [a for a in answers if a is not None]


def all_delivered(stand_in: StripeStandIn) -> bool:
    """Every event the stand-in has was answered 2xx (and the shop's request has ended)."""
    return all(e["_emulator"]["delivered"] for e in stand_in.events())


def deliveries(stand_in: StripeStandIn) -> int:
    """Webhook deliveries the stand-in attempted (dropped ones count: Stripe sent them)."""
    return sum(len(e["_emulator"]["attempts"]) for e in stand_in.events())


# ------------------------------------------------------------------ the shop's own state


def side_effects(app: Flask) -> dict[str, SideEffect]:
    with app.app_context():
        rows = db.session.scalars(db.select(SideEffect)).all()
        for row in rows:
            db.session.expunge(row)
        return {row.kind: row for row in rows}


def order_status(app: Flask) -> str:
    with app.app_context():
        return str(db.session.scalars(db.select(Order.status)).one())


def flask_cli(app: Flask, *args: str) -> subprocess.CompletedProcess[str]:
    """`flask --app shop ARGS` in a process of its own, configured like the test app."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "shop", *args], cwd=ROOT,
        env=worker_env(app), capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done


def serve(app: Flask, stand_in: StripeStandIn) -> LiveShop:
    """The app over HTTP with the stand-in delivering webhooks to it (enter it with `with`)."""
    shop = LiveShop(app)
    app.config["PUBLIC_URL"] = shop.url
    stand_in.configure(webhook_url=f"{shop.url}/stripe/webhook", delivery_mode="auto")
    return shop


GUNICORN_WORKERS = 3


@pytest.fixture
def gunicorn_shop(app: Flask, stripe_stand_in: StripeStandIn,
                  tmp_path: Path) -> Iterator[Gunicorn]:
    """The shop as the Procfile runs it: gunicorn with several worker processes on the
    test's database (tasks in-process, on each worker's task thread); the stand-in sends
    its webhooks there. The test app (`client`) shares the database."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = worker_env(app, PUBLIC_URL=url, TASKS_IN_BACKGROUND="true",
                     RATELIMIT_ENABLED="false")
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=GUNICORN_WORKERS, port=port)
    try:
        server.wait_ready()
        app.config["PUBLIC_URL"] = url
        stripe_stand_in.configure(webhook_url=f"{url}/stripe/webhook", delivery_mode="auto")
        yield server
    finally:
        stripe_stand_in.configure(webhook_url=None, delivery_mode="hold")
        server.stop()


# ------------------------------------------------------------------- database faults


@pytest.fixture
def pg_admin(app: Flask) -> Iterator[Engine]:
    """An engine on the test's own database, outside the app, for locks and terminations.

    Autocommit, so pg_stat_activity is read fresh each time; a connection that holds a
    lock switches itself to READ COMMITTED.
    """
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT",
                           poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def server_admin(app: Flask) -> Iterator[Engine]:
    """An engine on the server's admin database: to refuse connections to the test's own."""
    url = _postgres_url() or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    name = app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]
    try:
        yield engine
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        engine.dispose()


# --------------------------------------------------------------- Redis and real workers


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    try:
        server = RedisServer(tmp_path).start()
    except (FileNotFoundError, redis.ConnectionError) as exc:
        need_service("Redis", f"redis-server could not start: {exc}")
        raise
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker_app(app: Flask) -> Iterator[Callable[..., Flask]]:
    """The test app again with REDIS_URL (and any other settings): tasks go to a worker."""
    made: list[Flask] = []

    def make(redis_url: str, **overrides: Any) -> Flask:
        config = dict(app.config) | {"REDIS_URL": redis_url} | overrides
        config.pop("CELERY", None)
        config.pop("RATELIMIT_STORAGE_URI", None)
        config.pop("RATELIMIT_STORAGE_OPTIONS", None)
        made.append(create_app(config))
        return made[-1]

    try:
        yield make
    finally:
        for other in made:
            with other.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[Flask], Worker]]:
    """Start real `celery worker` processes; every one is stopped when the test ends."""
    started: list[Worker] = []

    def start(app: Flask) -> Worker:
        worker = Worker(app, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(worker)
        worker.wait_ready()
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()
