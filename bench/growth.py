"""`python -m bench.growth`: what the payment path and the staff pages cost as orders grow.

On PostgreSQL only (BENCH_DATABASE_URL, else TEST_DATABASE_URL; without either it says so
and stops): a database of its own is migrated, then for each size (0, 100,000 and
`--scale`, a million by default) the orders are seeded with generate_series
(bench/seed.py) and it measures, in-process through Flask's test client:
- one payment webhook (checkout.session.completed for a pending order), median ms; with
  BENCH_REDIS_URL / TEST_REDIS_URL set (a broker) the webhook stores the event and the
  worker's task applying it is measured too (run here, median ms), and the receipt and
  packing tasks go to that Redis; without it the webhook applies it and runs its tasks;
- webhook ingest: distinct orders paid from INGEST_THREADS threads, events per second;
- the staff order list's first page, a search by a donor's email, the dashboard: median ms;
- the CSV of every order, built as the export task builds it, in a process of its own:
  seconds, and that process's peak resident memory.

Goals (issue: fast at any size): every staff page under 100 ms at a million orders; the
CSV of a million orders completes. The table is printed with the date, the machine and
the database's version, for the README.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import stripe
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from bench.seed import seed_orders
from shop import create_app
from shop.campaign.service import refresh_totals
from shop.catalog.service import seed_winter_campaign
from shop.config import DEFAULT_STRIPE_API_VERSION
from shop.extensions import db
from shop.orders import service as orders
from shop.payments.event_state import EventStatus
from shop.payments.events import apply_stored
from shop.payments.handlers import HANDLERS
from shop.payments.models import StripeEvent
from shop.staff import exports
from shop.staff.export_state import ExportStatus
from shop.staff.models import Export
from shop.staff.service import create_or_update_staff

SECRET = "whsec_bench_growth"
STAFF_EMAIL = "bench-staff@example.org"
STAFF_PASSWORD = "winter-ledger-figures-42"  # a throwaway account in a throwaway database
WEBHOOKS = 15
INGEST_EVENTS = 200
INGEST_THREADS = 4
PAGE_REPEAT = 15
STAFF_PAGE_GOAL_MS = 100.0


def database_urls() -> tuple[str, str] | None:
    """(the admin URL given, the URL of a new database for this run), or None."""
    given = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not given or not given.startswith("postgresql"):
        return None
    name = f"shop_bench_growth_{uuid.uuid4().hex[:8]}"
    return given, given.rsplit("/", 1)[0] + f"/{name}"


def make_app(url: str) -> Flask:
    redis = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL") or None
    return create_app({
        "TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": url, "STRIPE_WEBHOOK_SECRET": SECRET,
        "RATELIMIT_ENABLED": False, "REDIS_URL": redis, "MAIL_SERVER": None,
        "FULFILMENT_URL": None, "FULFILMENT_EMAIL": None, "STRIPE_MAX_NETWORK_RETRIES": 0,
    })


@contextlib.contextmanager
def bench_database() -> Iterator[str | None]:
    urls = database_urls()
    if urls is None:
        yield None
        return
    admin_url, url = urls
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def median_ms(run: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def _event(n: int, order_id: int, number: str, amount: int) -> tuple[bytes, str]:
    body = json.dumps({
        "id": f"evt_growth_{n}", "object": "event", "type": "checkout.session.completed",
        "created": int(time.time()), "livemode": False,
        "api_version": DEFAULT_STRIPE_API_VERSION,
        "data": {"object": {
            "id": f"cs_growth_{n}", "object": "checkout.session", "mode": "payment",
            "status": "complete", "payment_status": "paid", "amount_total": amount,
            "currency": "usd", "payment_intent": f"pi_growth_{n}",
            "client_reference_id": str(order_id),
            "metadata": {"order_id": str(order_id), "order_number": number},
        }},
    }).encode()
    return body, stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET)


class Webhooks:
    """Pending orders placed the shop's way, and their signed 'paid' events."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.serial = 0

    def pending(self, count: int) -> list[tuple[bytes, str]]:
        events = []
        with self.app.app_context():
            placed = [orders.place_order(orders.gift_lines(3600, 0),
                                         email=f"hook{self.serial + i}@example.org",
                                         name="Webhook Bench", currency="usd")
                      for i in range(count)]
            db.session.commit()
            for order in placed:
                self.serial += 1
                events.append(_event(self.serial, order.id, order.number or "",
                                     order.total_cents))
        return events

    def post(self, client: FlaskClient, event: tuple[bytes, str]) -> None:
        body, signature = event
        response = client.post("/stripe/webhook", data=body,
                               headers={"Stripe-Signature": signature,
                                        "Content-Type": "application/json"})
        assert response.status_code == 200, response.get_data(as_text=True)[:300]


def one_webhook_ms(app: Flask, hooks: Webhooks) -> float:
    events = iter(hooks.pending(WEBHOOKS))
    client = app.test_client()
    return median_ms(lambda: hooks.post(client, next(events)), WEBHOOKS)


def ingest_per_second(app: Flask, hooks: Webhooks) -> float:
    events = hooks.pending(INGEST_EVENTS)
    shares = [events[i::INGEST_THREADS] for i in range(INGEST_THREADS)]
    failures: list[Exception] = []

    def send(share: list[tuple[bytes, str]]) -> None:
        client = app.test_client()
        try:
            for event in share:
                hooks.post(client, event)
        except (AssertionError, OSError) as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(share,)) for share in shares]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise failures[0]
    return INGEST_EVENTS / elapsed


def apply_ms(app: Flask) -> float | None:
    """With a broker the webhook stores events and a worker applies them: what applying
    one costs (the worker's task, run here), median ms; None when the webhook applied
    them itself (no broker)."""
    with app.app_context():
        waiting = db.session.scalars(
            db.select(StripeEvent.id).where(StripeEvent.status == EventStatus.RECEIVED)
            .order_by(StripeEvent.id).limit(WEBHOOKS)).all()
    if not waiting:
        return None
    rows = iter(waiting)

    def apply_one() -> None:
        with app.app_context():
            assert apply_stored(next(rows), HANDLERS) is not None
            db.session.commit()

    return median_ms(apply_one, len(waiting))


def staff_client(app: Flask) -> FlaskClient:
    with app.app_context():
        create_or_update_staff(STAFF_EMAIL, "viewer", STAFF_PASSWORD)
        db.session.commit()
    client = app.test_client()
    response = client.post("/staff/login", data={"email": STAFF_EMAIL,
                                                 "password": STAFF_PASSWORD})
    assert response.status_code == 303, response.status_code
    return client


def page_ms(client: FlaskClient, paths: list[str]) -> float:
    cycle = itertools.cycle(paths)

    def get() -> None:
        response = client.get(next(cycle))
        assert response.status_code == 200, response.status_code

    get()  # the first view of a page warms caches of its own (templates, plans)
    return median_ms(get, PAGE_REPEAT)


def donor_emails(app: Flask, count: int = 5) -> list[str]:
    """Addresses of real donors spread through the table (the search's target)."""
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT email FROM orders WHERE id % 9973 = 17 ORDER BY id LIMIT :n"),
            {"n": count}).scalars().all()
    return [str(row) for row in rows] or ["nobody@example.org"]


def export_every_order(app: Flask, url: str) -> tuple[float, float, int]:
    """Seconds, peak resident MiB and rows of the CSV of every order, built as the export
    task builds it, in a fresh process (its peak memory is the export's and the app's
    own: the row of 0 orders shows the app alone)."""
    with app.app_context():
        export = Export(token=uuid.uuid4().hex, status=ExportStatus.QUEUED,
                        filters={"abandoned": "1"}, filename="all.csv",
                        created_by=STAFF_EMAIL, rows_estimated=0, rows_written=0)
        db.session.add(export)
        db.session.commit()
        export_id = export.id
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.growth", "--build-export", str(export_id),
         "--database", url], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    elapsed = float(child.stdout.read().strip() or "nan")
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("the export process failed")
    with app.app_context():
        done = db.session.get(Export, export_id)
        assert done is not None and done.status == ExportStatus.READY, done
        rows = done.rows_written
        exports.file_of(done).unlink(missing_ok=True)
    return elapsed, usage.ru_maxrss / 1024, rows


def build_export(export_id: int, url: str) -> None:
    """The child process of export_every_order: prints the build's seconds."""
    app = make_app(url)
    with app.app_context():
        start = time.perf_counter()
        assert exports.build(export_id)
        print(f"{time.perf_counter() - start:.3f}")


@dataclass
class Row:
    orders: int
    webhook_ms: float
    apply_ms: float | None
    ingest: float
    list_ms: float
    search_ms: float
    dashboard_ms: float
    csv_s: float
    csv_mib: float
    csv_rows: int


def reseed(url: str, count: int) -> float:
    """Every order gone, then `count` orders seeded; seconds taken."""
    engine = create_engine(url)
    start = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("TRUNCATE orders RESTART IDENTITY CASCADE"))
        conn.commit()
        if count:
            seed_orders(conn, 0, count)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # Index-only scans need the visibility map a vacuum writes (autovacuum would,
        # later): measure the shop as it runs, not a freshly loaded table.
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - start


def measure(app: Flask, url: str, count: int) -> Row:
    seeded = reseed(url, count)
    with app.app_context():
        refresh_totals()  # the campaign's totals as `flask campaign-totals` leaves them
        db.session.commit()
    print(f"  {count:>9,} orders seeded in {seeded:.0f} s", file=sys.stderr, flush=True)
    hooks = Webhooks(app)
    with contextlib.redirect_stdout(io.StringIO()):  # mail on the console, if no broker
        webhook = one_webhook_ms(app, hooks)
        applied = apply_ms(app)
        ingest = ingest_per_second(app, hooks)
    staff = staff_client(app)
    searches = [f"/staff/orders?q={email}" for email in donor_emails(app)]
    list_ms = page_ms(staff, ["/staff/orders"])
    search_ms = page_ms(staff, searches)
    dashboard_ms = page_ms(staff, ["/staff/dashboard"])
    csv_s, csv_mib, csv_rows = export_every_order(app, url)
    return Row(count, webhook, applied, ingest, list_ms, search_ms, dashboard_ms, csv_s, csv_mib,
               csv_rows)


def table(rows: list[Row], version: str, broker: bool) -> list[str]:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        f"Growth, measured {when} on {machine}, {version}",
        "(in-process through Flask's test client; "
        + ("with Redis as the broker the webhook stores each event and 'applied' is the "
           "worker's task applying one, run here; their tasks are queued to Redis)"
           if broker else "no Redis set: the webhook applies each event and runs its tasks)"),
        "",
        "| orders    | webhook ms | applied ms | ingest ev/s | list p1 ms | email search ms | "
        "dashboard ms | CSV s  | CSV peak MiB |",
        "|----------:|-----------:|-----------:|------------:|-----------:|----------------:|"
        "-------------:|-------:|-------------:|",
    ]
    for row in rows:
        applied = "inline" if row.apply_ms is None else f"{row.apply_ms:.1f}"
        lines.append(
            f"| {row.orders:>9,} | {row.webhook_ms:>10.1f} | {applied:>10} | "
            f"{row.ingest:>11.1f} | "
            f"{row.list_ms:>10.1f} | {row.search_ms:>15.1f} | {row.dashboard_ms:>12.1f} | "
            f"{row.csv_s:>6.1f} | {row.csv_mib:>12.0f} |")
    if rows:
        last = rows[-1]
        slowest = max(last.list_ms, last.search_ms, last.dashboard_ms)
        flat = rows[0].ingest and last.ingest / rows[0].ingest
        lines += [
            "",
            f"At {last.orders:,} orders: slowest staff page {slowest:.1f} ms "
            f"(goal < {STAFF_PAGE_GOAL_MS:.0f} ms: "
            f"{'met' if slowest < STAFF_PAGE_GOAL_MS else 'NOT met'}); "
            f"CSV of {last.csv_rows:,} orders completed in {last.csv_s:.0f} s; "
            f"ingest {flat:.2f}x of the empty shop's.",
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1_000_000,
                        help="the largest number of orders (default 1,000,000)")
    parser.add_argument("--build-export", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    if args.build_export:
        build_export(args.build_export, args.database)
        return 0
    sizes = sorted({0, min(100_000, args.scale), args.scale})
    with bench_database() as url:
        if url is None:
            print("growth table: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL to a "
                  "PostgreSQL database)")
            return 0
        app = make_app(url)
        with app.app_context():
            upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
            seed_winter_campaign("usd")
            db.session.commit()
            version = str(db.session.execute(text("SHOW server_version")).scalar())
        rows: list[Row] = []
        try:
            for size in sizes:
                rows.append(measure(app, url, size))
        finally:
            broker = bool(app.config.get("REDIS_URL"))
            if broker:
                app.extensions["celery"].control.purge()  # the tasks nobody will run
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        print("\n".join(table(rows, f"PostgreSQL {version}", broker)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
