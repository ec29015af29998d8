"""The Stripe webhook endpoint: verify the raw body, record the event, answer fast."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError

from shop.extensions import csrf, db, limiter
from shop.payments.client import PaymentError, WebhookSignatureError, verify_webhook
from shop.payments.events import receive_event
from shop.payments.handlers import HANDLERS

log = logging.getLogger(__name__)

bp = Blueprint("payments", __name__)


def _error(code: str, message: str, status: int) -> ResponseReturnValue:
    return jsonify(error={"code": code, "message": message}), status


@bp.post("/stripe/webhook")
@csrf.exempt
@limiter.exempt
def stripe_webhook() -> ResponseReturnValue:
    payload = request.get_data(cache=False)
    try:
        event = verify_webhook(payload, request.headers.get("Stripe-Signature"))
    except WebhookSignatureError as exc:
        log.warning("stripe webhook refused: %s", exc)
        return _error("bad_signature", "The Stripe-Signature header did not verify.", 400)
    except ValueError:
        log.warning("stripe webhook refused: body is not a Stripe event")
        return _error("malformed_event", "The body is not a Stripe event.", 400)
    try:
        outcome = receive_event(event, HANDLERS)
        db.session.commit()
    except OperationalError:
        # The database is away: answer non-2xx so Stripe delivers the event again.
        db.session.rollback()
        log.exception("stripe event %s could not be stored", event.get("id"))
        return _error("unavailable", "The shop could not store the event; retry later.", 503)
    except PaymentError as exc:
        # Stripe's API could not confirm what the event needs; nothing is kept, it comes again.
        db.session.rollback()
        log.warning("stripe event %s not applied yet: %s", event.get("id"), exc)
        return _error("unavailable", "Stripe could not be asked; retry later.", 503)
    body = {"received": True, "outcome": outcome.status, "detail": outcome.detail}
    if outcome.status == "unmatched":
        body["error"] = {"code": "unknown_order", "message": outcome.detail}
    if outcome.status == "refused":
        body["error"] = {"code": "unsupported_api_version", "message": outcome.detail}
    return jsonify(body), outcome.http_status
