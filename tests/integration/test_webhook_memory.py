"""A 600 MB body posted to /stripe/webhook is refused before a gunicorn worker holds it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from tests.gunicorn_server import Gunicorn, environment, memory_kib

BODY_BYTES = 600 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)
# "A few MB": what handling a few requests may add to a warmed-up worker.
ALLOWED_GROWTH_KIB = 5 * 1024


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    tmp = tmp_path_factory.mktemp("webhook-memory")
    server = Gunicorn(environment(
        DATABASE_URL=f"sqlite:///{tmp / 'shop.db'}", STRIPE_WEBHOOK_SECRET="whsec_memory_test",
        WEBHOOK_MAX_BYTES=256 * 1024,
    ), tmp / "gunicorn.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _post(port: int, headers: str, body: Iterator[bytes]) -> tuple[bytes, int]:
    """Send the request, stopping once the server answers; returns (answer, bytes sent)."""
    answer = bytearray()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    answered = threading.Event()

    def read() -> None:
        try:
            while chunk := sock.recv(65536):
                answer.extend(chunk)
                if b"\r\n\r\n" in answer:
                    answered.set()
        except OSError:
            pass
        answered.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sent = 0
    try:
        sock.sendall(headers.encode())
        for piece in body:
            if answered.is_set():
                break
            sock.sendall(piece)
            sent += len(piece)
    except OSError:
        pass  # the server closed the connection on a body it refused: expected
    answered.wait(timeout=30)
    reader.join(timeout=30)  # the server closes the connection once it has answered
    sock.close()
    return bytes(answer), sent


def _declared_body() -> Iterator[bytes]:
    for _ in range(BODY_BYTES // len(CHUNK)):
        yield CHUNK


def _chunked_body() -> Iterator[bytes]:
    frame = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n"
    for _ in range(BODY_BYTES // len(CHUNK)):
        yield frame
    yield b"0\r\n\r\n"


def _warm_up(server: Gunicorn) -> int:
    """A small refused webhook, so the worker has imported and allocated what it needs."""
    [worker] = server.worker_pids()
    for _ in range(3):
        answer, _ = _post(server.port, "POST /stripe/webhook HTTP/1.1\r\nHost: shop\r\n"
                          "Content-Type: application/json\r\nContent-Length: 2\r\n"
                          "Stripe-Signature: t=1,v1=00\r\nConnection: close\r\n\r\n",
                          iter([b"{}"]))
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    return worker


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_600_mb_webhook_is_refused_without_the_worker_growing(shop: Gunicorn,
                                                                framing: str) -> None:
    worker = _warm_up(shop)
    before = memory_kib(worker)
    if framing == "content-length":
        headers = (f"POST /stripe/webhook HTTP/1.1\r\nHost: shop\r\nContent-Type: "
                   f"application/json\r\nContent-Length: {BODY_BYTES}\r\n"
                   "Stripe-Signature: t=1,v1=00\r\n\r\n")
        answer, sent = _post(shop.port, headers, _declared_body())
    else:
        headers = ("POST /stripe/webhook HTTP/1.1\r\nHost: shop\r\nContent-Type: "
                   "application/json\r\nTransfer-Encoding: chunked\r\n"
                   "Stripe-Signature: t=1,v1=00\r\n\r\n")
        answer, sent = _post(shop.port, headers, _chunked_body())
    after = memory_kib(worker)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"request_entity_too_large" in answer
    assert shop.worker_pids() == [worker]  # the same worker answered and lives on
    grown, peak_grown = after["VmRSS"] - before["VmRSS"], after["VmHWM"] - before["VmHWM"]
    print(f"{framing}: sent {sent / 2**20:.0f} MiB of {BODY_BYTES / 2**20:.0f} MiB before the "
          f"refusal; worker RSS {before['VmRSS']} -> {after['VmRSS']} KiB, "
          f"peak {before['VmHWM']} -> {after['VmHWM']} KiB")
    assert grown < ALLOWED_GROWTH_KIB
    assert peak_grown < ALLOWED_GROWTH_KIB
