"""`python -m bench`: time and memory of the shop's hot paths, as ratios to a baseline.

Each figure is measured against a baseline taken in the same run on the same machine, so
the ratios compare like with like:
- a webhook event in the embedded default (verify, store, mark paid, then the receipt
  with its PDF built and written to the console in-process) vs. GET /healthz;
- building one receipt PDF alone vs. GET /healthz;
- the storefront page vs. GET /healthz;
- peak memory of streaming the staff CSV of 5,000 orders vs. 500 orders (streaming keeps
  memory flat, so the ratio should stay near 1, not 10).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import logging
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import stripe

from shop import create_app
from shop.catalog.service import seed_winter_campaign
from shop.config import DEFAULT_STRIPE_API_VERSION
from shop.extensions import db
from shop.notifications.pdf import receipt_pdf
from shop.orders import service as orders
from shop.orders.models import Order
from shop.staff.service import create_or_update_staff

SECRET = "whsec_bench"


def _app(tmp: Path) -> object:
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
        "STRIPE_WEBHOOK_SECRET": SECRET, "RATELIMIT_ENABLED": False, "REDIS_URL": None,
        "MAIL_SERVER": None, "FULFILMENT_URL": None, "FULFILMENT_EMAIL": None,
        # The webhook line times the receipt too: run it before the response.
        "TASKS_IN_BACKGROUND": False,
    })
    with app.app_context():
        db.create_all()
        seed_winter_campaign("usd")
        db.session.commit()
    return app


def _timed(run: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _orders(app: object, count: int) -> None:
    with app.app_context():  # type: ignore[attr-defined]
        for i in range(count):
            orders.place_order(
                orders.gift_lines(3600, 0), email=f"donor{i}@example.org", name=f"Donor {i}",
                currency="usd",
            )
        db.session.commit()


def _event(order_id: int, number: str, n: int) -> bytes:
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


def bench_requests(tmp: Path) -> list[str]:
    app = _app(tmp)
    client = app.test_client()  # type: ignore[attr-defined]
    _orders(app, 300)
    baseline = _timed(lambda: client.get("/healthz"), 300)
    storefront = _timed(lambda: client.get("/"), 100)
    counter = iter(range(1, 301))

    def webhook() -> None:
        n = next(counter)
        body = _event(n, f"CP-{n:06d}", n)
        header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET)
        response = client.post("/stripe/webhook", data=body,
                               headers={"Stripe-Signature": header})
        assert response.status_code == 200, response.get_data(as_text=True)

    with contextlib.redirect_stdout(io.StringIO()):  # the console mail backend
        hook = _timed(webhook, 100)
    with app.app_context():  # type: ignore[attr-defined]
        order = db.session.get(Order, 1)
        pdf = _timed(lambda: receipt_pdf(order), 20)
    return [
        f"baseline GET /healthz                    {baseline * 1000:8.2f} ms      1.0x",
        f"GET / (storefront)                       {storefront * 1000:8.2f} ms "
        f"{storefront / baseline:8.1f}x",
        f"webhook, paid + receipt sent in-process  {hook * 1000:8.2f} ms "
        f"{hook / baseline:8.1f}x",
        f"receipt PDF alone                        {pdf * 1000:8.2f} ms "
        f"{pdf / baseline:8.1f}x",
    ]


def _csv_peak(count: int, tmp: Path) -> int:
    app = _app(tmp)
    _orders(app, count)
    with app.app_context():  # type: ignore[attr-defined]
        create_or_update_staff("bench@example.org", "viewer", "winter-ledger-figures-42")
        db.session.commit()
    client = app.test_client()  # type: ignore[attr-defined]
    client.post("/staff/login", data={"email": "bench@example.org",
                                      "password": "winter-ledger-figures-42"})
    tracemalloc.start()
    response = client.get("/staff/orders.csv", buffered=False)
    rows = sum(chunk.count(b"\n") for chunk in response.response)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert rows == count + 1, rows
    return peak


def bench_csv_memory() -> list[str]:
    with tempfile.TemporaryDirectory() as small_dir, tempfile.TemporaryDirectory() as big_dir:
        small = _csv_peak(500, Path(small_dir))
        big = _csv_peak(5000, Path(big_dir))
    return [
        f"CSV export peak memory, 500 orders (baseline) {small / 1024:7.0f} KiB      1.0x",
        f"CSV export peak memory, 5000 orders           {big / 1024:7.0f} KiB "
        f"{big / small:8.1f}x",
    ]


def in_process(_args: argparse.Namespace) -> list[str]:
    """The figures above, in this process through Flask's test client, on SQLite."""
    with tempfile.TemporaryDirectory() as tmp:
        lines = bench_requests(Path(tmp))
    return lines + bench_csv_memory()


# The sections `make bench` prints, in order: a name for --only, and a module with
# run(args) -> lines to print (and, if it takes options, add_arguments(parser)).
SECTIONS: list[tuple[str, str]] = [
    ("in-process", "bench.__main__"),
    ("served", "bench.served"),
]


def _section(module_name: str) -> Any:
    if module_name == "bench.__main__":
        return sys.modules[__name__]
    return importlib.import_module(module_name)


def run(args: argparse.Namespace) -> list[str]:
    return in_process(args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", choices=[name for name, _ in SECTIONS],
                        help="run only this section (may be given more than once)")
    modules = [(name, _section(module)) for name, module in SECTIONS]
    for _, module in modules:
        if hasattr(module, "add_arguments"):
            module.add_arguments(parser)
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)
    for name, module in modules:
        if args.only and name not in args.only:
            continue
        print("\n".join(module.run(args)), flush=True)
        print()


if __name__ == "__main__":
    main()
