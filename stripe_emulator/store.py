"""Thread-safe in-memory state: objects, events, deliveries, idempotency, faults, config."""

from __future__ import annotations

import copy
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

JSON = dict[str, Any]
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """A random Stripe-style id such as `pi_3Qx...`."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass
class EmulatorConfig:
    """Runtime settings; most can be changed through `POST /_emulator/config`."""

    webhook_url: str | None = None
    webhook_secret: str | None = None
    delivery_mode: str = "auto"  # "auto" | "hold"
    retry_delays: list[float] = field(default_factory=lambda: [1.0, 2.0, 4.0, 8.0])
    max_attempts: int = 5
    delivery_timeout: float = 5.0
    public_url: str | None = None
    # The account's default API version: what requests without `Stripe-Version` get and
    # what events are created in. The version stripe-python 16.1.0 pins.
    api_version: str = "2026-10-28.endive"
    # The default endpoint made from webhook_url: its event types and API version
    # (None: the account's default).
    webhook_events: list[str] = field(default_factory=lambda: ["*"])
    webhook_api_version: str | None = None

    def to_json(self) -> JSON:
        return asdict(self)


@dataclass
class Fault:
    """An injected failure for the next `count` matching /v1 requests."""

    method: str = "*"
    path_prefix: str = "/v1/"
    status: int | None = 500
    count: int = 1
    delay: float = 0.0
    error_type: str = "api_error"
    message: str | None = None
    code: str | None = None  # e.g. amount_too_large
    param: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and path.startswith(self.path_prefix)


@dataclass
class IdempotencyRecord:
    """What Stripe keeps per (api key, Idempotency-Key)."""

    method: str
    path: str
    params: JSON
    status: int | None = None  # None while the first request is still executing
    body: JSON | None = None


@dataclass
class Attempt:
    """One webhook delivery attempt of an event."""

    at: float
    status: int | None
    error: str | None = None
    dropped: bool = False
    endpoint: str | None = None  # the webhook endpoint's id

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Store:
    """All emulator state behind one re-entrant lock."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.lock = threading.RLock()
        self.config = config or EmulatorConfig()
        self.on_event: Callable[[str], None] | None = None
        self.generation = 0
        self._seq = 0
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.generation += 1
            self.objects: dict[str, JSON] = {}
            self.order: dict[str, int] = {}
            self.line_items: dict[str, list[JSON]] = {}
            self.extra: dict[str, JSON] = {}  # emulator-only facts per object id
            self.events: list[JSON] = []  # oldest first
            self.attempts: dict[str, list[Attempt]] = {}
            # The webhook endpoints each event was sent (or is to be sent) to.
            self.destinations: dict[str, set[str]] = {}
            self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
            self.faults: list[Fault] = []
            self.webhook_drop = 0
            self.default_endpoint_id: str | None = None
            # Refunds created through the API while this is above zero stay pending.
            self.pending_refunds = 0

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self.lock:
            yield

    @staticmethod
    def now() -> int:
        return int(time.time())

    # objects -----------------------------------------------------------------
    def put(self, obj: JSON) -> JSON:
        with self.lock:
            if obj["id"] not in self.order:
                self._seq += 1
                self.order[obj["id"]] = self._seq
            self.objects[obj["id"]] = obj
            return obj

    def get(self, obj_id: str, kind: str | None = None) -> JSON | None:
        with self.lock:
            obj = self.objects.get(obj_id)
            if obj is None or (kind is not None and obj.get("object") != kind):
                return None
            return obj

    def snapshot(self, obj_id: str) -> JSON | None:
        with self.lock:
            obj = self.objects.get(obj_id)
            return copy.deepcopy(obj) if obj is not None else None

    def all_of(self, kind: str) -> list[JSON]:
        """Objects of one type, newest first (creation order breaks same-second ties)."""
        with self.lock:
            found = [o for o in self.objects.values() if o.get("object") == kind]
            found.sort(key=lambda o: self.order[o["id"]], reverse=True)
            return found

    # events ------------------------------------------------------------------
    def add_event(
        self,
        event_type: str,
        obj: JSON,
        request: JSON | None = None,
        previous: JSON | None = None,
    ) -> JSON:
        with self.lock:
            data: JSON = {"object": copy.deepcopy(obj)}
            if previous is not None:
                data["previous_attributes"] = copy.deepcopy(previous)
            event: JSON = {
                "api_version": self.config.api_version,
                "created": self.now(),
                "data": data,
                "id": new_id("evt_1", 24),
                "livemode": False,
                "object": "event",
                "pending_webhooks": 0,  # set by the deliverer, one per endpoint sent to
                "request": dict(request) if request else {"id": None, "idempotency_key": None},
                "type": event_type,
            }
            self.put(event)
            self.events.append(event)
            self.attempts[event["id"]] = []
            if self.on_event is not None:
                self.on_event(event["id"])
            return event

    def delivered(self, event_id: str, endpoint: str | None = None) -> bool:
        """Every endpoint that was sent the event (or this one) took it at its last try."""
        with self.lock:
            last: dict[str | None, Attempt] = {}
            for attempt in self.attempts.get(event_id) or []:
                last[attempt.endpoint] = attempt
            if endpoint is not None:
                return endpoint in last and last[endpoint].ok
            return bool(last) and all(a.ok for a in last.values())

    def record_attempt(self, event_id: str, attempt: Attempt) -> None:
        with self.lock:
            if event_id not in self.attempts:
                return  # dropped by a reset
            self.attempts[event_id].append(attempt)
            event = self.objects.get(event_id)
            if event is not None:
                event["pending_webhooks"] = sum(
                    1 for endpoint in self.destinations.get(event_id, ())
                    if not self.delivered(event_id, endpoint))

    def add_destination(self, event_id: str, endpoint_id: str) -> None:
        with self.lock:
            if event_id not in self.attempts:
                return
            self.destinations.setdefault(event_id, set()).add(endpoint_id)
            event = self.objects.get(event_id)
            if event is not None and not self.delivered(event_id, endpoint_id):
                event["pending_webhooks"] = sum(
                    1 for endpoint in self.destinations[event_id]
                    if not self.delivered(event_id, endpoint))

    # faults ------------------------------------------------------------------
    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
            return None

    def take_webhook_drop(self) -> bool:
        with self.lock:
            if self.webhook_drop > 0:
                self.webhook_drop -= 1
                return True
            return False

    def summary(self) -> JSON:
        with self.lock:
            counts: dict[str, int] = {}
            for obj in self.objects.values():
                counts[obj["object"]] = counts.get(obj["object"], 0) + 1
            undelivered = sum(1 for e in self.events if not self.delivered(e["id"]))
            return {
                "objects": counts,
                "sessions": counts.get("checkout.session", 0),
                "refunds": counts.get("refund", 0),
                "events": len(self.events),
                "undelivered_events": undelivered,
                "idempotency_records": len(self.idempotency),
                "faults": [asdict(f) for f in self.faults],
                "webhook_drop": self.webhook_drop,
            }
