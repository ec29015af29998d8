"""Webhook signing (Stripe-Signature v1) and delivery with retries from a background worker."""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import logging
import threading
import time

import requests

from .store import JSON, Attempt, Store

log = logging.getLogger(__name__)


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256(secret, "t.payload")>`, as Stripe sends it."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), f"{ts}.{payload}".encode(), hashlib.sha256)
    return f"t={ts},v1={mac.hexdigest()}"


def payload_of(event: JSON) -> str:
    return json.dumps(event, indent=2)


class Deliverer:
    """Sends events to the configured URL, in creation order, one at a time."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, str, int]] = []  # (due, seq, event id, generation)
        self._seq = 0
        self._stopped = False
        self._thread: threading.Thread | None = None
        store.on_event = self._on_event

    # scheduling --------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stopped = False
            self._thread = threading.Thread(target=self._run, name="stripe-emulator-webhooks",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _on_event(self, event_id: str) -> None:
        cfg = self.store.config
        if cfg.delivery_mode == "auto" and cfg.webhook_url:
            self.schedule(event_id, 0.0)

    def schedule(self, event_id: str, delay: float) -> None:
        with self._cond:
            self._seq += 1
            due = time.monotonic() + delay
            heapq.heappush(self._heap, (due, self._seq, event_id, self.store.generation))
            self._cond.notify_all()

    def schedule_unattempted(self) -> None:
        """Queue every event that was never sent (used when leaving hold mode)."""
        with self.store.lock:
            ids = [e["id"] for e in self.store.events if not self.store.attempts.get(e["id"])]
        for event_id in ids:
            self.schedule(event_id, 0.0)

    def clear(self) -> None:
        with self._cond:
            self._heap.clear()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    if self._heap and self._heap[0][0] <= time.monotonic():
                        break
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, event_id, generation = heapq.heappop(self._heap)
            try:
                self._auto_attempt(event_id, generation)
            except Exception:  # the worker must survive any single failure
                log.exception("stripe emulator: webhook worker failed on %s", event_id)

    def _auto_attempt(self, event_id: str, generation: int) -> None:
        store = self.store
        if generation != store.generation or store.delivered(event_id):
            return
        if store.config.delivery_mode != "auto" or not store.config.webhook_url:
            return
        if store.take_webhook_drop():
            log.info("stripe emulator: dropping webhook delivery of %s (webhook_drop)", event_id)
            store.record_attempt(event_id, Attempt(at=time.time(), status=None,
                                                   error="dropped", dropped=True))
            return
        attempt, _ = self.deliver(event_id)
        if attempt.ok:
            return
        with store.lock:
            tries = len(store.attempts.get(event_id, []))
            delays = list(store.config.retry_delays) or [1.0]
            max_attempts = store.config.max_attempts
        if tries < max_attempts:
            self.schedule(event_id, float(delays[min(tries - 1, len(delays) - 1)]))
        else:
            log.warning("stripe emulator: giving up on %s after %d attempts", event_id, tries)

    # sending -----------------------------------------------------------------
    def deliver(self, event_id: str) -> tuple[Attempt, str]:
        """POST one event now; records and returns the attempt and the response body."""
        store = self.store
        with store.lock:
            event = store.objects.get(event_id)
            url, secret = store.config.webhook_url, store.config.webhook_secret or ""
            timeout = store.config.delivery_timeout
            body = payload_of(event) if event is not None else ""
        if event is None or not url:
            attempt = Attempt(at=time.time(), status=None, error="no webhook_url configured")
            return attempt, ""
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Stripe-Signature": sign(body, secret),
                   "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
        try:
            resp = requests.post(url, data=body.encode("utf-8"), headers=headers,
                                 timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            log.warning("stripe emulator: webhook %s to %s failed: %s", event_id, url, exc)
            attempt = Attempt(at=time.time(), status=None, error=str(exc))
            store.record_attempt(event_id, attempt)
            return attempt, ""
        attempt = Attempt(at=time.time(), status=resp.status_code)
        if not attempt.ok:
            log.warning("stripe emulator: webhook %s to %s answered %s", event_id, url,
                        resp.status_code)
        store.record_attempt(event_id, attempt)
        return attempt, resp.text[:2000]
