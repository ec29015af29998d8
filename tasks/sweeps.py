"""sweeps.pending: re-send every side effect still pending past its deadline, and every
stored Stripe event no worker has applied."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from flask import current_app

from shop import jobs
from shop.extensions import db, utcnow
from shop.orders import side_effects
from shop.payments import events

log = logging.getLogger(__name__)


@shared_task(name=jobs.SWEEP_PENDING, ignore_result=True)
def send_pending_side_effects() -> int:
    now = utcnow()
    due = side_effects.due_for_sweep(now)
    for effect in due:
        jobs.enqueue(db.session(), side_effects.TASKS[effect.kind], effect.id)
    deadline = timedelta(seconds=current_app.config["SIDE_EFFECT_DEADLINE"])
    waiting = events.waiting_to_apply(now - deadline)
    for row_id in waiting:
        jobs.enqueue(db.session(), jobs.EVENT_APPLY, row_id)
    db.session.commit()  # the enqueues go out after this commit
    if due:
        log.info("sweep: sent %s overdue side effects again", len(due))
    if waiting:
        log.info("sweep: sent %s stored Stripe events to be applied again", len(waiting))
    return len(due) + len(waiting)
