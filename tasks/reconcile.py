"""payments.reconcile: every 15 minutes, repair what Stripe knows and we missed."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from flask import current_app

from shop import jobs
from shop.extensions import db, utcnow
from shop.payments.client import PaymentError
from shop.payments.handlers import HANDLERS
from shop.payments.reconcile import reconcile

log = logging.getLogger(__name__)


@shared_task(name=jobs.RECONCILE, ignore_result=True)
def reconcile_recent() -> list[str]:
    window = timedelta(hours=current_app.config["RECONCILE_WINDOW_HOURS"])
    try:
        report = reconcile(utcnow() - window, handlers=HANDLERS, checkpoint=db.session.commit)
    except PaymentError as exc:
        db.session.rollback()
        log.warning("reconciliation stopped, Stripe unavailable: %s", exc)
        return [f"stopped: {exc}"]
    db.session.commit()
    for line in report.lines():
        log.info("reconciliation: %s", line)
    return report.lines()
