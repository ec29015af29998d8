"""Donor pages and webhook ingest served by gunicorn, as ratios to a bare Flask hello world.

Both apps run under the same gunicorn settings (`-w 2`, sync workers) side by side on
BENCH_PORT (or PORT, default 5170) and the port after it, and are driven by the same
load generator (wrk when installed, else a Python one), one at a time: each page is
measured between two hello runs and its ratio is to their mean, so a shared machine
that gets busier or quieter from one second to the next skews no ratio. The shop runs
on PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL is set (a database of its
own, dropped afterwards), SQLite otherwise, and with Redis when BENCH_REDIS_URL,
TEST_REDIS_URL or REDIS_URL is set (the cache and the task queue, as in production;
tasks are queued on a queue of the benchmark's own and dropped afterwards).

Ingest posts signed `checkout.session.completed` events, each for a different pending
order, to /stripe/webhook from several connections at once and counts events/s. With a
broker the webhook stores each event and a worker applies it: a Celery worker is then
started and the rate at which it applies what was stored is printed too.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe

from shop.config import DEFAULT_STRIPE_API_VERSION

SECRET = "whsec_bench"
PAGES = [
    # (label, path, with the cart's cookie, goal as a ratio to hello)
    ("/ (storefront)", "/", False, 0.5),
    ("/donate", "/donate", False, 0.4),
    ("/cart (empty)", "/cart", False, 0.4),
    ("/cart (2 lines)", "/cart", True, 0.4),
    ("/api/campaign", "/api/campaign", False, 0.4),
    ("/api/catalog", "/api/catalog", False, 0.4),
]
INGEST_GOAL = 300.0


@dataclass(frozen=True)
class Settings:
    seconds: float = 3.0
    connections: int = 4
    ingest_events: int = 1500
    port: int = int(os.environ.get("BENCH_PORT") or os.environ.get("PORT") or 5170)


@dataclass(frozen=True)
class Load:
    rps: float
    p99_ms: float
    errors: int


# --- where the shop's data lives -------------------------------------------------------


def _postgres_admin_url() -> str | None:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not url or not url.startswith("postgres"):
        return None
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    return url


def _redis_url() -> str | None:
    return (os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL")
            or os.environ.get("REDIS_URL") or None)


@contextlib.contextmanager
def database(tmp: Path) -> Iterator[str]:
    """A fresh, empty database URL for this run; PostgreSQL when configured."""
    admin = _postgres_admin_url()
    if admin is None:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text

    name = f"shop_bench_{os.getpid()}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def shop_config(database_url: str) -> dict[str, Any]:
    redis_url = _redis_url()
    return {
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STRIPE_WEBHOOK_SECRET": SECRET, "RATELIMIT_ENABLED": False,
        "REDIS_URL": redis_url, "CELERY_QUEUE": f"bench-{os.getpid()}",
        "MAIL_SERVER": None, "FULFILMENT_URL": None, "FULFILMENT_EMAIL": None,
        "PUBLIC_URL": "http://127.0.0.1",
    }


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def prepare(config: dict[str, Any], orders: int) -> tuple[str, list[tuple[int, str]]]:
    """Seed the catalog and `orders` pending gifts; returns a 2-line cart's cookie and them."""
    from shop import create_app
    from shop.catalog.service import seed_winter_campaign
    from shop.extensions import db
    from shop.orders import service as order_service

    app = create_app(config)
    with app.app_context():
        db.create_all()
        seed_winter_campaign(app.config["CURRENCY"])
        db.session.commit()
        placed = []
        for i in range(orders):
            order = order_service.place_order(
                order_service.gift_lines(3600, 0), email=f"donor{i}@example.org",
                name=f"Donor {i}", currency=app.config["CURRENCY"])
            placed.append((order.id, str(order.number)))
            if i % 500 == 499:
                db.session.commit()
        db.session.commit()
    client = app.test_client()
    for variant, note in (("single-package", "Stay warm"), ("unit-ten-pack", "From us all")):
        token = _TOKEN.search(client.get("/").get_data(as_text=True))
        assert token is not None, "no form token on the storefront"
        added = client.post("/cart/add", data={"variant": variant, "quantity": 1, "note": note,
                                               "csrf_token": token.group(1)})
        assert added.status_code == 302, added.get_data(as_text=True)
    client.get("/cart")  # the page gives the session its own form token
    cookie = client.get_cookie("session")
    assert cookie is not None, "no cart cookie"
    with app.app_context():
        db.engine.dispose()
    return cookie.value, placed


def drop_task_queue(config: dict[str, Any]) -> None:
    """The webhooks queued receipts on the benchmark's own queue: nobody will run them."""
    if not config.get("REDIS_URL"):
        return
    import redis

    client = redis.Redis.from_url(config["REDIS_URL"])
    client.delete(config["CELERY_QUEUE"])
    for key in client.scan_iter(f"{config['CELERY_QUEUE']}*"):
        client.delete(key)


# --- gunicorn ---------------------------------------------------------------------------


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 30 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def gunicorn(app: str, port: int, env: dict[str, str], log: Path) -> Iterator[None]:
    """`gunicorn -w 2` (sync workers) serving `app` on 127.0.0.1:port until the block ends."""
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "--no-control-socket",
               "-b", f"127.0.0.1:{port}", "--log-level", "warning", app]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=os.environ | env, stdout=out, stderr=out,
                                   cwd=Path(__file__).resolve().parent.parent)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {app} exited; see {log}")
            try:
                status, _ = _request(port, "GET", "/", {})
                if status < 500:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {app} did not answer; see {log}")
            time.sleep(0.2)
        yield
    finally:
        _stop(process)


def _request(port: int, method: str, path: str, headers: dict[str, str],
             body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- load generators --------------------------------------------------------------------

_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_P99 = re.compile(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_ERRORS = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def _wrk(port: int, path: str, headers: dict[str, str], settings: Settings) -> Load:
    command = ["wrk", "-t1", f"-c{settings.connections}", f"-d{max(1, round(settings.seconds))}s",
               "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = _RPS.search(output)
    p99 = _P99.search(output)
    if rps is None or p99 is None:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = _ERRORS.search(output)
    # Sync workers close every connection, so wrk's "read" socket errors are only closes.
    socket_errors = _SOCKET_ERRORS.search(output)
    failed = int(errors.group(1)) if errors else 0
    if socket_errors:
        failed += int(socket_errors.group(1)) + int(socket_errors.group(4))
    return Load(float(rps.group(1)), float(p99.group(1)) * scale, failed)


def _python_load(port: int, requests: Iterator[tuple[str, str, dict[str, str], bytes | None]],
                 seconds: float | None, connections: int) -> Load:
    """Requests from `connections` threads until `requests` or `seconds` run out."""
    lock = threading.Lock()
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds if seconds else None

    def worker() -> None:
        nonlocal errors
        while stop is None or time.monotonic() < stop:
            with lock:
                item = next(requests, None)
            if item is None:
                return
            method, path, headers, body = item
            start = time.perf_counter()
            try:
                status, _ = _request(port, method, path, headers, body)
            except OSError:
                status = 599
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                if status >= 400:
                    errors += 1

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return Load(len(latencies) / elapsed, p99 * 1000, errors)


def drive(port: int, path: str, headers: dict[str, str], settings: Settings) -> Load:
    if shutil.which("wrk"):
        return _wrk(port, path, headers, settings)

    def forever() -> Iterator[tuple[str, str, dict[str, str], bytes | None]]:
        while True:
            yield "GET", path, headers, None

    return _python_load(port, forever(), settings.seconds, settings.connections)


def generator_name() -> str:
    return "wrk" if shutil.which("wrk") else "a Python load generator (wrk not installed)"


# --- webhook events ---------------------------------------------------------------------


def paid_event(order_id: int, number: str, n: int) -> bytes:
    return json.dumps({
        "id": f"evt_bench_{n}", "object": "event", "type": "checkout.session.completed",
        "created": int(time.time()), "livemode": False,
        "api_version": DEFAULT_STRIPE_API_VERSION,
        "data": {"object": {
            "id": f"cs_bench_{n}", "object": "checkout.session", "mode": "payment",
            "status": "complete", "payment_status": "paid", "amount_total": 3600,
            "currency": "usd", "payment_intent": f"pi_bench_{n}",
            "client_reference_id": str(order_id),
            "metadata": {"order_id": str(order_id), "order_number": number},
        }},
    }).encode()


def ingest(port: int, orders: list[tuple[int, str]], settings: Settings) -> Load:
    signed = []
    for n, (order_id, number) in enumerate(orders, start=1):
        body = paid_event(order_id, number, n)
        header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET)
        signed.append(("POST", "/stripe/webhook",
                       {"Stripe-Signature": header, "Content-Type": "application/json"}, body))
    return _python_load(port, iter(signed), None, settings.connections)


def received_count(config: dict[str, Any]) -> int:
    """Stripe events stored and not applied yet."""
    from sqlalchemy import create_engine, text

    engine = create_engine(config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            return int(conn.execute(
                text("SELECT count(*) FROM stripe_events WHERE status = 'received'")).scalar()
                or 0)
    finally:
        engine.dispose()


WORKER_PROCESSES = 2


def apply_with_worker(env: dict[str, str], config: dict[str, Any], log: Path) -> float | None:
    """With a broker the webhook only stores events: a Celery worker (prefork, one process
    per core) applies what ingest stored. Events applied per second, from the worker's
    start to the last one applied; None without a broker (ingest applied them inline)."""
    waiting = received_count(config)
    if not config.get("REDIS_URL") or not waiting:
        return None
    command = [sys.executable, "-m", "celery", "-A", "bench.worker", "worker",
               "--loglevel=WARNING", f"--concurrency={WORKER_PROCESSES}", "--without-gossip",
               "--without-mingle", "--without-heartbeat", "-n", f"bench-{os.getpid()}@%h"]
    start = time.perf_counter()
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=os.environ | env, stdout=out, stderr=out,
                                   cwd=Path(__file__).resolve().parent.parent)
    try:
        deadline = time.monotonic() + 600
        while received_count(config) and time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited; see {log}")
            time.sleep(0.1)
        left = received_count(config)
        if left:
            raise RuntimeError(f"the worker left {left} events unapplied; see {log}")
        return waiting / (time.perf_counter() - start)
    finally:
        _stop(process)


def paid_count(config: dict[str, Any]) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            return int(conn.execute(
                text("SELECT count(*) FROM orders WHERE paid_at IS NOT NULL")).scalar() or 0)
    finally:
        engine.dispose()


# --- the section ------------------------------------------------------------------------


def _line(label: str, load: Load, hello: float, goal: float | None) -> str:
    ratio = load.rps / hello if hello else 0.0
    verdict = "" if goal is None else (f"goal >= {goal:.1f}x  " +
                                       ("met" if ratio >= goal else "NOT MET"))
    errors = f"  ({load.errors} errors)" if load.errors else ""
    return (f"{label:<18} {load.rps:8.0f} {hello:8.0f} {ratio:8.2f}x {load.p99_ms:8.1f}   "
            f"{verdict}{errors}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=Settings.seconds,
                        help="how long each page is driven (default %(default)s)")
    parser.add_argument("--connections", type=int, default=Settings.connections)
    parser.add_argument("--ingest-events", type=int, default=Settings.ingest_events)


def run(args: argparse.Namespace | None = None) -> list[str]:
    """Each page is measured between two hello runs; its ratio is to their mean.

    A machine shared with others changes speed from second to second: comparing each
    page with the hello measured right before and after it keeps that out of the ratio.
    """
    settings = Settings() if args is None else Settings(
        seconds=args.seconds, connections=args.connections, ingest_events=args.ingest_events)
    port, hello_port = settings.port, settings.port + 1
    with tempfile.TemporaryDirectory() as tmp, database(Path(tmp)) as url:
        log = Path(tmp) / "gunicorn.log"
        config = shop_config(url)
        cookie, orders = prepare(config, settings.ingest_events)
        env = {"BENCH_SHOP_CONFIG": json.dumps(config)}
        results: list[tuple[str, Load, float, float]] = []
        hellos: list[Load] = []
        try:
            with (gunicorn("bench.wsgi:hello_app()", hello_port, {}, log),
                  gunicorn("bench.wsgi:shop_app()", port, env, log)):
                drive(hello_port, "/", {}, Settings(seconds=1, port=port))  # warm up
                for _, path, with_cookie, _ in PAGES:  # the first views make caches, rows
                    for _ in range(4):
                        _request(port, "GET", path,
                                 {"Cookie": f"session={cookie}"} if with_cookie else {})
                hellos.append(drive(hello_port, "/", {}, settings))
                for label, path, with_cookie, goal in PAGES:
                    headers = {"Cookie": f"session={cookie}"} if with_cookie else {}
                    load = drive(port, path, headers, settings)
                    hellos.append(drive(hello_port, "/", {}, settings))
                    hello = statistics.mean([hellos[-2].rps, hellos[-1].rps])
                    results.append((label, load, hello, goal))
                hook = ingest(port, orders, settings)
            applied = apply_with_worker(env, config, log)
            paid = paid_count(config)
        except Exception:
            print(log.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            drop_task_queue(config)
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    redis = "Redis" if config["REDIS_URL"] else "no Redis"
    lines = [
        f"Donor pages under gunicorn -w 2 (sync), {backend}, {redis}; {generator_name()}, "
        f"{settings.connections} connections, {settings.seconds:g} s each, "
        f"each page between two hello runs",
        f"{'page':<18} {'req/s':>8} {'hello':>8} {'vs hello':>9} {'p99 ms':>8}",
    ]
    lines += [_line(label, load, hello, goal) for label, load, hello, goal in results]
    verdict = "met" if hook.rps >= INGEST_GOAL else "NOT MET"
    lines.append(
        f"webhook ingest, {len(orders)} distinct orders: {hook.rps:.0f} events/s, "
        f"p99 {hook.p99_ms:.1f} ms, {paid} orders paid, {hook.errors} errors "
        f"(goal >= {INGEST_GOAL:.0f}/s {verdict})")
    if applied is not None:
        lines.append(
            f"  stored by the webhook, then applied by a Celery worker ({WORKER_PROCESSES} "
            f"processes, started after ingest): {applied:.0f} events/s, worker start included")
    return lines
