"""The webhook event log: each Stripe event stored once by its id, then handed to a handler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from shop.extensions import db, utcnow
from shop.payments.event_state import HANDLED, EventStatus, set_status
from shop.payments.models import StripeEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: EventStatus  # processed | ignored | duplicate | unmatched
    detail: str
    order_number: str | None = None

    @property
    def http_status(self) -> int:
        # Unmatched events answer 400 so Stripe delivers them again; we keep them too.
        return 400 if self.status == EventStatus.UNMATCHED else 200


Handler = Callable[[dict[str, Any], StripeEvent], Outcome]


def _claim(event: dict[str, Any]) -> StripeEvent:
    """The event's row, locked; created on first sight. Concurrent twins wait here."""
    query = (
        db.select(StripeEvent).where(StripeEvent.stripe_id == event["id"]).with_for_update()
        .execution_options(populate_existing=True)
    )
    row = db.session.scalar(query)
    if row is not None:
        return row
    created = event.get("created")
    try:
        with db.session.begin_nested():
            row = StripeEvent(
                stripe_id=event["id"],
                type=str(event["type"]),
                livemode=bool(event.get("livemode")),
                stripe_created=created if isinstance(created, int) else None,
                payload=event,
            )
            db.session.add(row)
    except IntegrityError:
        # Another delivery of the same event inserted it first; wait for its verdict.
        row = db.session.scalar(query)
        if row is None:  # pragma: no cover - the other insert rolled back and vanished
            raise
    return row


def receive_event(event: dict[str, Any], handlers: dict[str, Handler]) -> Outcome:
    """Record and act on one verified event. Flushes; the caller commits."""
    row = _claim(event)
    if row.status in HANDLED:
        log.info("stripe event %s (%s) already handled", row.stripe_id, row.type)
        return Outcome(EventStatus.DUPLICATE, f"event already {row.status}")
    return process(row, event, handlers)


def process(row: StripeEvent, event: dict[str, Any], handlers: dict[str, Handler]) -> Outcome:
    row.attempts += 1
    handler = handlers.get(row.type)
    if handler is None:
        outcome = Outcome(EventStatus.IGNORED, f"event type {row.type} is not used by the shop")
    else:
        outcome = handler(event, row)
    set_status(row, outcome.status)
    row.detail = outcome.detail
    if outcome.status != EventStatus.UNMATCHED:
        row.processed_at = utcnow()
    log.info(
        "stripe event %s %s: %s (%s) order=%s",
        row.stripe_id, row.type, outcome.status, outcome.detail, outcome.order_number,
    )
    return outcome


def unmatched_events(limit: int = 100) -> list[StripeEvent]:
    """Events kept because their order was unknown, claimed for another try."""
    return list(
        db.session.scalars(
            db.select(StripeEvent)
            .where(StripeEvent.status == EventStatus.UNMATCHED)
            .order_by(StripeEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
