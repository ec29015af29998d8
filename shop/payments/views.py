"""The Stripe webhook endpoint: verify the raw body, record the event, answer fast."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import RequestEntityTooLarge

from shop import jobs
from shop.extensions import csrf, db, limiter
from shop.payments.client import (
    PaymentError,
    WebhookLivemodeError,
    WebhookSignatureError,
    verify_webhook,
)
from shop.payments.event_state import EventStatus
from shop.payments.events import (
    MalformedEvent,
    Outcome,
    apply_stored,
    receive_event,
    store_event,
)
from shop.payments.handlers import HANDLERS

log = logging.getLogger(__name__)

bp = Blueprint("payments", __name__)


def _error(code: str, message: str, status: int) -> ResponseReturnValue:
    return jsonify(error={"code": code, "message": message}), status


def _store_or_apply(event: dict[str, Any]) -> Outcome:
    """With a broker the event is stored and a worker applies it (Stripe's advice: answer
    fast, act asynchronously); without one, or when the broker cannot take the task, it
    is applied here and now. Commits."""
    if not jobs.has_broker():
        outcome = receive_event(event, HANDLERS)
        db.session.commit()
        return outcome
    outcome, row_id = store_event(event)
    db.session.commit()
    if row_id is None or jobs.send_now(jobs.EVENT_APPLY, row_id,
                                       otherwise="the webhook applies the event itself"):
        return outcome
    applied = apply_stored(row_id, HANDLERS)  # the sweep would, later; the donor waits less
    db.session.commit()
    return applied or outcome


def _read_body(limit: int) -> bytes:
    """The raw body, refused with 413 above `limit` bytes before more than that is read.

    A Content-Length above it is refused without reading; a chunked body is read at most
    `limit` + 1 bytes (werkzeug stops there; the extra byte tells "over" from "exactly").
    """
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    request.max_content_length = limit + 1
    payload = request.get_data(cache=False)
    if len(payload) > limit:
        raise RequestEntityTooLarge()
    return payload


@bp.post("/stripe/webhook")
@csrf.exempt  # type: ignore[untyped-decorator]
@limiter.exempt
def stripe_webhook() -> ResponseReturnValue:
    payload = _read_body(current_app.config["WEBHOOK_MAX_BYTES"])
    try:
        event = verify_webhook(payload, request.headers.get("Stripe-Signature"))
    except WebhookLivemodeError as exc:
        log.warning("stripe webhook refused: %s", exc)
        return _error("livemode_mismatch", f"Refused: {exc}.", 400)
    except WebhookSignatureError as exc:
        log.warning("stripe webhook refused: %s", exc)
        return _error("bad_signature", "The Stripe-Signature header did not verify.", 400)
    except ValueError as exc:
        log.warning("stripe webhook refused: body is not a Stripe event (%s)", exc)
        return _error("malformed_event", "The body is not a Stripe event.", 400)
    try:
        outcome = _store_or_apply(event)
    except OperationalError:
        # The database is away: answer non-2xx so Stripe delivers the event again.
        db.session.rollback()
        log.exception("stripe event %s could not be stored", event.get("id"))
        return _error("unavailable", "The shop could not store the event; retry later.", 503)
    except MalformedEvent as exc:
        # Signed, yet its object is not what Stripe sends: nothing is kept, and the
        # non-2xx shows on the endpoint's page in Stripe's dashboard.
        db.session.rollback()
        log.exception("stripe event %s refused: %s", event.get("id"), exc)
        return _error("malformed_event", "The event's object could not be read.", 400)
    except PaymentError as exc:
        # Stripe's API could not confirm what the event needs; nothing is kept, it comes again.
        db.session.rollback()
        log.warning("stripe event %s not applied yet: %s", event.get("id"), exc)
        return _error("unavailable", "Stripe could not be asked; retry later.", 503)
    body = {"received": True, "outcome": outcome.status, "detail": outcome.detail}
    if outcome.status == EventStatus.UNMATCHED:
        body["error"] = {"code": "unknown_order", "message": outcome.detail}
    if outcome.status == EventStatus.REFUSED:
        body["error"] = {"code": "unsupported_api_version", "message": outcome.detail}
    return jsonify(body), outcome.http_status
