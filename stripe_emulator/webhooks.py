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

from . import endpoints, versions
from .store import JSON, Attempt, Store

log = logging.getLogger(__name__)


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256(secret, "t.payload")>`, as Stripe sends it."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), f"{ts}.{payload}".encode(), hashlib.sha256)
    return f"t={ts},v1={mac.hexdigest()}"


def payload_of(event: JSON, store: Store | None = None, version: str | None = None) -> str:
    """The body Stripe posts: the event rendered in the endpoint's API version."""
    if store is not None and version is not None:
        event = versions.render(dict(event, api_version=version), version, store)
    return json.dumps(event, indent=2)


class Deliverer:
    """Sends each event to every endpoint subscribed to it, oldest event first.

    Attempts are kept per event and endpoint; a failed one is retried on the configured
    schedule, to that endpoint only.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cond = threading.Condition()
        # (due, seq, event id, endpoint id, generation)
        self._heap: list[tuple[float, int, str, str, int]] = []
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

    def _targets(self, event_id: str) -> list[str]:
        event = self.store.get(event_id, "event")
        if event is None:
            return []
        return [e["id"] for e in endpoints.subscribed(self.store, event["type"])]

    def _on_event(self, event_id: str) -> None:
        for endpoint_id in self._targets(event_id):
            self.store.add_destination(event_id, endpoint_id)
            if self.store.config.delivery_mode == "auto":
                self.schedule(event_id, endpoint_id, 0.0)

    def schedule(self, event_id: str, endpoint_id: str, delay: float) -> None:
        with self._cond:
            self._seq += 1
            due = time.monotonic() + delay
            heapq.heappush(self._heap, (due, self._seq, event_id, endpoint_id,
                                        self.store.generation))
            self._cond.notify_all()

    def schedule_unattempted(self) -> None:
        """Queue every event never sent to an endpoint now subscribed (leaving hold mode)."""
        store = self.store
        with store.lock:
            ids = [e["id"] for e in store.events]
        for event_id in ids:
            for endpoint_id in self._targets(event_id):
                with store.lock:
                    tried = any(a.endpoint == endpoint_id for a in store.attempts.get(event_id, []))
                if not tried:
                    store.add_destination(event_id, endpoint_id)
                    self.schedule(event_id, endpoint_id, 0.0)

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
                _, _, event_id, endpoint_id, generation = heapq.heappop(self._heap)
            try:
                self._auto_attempt(event_id, endpoint_id, generation)
            except Exception:  # the worker must survive any single failure
                log.exception("stripe emulator: webhook worker failed on %s", event_id)

    def _auto_attempt(self, event_id: str, endpoint_id: str, generation: int) -> None:
        store = self.store
        if generation != store.generation or store.delivered(event_id, endpoint_id):
            return
        if store.config.delivery_mode != "auto":
            return
        if store.take_webhook_drop():
            log.info("stripe emulator: dropping webhook delivery of %s (webhook_drop)", event_id)
            store.record_attempt(event_id, Attempt(at=time.time(), status=None,
                                                   error="dropped", dropped=True,
                                                   endpoint=endpoint_id))
            return
        attempt, _ = self.deliver_to(event_id, endpoint_id)
        if attempt.ok or attempt.error == "no such webhook endpoint":
            return
        with store.lock:
            tries = sum(1 for a in store.attempts.get(event_id, []) if a.endpoint == endpoint_id)
            delays = list(store.config.retry_delays) or [1.0]
            max_attempts = store.config.max_attempts
        if tries < max_attempts:
            self.schedule(event_id, endpoint_id, float(delays[min(tries - 1, len(delays) - 1)]))
        else:
            log.warning("stripe emulator: giving up on %s to %s after %d attempts", event_id,
                        endpoint_id, tries)

    # sending -----------------------------------------------------------------
    def deliver(self, event_id: str) -> list[tuple[Attempt, str]]:
        """POST one event now to every endpoint subscribed to it (the default one first)."""
        targets = self._targets(event_id)
        default = self.store.default_endpoint_id
        targets.sort(key=lambda endpoint_id: endpoint_id != default)
        results = []
        for endpoint_id in targets:
            self.store.add_destination(event_id, endpoint_id)
            results.append(self.deliver_to(event_id, endpoint_id))
        return results

    def deliver_to(self, event_id: str, endpoint_id: str) -> tuple[Attempt, str]:
        """POST one event now to one endpoint; records and returns the attempt and the body."""
        store = self.store
        with store.lock:
            event = store.objects.get(event_id)
            endpoint = store.get(endpoint_id, "webhook_endpoint")
            timeout = store.config.delivery_timeout
            if event is None or endpoint is None:
                return Attempt(at=time.time(), status=None, error="no such webhook endpoint",
                               endpoint=endpoint_id), ""
            url, version = endpoint["url"], endpoint["api_version"]
            secret = endpoints.secret_of(store, endpoint_id)
            body = payload_of(event, store, version)
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Stripe-Signature": sign(body, secret),
                   "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
        try:
            resp = requests.post(url, data=body.encode("utf-8"), headers=headers,
                                 timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            log.warning("stripe emulator: webhook %s to %s failed: %s", event_id, url, exc)
            attempt = Attempt(at=time.time(), status=None, error=str(exc), endpoint=endpoint_id)
            store.record_attempt(event_id, attempt)
            return attempt, ""
        attempt = Attempt(at=time.time(), status=resp.status_code, endpoint=endpoint_id)
        if not attempt.ok:
            log.warning("stripe emulator: webhook %s to %s answered %s", event_id, url,
                        resp.status_code)
        store.record_attempt(event_id, attempt)
        return attempt, resp.text[:2000]
