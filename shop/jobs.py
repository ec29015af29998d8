"""Enqueue tasks by name, only after the transaction that asked for them commits."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# Task names: the only link between `shop` and the Celery tasks in `tasks/`.
RECEIPT_SEND = "receipts.send"
PACKING_ORDER_SUBMIT = "fulfilment.submit"
STAFF_ALERT_SEND = "alerts.send"
NOTICE_SEND = "notices.send"
SWEEP_PENDING = "sweeps.pending"
RECONCILE = "payments.reconcile"
UNIT_PACKING_ORDER_SUBMIT = "fulfilment.submit_unit"
CAMPAIGN_CLOSE = "campaign.close"
EXPORT_BUILD = "exports.build"
TASK_NAMES = (
    RECEIPT_SEND, PACKING_ORDER_SUBMIT, STAFF_ALERT_SEND, NOTICE_SEND, SWEEP_PENDING, RECONCILE,
    UNIT_PACKING_ORDER_SUBMIT, CAMPAIGN_CLOSE, EXPORT_BUILD,
)

_KEY = "shop_jobs"


def enqueue(session: Session, name: str, *args: Any) -> None:
    """Ask for task `name(*args)` once this session's transaction commits."""
    if name not in TASK_NAMES:
        raise ValueError(f"unknown task {name!r}")
    session.info.setdefault(_KEY, []).append((name, args))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # only a savepoint was released; the jobs wait for the real commit
    jobs = session.info.pop(_KEY, [])
    for name, args in jobs:
        send_now(name, *args)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction: Any) -> None:
    if session.in_transaction():
        return  # only a savepoint rolled back; the outer transaction may still commit
    session.info.pop(_KEY, None)


def send_now(name: str, *args: Any) -> bool:
    """Hand the task to Celery. Without a broker it runs here and now, in-process.

    A broker that is down is logged, not raised: the row that asked for the task is
    still pending in the database, and the sweep sends it again later.
    """
    celery: Celery = current_app.extensions["celery"]
    try:
        if celery.conf.task_always_eager:
            celery.loader.import_default_modules()
            celery.tasks[name].apply(args=args)
        else:
            celery.send_task(name, args=args)
    except Exception:
        log.exception("task %s%s not sent; the sweep will send it again", name, args)
        return False
    return True
