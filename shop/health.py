"""/healthz (the process is up) and /readyz (its database and broker answer)."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shop.extensions import db, limiter, utcnow
from shop.payments.endpoint import cached_check
from shop.payments.events import waiting_to_apply

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


def _events_waiting() -> bool:
    """With a broker a worker applies the events the webhook stored; none overdue means
    one is running (an indexed look at the few rows still `received`)."""
    deadline = timedelta(seconds=current_app.config["SIDE_EFFECT_DEADLINE"])
    try:
        return bool(waiting_to_apply(utcnow() - deadline, limit=1))
    except SQLAlchemyError as exc:
        log.warning("readyz: stored events: %s", exc)
        return False
    finally:
        db.session.rollback()


@bp.get("/healthz")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz() -> ResponseReturnValue:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("select 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        log.warning("readyz: database: %s", exc)
        checks["database"] = "unavailable"
    finally:
        db.session.rollback()
    if current_app.config.get("REDIS_URL"):
        try:
            with current_app.extensions["celery"].connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any broker failure means not ready
            log.warning("readyz: broker: %s", exc)
            checks["broker"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    stalled = _events_waiting() if checks["database"] == "ok" else False
    # Drift of Stripe's webhook endpoint is a warning, never unready: the shop still works,
    # some events may not arrive. Read from a cache refreshed in the background.
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # for its thread
    webhook, warnings = cached_check(app).read(app)
    if stalled:
        warnings = [*warnings, "Stripe events stored more than SIDE_EFFECT_DEADLINE seconds "
                    "ago are not applied yet: is a Celery worker running?"]
    return jsonify(status="ok" if ready else "unavailable", checks=checks,
                   stripe_webhook=webhook, warnings=warnings), 200 if ready else 503
