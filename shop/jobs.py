"""Enqueue tasks by name, only after the transaction that asked for them commits."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import Celery
from flask import current_app, has_request_context
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
TASK_NAMES = (
    RECEIPT_SEND, PACKING_ORDER_SUBMIT, STAFF_ALERT_SEND, NOTICE_SEND, SWEEP_PENDING, RECONCILE,
    UNIT_PACKING_ORDER_SUBMIT, CAMPAIGN_CLOSE,
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
    """Hand the task to Celery. Without a broker it runs in this process: asked for by a
    request, on the background thread (TASKS_IN_PROCESS=thread); else here and now.

    A broker that is down is logged, not raised: the row that asked for the task is
    still pending in the database, and the sweep sends it again later.
    """
    celery: Celery = current_app.extensions["celery"]
    try:
        if celery.conf.task_always_eager:
            celery.loader.import_default_modules()
            # Off the request only: a command (`flask sweep`) or a task already on the
            # thread runs what it asks for itself, and ends only when it is done.
            if current_app.config.get("TASKS_IN_PROCESS") == "thread" and has_request_context():
                _background().submit(_run, celery, name, args)
            else:
                celery.tasks[name].apply(args=args)
        else:
            celery.send_task(name, args=args)
    except Exception:
        log.exception("task %s%s not sent; the sweep will send it again", name, args)
        return False
    return True


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _background() -> ThreadPoolExecutor:
    """The process's one task thread, created on first use."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shop-tasks")
        return _executor


def _run(celery: Celery, name: str, args: tuple[Any, ...]) -> None:
    # The task pushes its own app context (celery_init_app); a failure is logged there
    # and its row stays pending for the sweep.
    result = celery.tasks[name].apply(args=args)
    if result.failed():
        log.error("task %s%s failed in-process: %r", name, args, result.result)
