"""events.apply: a worker applies a Stripe event the webhook stored (with a broker)."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from sqlalchemy.exc import OperationalError

from shop import jobs
from shop.extensions import db
from shop.payments.client import PaymentError
from shop.payments.events import MalformedEvent, apply_stored, set_aside
from shop.payments.handlers import HANDLERS

log = logging.getLogger(__name__)

RETRY_SECONDS = 30


@shared_task(name=jobs.EVENT_APPLY, bind=True, ignore_result=True, max_retries=3)
def apply_event(self: Task, row_id: int) -> str | None:
    """Apply stored event `row_id` once; what cannot be applied yet (Stripe or the
    database away) is tried again, and after the retries the sweep sends it again."""
    try:
        outcome = apply_stored(row_id, HANDLERS)
        db.session.commit()
    except MalformedEvent as exc:
        db.session.rollback()
        log.exception("stripe event row %s set aside: %s", row_id, exc)
        set_aside(row_id, str(exc))
        db.session.commit()
        return "ignored"
    except (PaymentError, OperationalError) as exc:
        db.session.rollback()
        log.warning("stripe event row %s not applied yet: %s", row_id, exc)
        if self.request.is_eager:
            return None  # in-process (the sweep without a broker): the next sweep tries
        raise self.retry(countdown=RETRY_SECONDS, exc=exc) from exc
    return str(outcome.status) if outcome is not None else None
