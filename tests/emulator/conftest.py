"""Fixtures for the Stripe emulator tests: a live server, a StripeClient and a webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import stripe

from stripe_emulator import EmulatorConfig, EmulatorServer

from .helpers import WEBHOOK_SECRET, Receiver


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(EmulatorConfig(retry_delays=[0.05, 0.1], max_attempts=3)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(emulator: EmulatorServer) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_emulator", base_addresses={"api": emulator.url},
                               max_network_retries=0)


@pytest.fixture
def ctl(emulator: EmulatorServer) -> Callable[..., Any]:
    """`ctl("POST", "/faults", {...})` -> decoded JSON of a control call (asserts 2xx)."""

    def call(method: str, path: str, body: dict[str, Any] | None = None,
             expect: int = 200) -> Any:
        resp = requests.request(method, f"{emulator.url}/_emulator{path}", json=body or {},
                                timeout=10)
        assert resp.status_code == expect, resp.text
        return resp.json()

    return call


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with rec.lock:
                rec.received.append((body, self.headers.get("Stripe-Signature", "")))
                rec.paths.append(self.path)
                status = rec.statuses.pop(0) if rec.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"nope")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_port}/stripe/webhook"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhooks(ctl: Callable[..., Any], receiver: Receiver) -> Receiver:
    """The emulator configured to deliver to `receiver` automatically."""
    ctl("POST", "/config", {"webhook_url": receiver.url, "webhook_secret": WEBHOOK_SECRET})
    return receiver
