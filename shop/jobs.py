"""Enqueue tasks by name, only after the transaction that asked for them commits."""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
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
CHECKOUT_CEILING_ALERT = "alerts.checkout_ceiling"
EXPORT_BUILD = "exports.build"
EVENT_APPLY = "events.apply"
TASK_NAMES = (
    RECEIPT_SEND, PACKING_ORDER_SUBMIT, STAFF_ALERT_SEND, NOTICE_SEND, SWEEP_PENDING, RECONCILE,
    UNIT_PACKING_ORDER_SUBMIT, CAMPAIGN_CLOSE, EXPORT_BUILD, CHECKOUT_CEILING_ALERT,
    EVENT_APPLY,
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


def has_broker() -> bool:
    """True when tasks go to a broker (REDIS_URL) for workers, False when they run here."""
    celery: Celery = current_app.extensions["celery"]
    return not celery.conf.task_always_eager


def send_now(name: str, *args: Any, otherwise: str = "the sweep will send it again") -> bool:
    """Hand the task to Celery. Without a broker it runs in-process: during a request on
    the process's background thread (TASKS_IN_BACKGROUND), so the response never waits
    for a receipt's PDF or an email; elsewhere (the CLI, a task) here and now.

    A broker that is down is logged, not raised (False is returned): the row that
    asked for the task is still pending in the database, and the sweep sends it again
    later; `otherwise` says so in the log, or what the caller does instead.
    """
    celery: Celery = current_app.extensions["celery"]
    try:
        if not has_broker():
            if has_request_context() and current_app.config.get("TASKS_IN_BACKGROUND"):
                _background().submit(_run_logged, celery, name, args)
            else:
                _run(celery, name, args)
        else:
            celery.send_task(name, args=args)
    except Exception:
        log.exception("task %s%s not sent; %s", name, args, otherwise)
        return False
    return True


def _run(celery: Celery, name: str, args: tuple[Any, ...]) -> None:
    """Run a task in this thread (it pushes its own app context and database session)."""
    celery.loader.import_default_modules()
    celery.tasks[name].apply(args=args)  # a failure is on the task's result, not raised


def _run_logged(celery: Celery, name: str, args: tuple[Any, ...]) -> None:
    try:
        _run(celery, name, args)
    except Exception:  # nobody waits for this thread's result: say so in the log
        log.exception("task %s%s failed in the background; the sweep will send it again",
                      name, args)


# One thread per process runs the in-process tasks in the order they were asked for.
# Tasks are idempotent and their rows stay pending until done, so one lost with the
# process (killed before the queue drained) is sent again by the sweep; a normal exit
# waits for the queue (the executor's thread is joined at interpreter exit).
_executor: ThreadPoolExecutor | None = None
_executor_pid = 0
_executor_lock = threading.Lock()


def _background() -> ThreadPoolExecutor:
    global _executor, _executor_pid
    with _executor_lock:
        if _executor is None or _executor_pid != os.getpid():  # new, or forked (gunicorn)
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shop-tasks")
            _executor_pid = os.getpid()
        return _executor


def wait_for_background(timeout: float = 30.0) -> None:
    """Block until every in-process task asked for so far has run (tests, shutdown).

    Raises TimeoutError when they take longer than `timeout` seconds.
    """
    marker: Future[None] = _background().submit(lambda: None)
    marker.result(timeout=timeout)
