"""The webhook event log: each Stripe event stored once by its id, then handed to a handler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app

from shop.extensions import db, insert_unless_exists, utcnow
from shop.payments import client
from shop.payments.event_state import HANDLED, EventStatus, set_status
from shop.payments.models import StripeEvent
from shop.payments.versions import UNDERSTOOD_MAJORS, understood

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: EventStatus  # processed | ignored | duplicate | unmatched | refused
    detail: str
    order_number: str | None = None

    @property
    def http_status(self) -> int:
        # Unmatched and refused events answer 400 so Stripe delivers them again; we keep
        # them too (reconciliation and replay-event try them once more).
        return 400 if self.status in (EventStatus.UNMATCHED, EventStatus.REFUSED) else 200


Handler = Callable[[dict[str, Any], StripeEvent], Outcome]


class MalformedEvent(ValueError):
    """A signed event whose object lacks or mistypes a field the shop reads."""


# What a handler reading such an object raises (a missing key, a string for a number).
_MALFORMED = (KeyError, TypeError, ValueError, OverflowError, AttributeError)


def _claim(event: dict[str, Any]) -> StripeEvent:
    """The event's row, locked: inserted on first sight, else the stored one.

    One INSERT ... ON CONFLICT DO NOTHING: a concurrent twin waits on the unique key
    until the first delivery's transaction ends, then finds the row and its verdict.
    """
    created = event.get("created")
    inserted: StripeEvent | None = db.session.scalars(
        insert_unless_exists(StripeEvent, "stripe_id").values(
            stripe_id=event["id"], type=str(event["type"]),
            livemode=bool(event.get("livemode")),
            stripe_created=created if isinstance(created, int) else None,
            payload=event, status=EventStatus.RECEIVED, attempts=0, detail="",
        ).returning(StripeEvent)
    ).first()
    if inserted is not None:
        return inserted  # a row this transaction inserted is its own until it commits
    row: StripeEvent | None = db.session.scalar(
        db.select(StripeEvent).where(StripeEvent.stripe_id == event["id"]).with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:  # pragma: no cover - a conflict means a committed row: never deleted
        raise RuntimeError(f"stripe event {event['id']} conflicted but is not stored")
    return row


def _checked(row: StripeEvent, event: dict[str, Any]) -> Outcome | None:
    """The answer for an event not to be applied (handled already, version unread)."""
    if row.status in HANDLED:
        log.info("stripe event %s (%s) already handled", row.stripe_id, row.type)
        return Outcome(EventStatus.DUPLICATE, f"event already {row.status}")
    version = event.get("api_version")
    pinned = current_app.config["STRIPE_API_VERSION"]
    if not understood(version):
        return _refuse(row, version, pinned)
    if version != pinned:
        log.warning("stripe event %s (%s) is rendered in API version %s, the shop pins %s: "
                    "run `flask --app shop stripe-check`", row.stripe_id, row.type, version,
                    pinned)
    return None


def receive_event(event: dict[str, Any], handlers: dict[str, Handler]) -> Outcome:
    """Record and act on one verified event (no broker: in the request). Flushes; the
    caller commits."""
    row = _claim(event)
    return _checked(row, event) or process(row, event, handlers)


def store_event(event: dict[str, Any]) -> tuple[Outcome, int | None]:
    """Record one verified event for a worker to apply (a broker is configured): the
    answer, and the row's id when it is to be applied. Flushes; the caller commits.

    Stripe asks endpoints to answer quickly and act on events asynchronously; storing
    the event is all a delivery waits for, and its cost does not grow with the orders.
    A redelivery of an event kept unmatched is applied again.
    """
    row = _claim(event)
    answer = _checked(row, event)
    if answer is not None:
        return answer, None
    return Outcome(EventStatus.RECEIVED, "stored; a worker applies it"), row.id


def apply_stored(row_id: int, handlers: dict[str, Handler]) -> Outcome | None:
    """Apply a stored event (the worker's half of store_event); None when there is
    nothing to do (applied already, or refused). Flushes; the caller commits. Raises
    PaymentError when Stripe cannot confirm what the event needs (nothing is kept)."""
    row: StripeEvent | None = db.session.scalar(
        db.select(StripeEvent).where(StripeEvent.id == row_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None or row.status in HANDLED or not understood(row.payload.get("api_version")):
        return None
    return process(row, row.payload, handlers)


def set_aside(row_id: int, why: str) -> None:
    """A stored event no handler can read: kept as ignored, with why, so the sweep stops
    sending it (`flask --app shop replay-event` applies it once the cause is fixed).
    Flushes; the caller commits."""
    row = db.session.get(StripeEvent, row_id, with_for_update=True)
    if row is not None and row.status == EventStatus.RECEIVED:
        row.attempts += 1
        set_status(row, EventStatus.IGNORED)
        row.detail = why[:2000]
        row.processed_at = utcnow()


def waiting_to_apply(received_before: datetime, limit: int = 200) -> list[int]:
    """Stored events no worker has applied since `received_before` (the broker lost
    their task, or Stripe could not be asked): the sweep sends them again."""
    return list(db.session.scalars(
        db.select(StripeEvent.id)
        .where(StripeEvent.status == EventStatus.RECEIVED,
               StripeEvent.received_at < received_before)
        .order_by(StripeEvent.id).limit(limit)
    ))


def _refuse(row: StripeEvent, version: object, pinned: str) -> Outcome:
    """An event in a version the shop does not read: kept, answered non-2xx, never guessed."""
    row.attempts += 1
    set_status(row, EventStatus.REFUSED)
    row.detail = (f"rendered in API version {version or 'unknown'}, which the shop does not "
                  f"read ({', '.join(UNDERSTOOD_MAJORS)})")
    log.error(
        "stripe event %s (%s) refused: it is rendered in API version %s and the shop reads "
        "only %s, pinning %s. Fix the endpoint (flask --app shop stripe-check, then "
        "stripe-webhook-setup --recreate); the event is kept and is applied by "
        "`flask --app shop replay-event %s` or the next reconciliation.",
        row.stripe_id, row.type, version or "unknown", ", ".join(UNDERSTOOD_MAJORS), pinned,
        row.stripe_id)
    return Outcome(EventStatus.REFUSED, row.detail)


def refreshed(event: dict[str, Any]) -> dict[str, Any] | None:
    """The event with its object read again from Stripe in the pinned version, for an
    event rendered in a version the shop does not read. None when Stripe no longer has
    the object. Raises PaymentError when Stripe cannot be asked."""
    obj = event["data"]["object"]
    current = client.retrieve_object(str(obj.get("object")), str(obj.get("id")))
    if current is None:
        return None
    return event | {"api_version": current_app.config["STRIPE_API_VERSION"],
                    "data": {"object": current}}


class ReplayError(Exception):
    """The event cannot be replayed; the message says why."""


def replay(stripe_id: str, handlers: dict[str, Handler]) -> Outcome:
    """Apply again an event the shop kept without acting on it (ignored, unmatched, refused),
    or one that never reached it, fetched from Stripe. Flushes; the caller commits.
    Raises ReplayError, or PaymentError when Stripe cannot be asked."""
    row = db.session.scalar(
        db.select(StripeEvent).where(StripeEvent.stripe_id == stripe_id).with_for_update())
    if row is None:
        event = client.retrieve_event(stripe_id)
        if event is None:
            raise ReplayError(f"Stripe has no event {stripe_id} (it keeps events 30 days) and "
                              "the shop never received it.")
        row = _claim(event)
    if row.status == EventStatus.PROCESSED:
        raise ReplayError(f"Event {stripe_id} ({row.type}) was already processed: "
                          f"{row.detail}.")
    event = row.payload
    if not understood(event.get("api_version")):
        fresh = refreshed(event)
        if fresh is None:
            raise ReplayError(f"Stripe no longer has the {event['data']['object'].get('object')}"
                              f" of event {stripe_id}.")
        event = fresh
    return process(row, event, handlers)


def process(row: StripeEvent, event: dict[str, Any], handlers: dict[str, Handler]) -> Outcome:
    handler = handlers.get(row.type)
    if handler is None:
        outcome = Outcome(EventStatus.IGNORED, f"event type {row.type} is not used by the shop")
    else:
        try:
            outcome = handler(event, row)
        except _MALFORMED as exc:
            raise MalformedEvent(f"{row.type} {row.stripe_id} could not be read: "
                                 f"{type(exc).__name__}: {exc}") from exc
    # The row is changed only now, so it is written once, with the handler's changes.
    row.attempts += 1
    set_status(row, outcome.status)
    row.detail = outcome.detail
    if outcome.status not in (EventStatus.UNMATCHED, EventStatus.REFUSED):
        row.processed_at = utcnow()
    log.info(
        "stripe event %s %s: %s (%s) order=%s",
        row.stripe_id, row.type, outcome.status, outcome.detail, outcome.order_number,
    )
    return outcome


def unmatched_events(limit: int = 100) -> list[StripeEvent]:
    """Events kept because their order was unknown or their version unread, claimed for
    another try."""
    return list(
        db.session.scalars(
            db.select(StripeEvent)
            .where(StripeEvent.status.in_((EventStatus.UNMATCHED, EventStatus.REFUSED)))
            .order_by(StripeEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
