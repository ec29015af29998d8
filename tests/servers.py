"""Real servers for the tests: an SMTP server (aiosmtpd) and the packing partner's API."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps what it accepts and refuses on demand.

    It can be stopped (connections refused) and started again on the same port; what
    it received before is kept.
    """

    def __init__(self, port: int | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse_next = 0
        self.refusal = "451 4.3.0 Try again later"
        self.attempts = 0
        # Seconds to keep the client waiting for "250" after a message is kept: a window in
        # which the server has accepted it and the sender does not know yet.
        self.stall_after_accept = 0.0
        self._lock = threading.Lock()
        self._open = threading.Event()
        self._open.set()
        self.port = port or free_port()
        self.controller: Controller | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        while not self._open.is_set():  # held: the sender waits for our answer
            await asyncio.sleep(0.01)
        with self._lock:
            self.attempts += 1
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return self.refusal
            raw = envelope.content if isinstance(envelope.content, bytes) else b""
            message = message_from_bytes(raw, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
        if self.stall_after_accept:
            await asyncio.sleep(self.stall_after_accept)
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        # A stopped Controller cannot start again: each start gets a fresh one.
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    @contextmanager
    def held(self) -> Iterator[None]:
        """Answer no message until the block ends: whoever sends mail waits meanwhile."""
        self._open.clear()
        try:
            yield
        finally:
            self._open.set()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.refuse_next = 0
            self.attempts = 0
            self.stall_after_accept = 0.0

    def accepted(self, message_id: str) -> bool:
        with self._lock:
            return any(str(m["Message-ID"]) == message_id for m in self.messages)

    def to(self, address: str, kind: str | None = None) -> list[EmailMessage]:
        """Messages to `address`; with `kind`, only those whose X-Shop-Message is `kind`
        (a "receipt", or one of the messages a donor gets, such as "refund")."""
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])
                    and (kind is None or m["X-Shop-Message"] == kind)]


class MailLog:
    """The mail server's log of accepted messages over HTTP, as MAIL_LOG_URL expects:
    `GET /?message_id=<id>` answers `{"accepted": true|false}`."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink
        self.asked: list[str] = []
        log = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                [message_id] = parse_qs(urlsplit(self.path).query).get("message_id", [""])
                log.asked.append(message_id)
                body = json.dumps({"accepted": log.sink.accepted(message_id)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"

    def __enter__(self) -> MailLog:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def html_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    return body.get_content() if body is not None else ""


class PartnerServer:
    """The packing partner's API: checks the signature, dedupes by Idempotency-Key.

    Every POST is kept in `requests` with what the partner did with it (`outcome`):
    "accepted" (a new packing order), "duplicate" (refused with 409, the key was known),
    "failed" (answered an error without taking it) or "unsigned"; `sent()` counts, per
    order number, the POSTs that carried a whole packing order, taken or refused as a
    duplicate. `fail_next` answers 500 (or `fail_status`) to that many requests; `delay` sleeps
    before answering; `garbage` answers 200 with a body that is not JSON. `script` plays
    the next requests one step each: (seconds to stall, status to answer without taking
    the order, or None to handle it normally once the stall is over).
    """

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.accepted: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.fail_next = 0
        self.fail_status = 500
        self.delay = 0.0
        self.garbage = False
        self.script: list[tuple[float, int | None]] = []
        self.in_flight = 0
        self._lock = threading.Lock()
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                with partner._lock:
                    partner.in_flight += 1
                try:
                    partner._handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the shop gave up waiting (a timeout test)
                finally:
                    with partner._lock:
                        partner.in_flight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/packing-orders"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        key = request.headers.get("Idempotency-Key") or ""
        signed = hmac.compare_digest(expected, request.headers.get("X-Signature") or "")
        entry: dict[str, Any] = {"key": key, "signed": signed, "raw": raw, "outcome": None}
        with self._lock:
            self.requests.append(entry)
            step = self.script.pop(0) if self.script else None
            fail = step is None and self.fail_next > 0
            if fail:
                self.fail_next -= 1
            stall, status = step if step else (self.delay, self.fail_status if fail else None)
        if stall:
            time.sleep(stall)
        if not signed:
            entry["outcome"] = "unsigned"
            return self._answer(request, 401, {"error": "bad signature"})
        if status is not None:
            entry["outcome"] = "failed"
            return self._answer(request, status, {"error": "try later"})
        with self._lock:
            if key in self.accepted:
                entry["outcome"] = "duplicate"
                return self._answer(request, 409, {"id": self.accepted[key]["id"]})
            body = json.loads(raw)
            body["id"] = f"PK-{len(self.accepted) + 1:04d}"
            self.accepted[key] = body
            entry["outcome"] = "accepted"
        if self.garbage:
            return self._answer_raw(request, 200, b"<html>OK</html>")
        return self._answer(request, 201, {"id": body["id"], "status": "accepted"})

    def sent(self) -> Counter[str]:
        """Order number -> packing orders sent: POSTs taken, or refused as a duplicate."""
        with self._lock:
            return Counter(
                str(json.loads(r["raw"]).get("order_number")) for r in self.requests
                if r["outcome"] in ("accepted", "duplicate")
            )

    def _answer(self, request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        self._answer_raw(request, status, json.dumps(body).encode())

    @staticmethod
    def _answer_raw(request: BaseHTTPRequestHandler, status: int, raw: bytes) -> None:
        request.send_response(status)
        request.send_header("Content-Length", str(len(raw)))
        request.end_headers()
        request.wfile.write(raw)

    def start(self) -> PartnerServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        # A slow answer from the previous test must not land in this one.
        deadline = time.monotonic() + 10
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._lock:
            self.accepted.clear()
            self.requests.clear()
            self.fail_next = 0
            self.fail_status = 500
            self.delay = 0.0
            self.garbage = False
            self.script.clear()
