"""sweeps.pending: re-send every side effect still pending past its deadline."""

from __future__ import annotations

import logging

from celery import shared_task

from shop import jobs
from shop.extensions import db, utcnow
from shop.orders import side_effects

log = logging.getLogger(__name__)


@shared_task(name=jobs.SWEEP_PENDING, ignore_result=True)
def send_pending_side_effects() -> int:
    due = side_effects.due_for_sweep(utcnow())
    for effect in due:
        jobs.enqueue(db.session(), side_effects.TASKS[effect.kind], effect.id)
    db.session.commit()  # the enqueues go out after this commit
    if due:
        log.info("sweep: sent %s overdue side effects again", len(due))
    return len(due)
