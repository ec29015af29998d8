"""fulfilment.submit and fulfilment.submit_unit: packing orders to the partner (or by email).

The partner contract: POST FULFILMENT_URL with a JSON body {order_number, packages,
created_at, lines: [{bundle, quantity, packages, note}]}, `X-Signature: sha256=<hex
HMAC-SHA256 of the raw body under FULFILMENT_SECRET>` and `Idempotency-Key: <order
number>`. 2xx accepts it (an `id` in a JSON answer is kept as the reference); 409 means
the partner already has it; 408, 425, 429 and 5xx are retried; other 4xx need staff.
A unit's packing order is the same request with order number UNIT-0003, one line per
package with its donor's note, and "unit": 3.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
from datetime import datetime
from typing import Any

import requests
from celery import Task, shared_task
from flask import current_app

from shop.extensions import db
from shop.jobs import PACKING_ORDER_SUBMIT, UNIT_PACKING_ORDER_SUBMIT
from shop.notifications.packing_slips import packing_slip_message, unit_packing_slip_message
from shop.orders.models import Order, SideEffect
from shop.orders.side_effect_state import SideEffectKind
from shop.units import service as units
from shop.units.models import Unit
from tasks.side_effects import PermanentError, TransientError, perform, send_mail

log = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({408, 425, 429})


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def packing_order_body(order: Order) -> dict[str, Any]:
    """What the partner packs; no donor names or emails leave the shop."""
    lines = order.own_package_lines
    return {
        "order_number": order.number,
        "packages": sum(line.total_packages for line in lines),
        "created_at": _iso(order.created_at),
        "lines": [
            {
                "bundle": line.bundle_slug,
                "quantity": line.quantity,
                "packages": line.total_packages,
                # A note staff rejected (or have not yet approved) is never printed.
                "note": line.printed_note,
            }
            for line in lines
        ],
    }


def unit_packing_order_body(unit: Unit) -> dict[str, Any]:
    """One unit's ten-pack: a line per package, each with its own donor's note."""
    places = unit.funded_places
    return {
        "order_number": unit.order_number,
        "packages": len(places),
        "created_at": _iso(unit.filled_at or unit.created_at),
        "lines": [
            {"bundle": place.line.bundle_slug, "quantity": 1, "packages": 1,
             "note": place.note}
            for place in places
        ],
        "unit": unit.number,
    }


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post_to_partner(payload: dict[str, Any], url: str) -> tuple[str | None, str]:
    config = current_app.config
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    raw = body.encode()
    try:
        response = requests.post(
            url,
            data=raw,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Signature": signature(raw, config["FULFILMENT_SECRET"] or ""),
                "Idempotency-Key": str(payload["order_number"] or ""),
            },
            timeout=config["FULFILMENT_TIMEOUT"],
        )
    except requests.RequestException as exc:
        raise TransientError(f"partner unreachable: {type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if status == 409:
        return _reference(response), "Packing order already with the partner (409)"
    if 200 <= status < 300:
        reference = _reference(response)
        return reference, "Packing order accepted by the partner" + (
            f" as {reference}" if reference else ""
        )
    detail = f"partner answered {status}: {response.text[:200]!r}"
    if status >= 500 or status in RETRIED_STATUSES:
        raise TransientError(detail)
    raise PermanentError(detail)


def _reference(response: requests.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        log.warning("partner answered %s without JSON", response.status_code)
        return None
    if isinstance(data, dict) and data.get("id") is not None:
        return str(data["id"])[:255]
    return None


def _email_slip(order: Order, to: str) -> tuple[str | None, str]:
    message_id = send_mail(packing_slip_message(order, to))
    return message_id, f"Packing slip emailed to {to}"


def _to_console(body: dict[str, Any]) -> tuple[str | None, str]:
    """No partner configured: in development the packing order is printed, as mail is
    without MAIL_SERVER; in production it fails, for staff to see."""
    if current_app.config.get("APP_ENV") == "production":
        raise PermanentError("neither FULFILMENT_URL nor FULFILMENT_EMAIL is set")
    text = json.dumps(body, ensure_ascii=False, indent=2)
    sys.stdout.write(f"\n----- packing order (console) -----\n{text}\n"
                     "----- end of packing order -----\n")
    sys.stdout.flush()
    return None, "Packing order written to the console (no partner is set up)"


def _submit(effect: SideEffect) -> tuple[str | None, str]:
    order = effect.order
    assert order is not None  # a packing order belongs to an order
    if not order.own_package_lines:
        return None, "No packages in this order; nothing to pack"
    config = current_app.config
    if config.get("FULFILMENT_URL"):
        return _post_to_partner(packing_order_body(order), config["FULFILMENT_URL"])
    if config.get("FULFILMENT_EMAIL"):
        return _email_slip(order, config["FULFILMENT_EMAIL"])
    return _to_console(packing_order_body(order))


def _submit_unit(effect: SideEffect) -> tuple[str | None, str]:
    unit = db.session.get(Unit, effect.unit_id)
    if unit is None:
        raise PermanentError(f"no unit {effect.unit_id}")
    body = unit_packing_order_body(unit)
    if not body["lines"]:
        raise PermanentError(f"unit {unit.number} has no funded packages to pack")
    config = current_app.config
    if config.get("FULFILMENT_URL"):
        reference, message = _post_to_partner(body, config["FULFILMENT_URL"])
    elif config.get("FULFILMENT_EMAIL"):
        reference, message = _email_unit_slip(unit, body, config["FULFILMENT_EMAIL"])
    else:
        reference, message = _to_console(body)
    # Same transaction as the effect's "done": the unit and its packing order agree.
    units.mark_shipped(unit)
    return reference, f"Unit {unit.number}'s " + message[0].lower() + message[1:]


def _email_unit_slip(unit: Unit, body: dict[str, Any], to: str) -> tuple[str | None, str]:
    message_id = send_mail(unit_packing_slip_message(unit, to))
    return message_id, f"Packing slip for {body['packages']} packages emailed to {to}"


@shared_task(name=PACKING_ORDER_SUBMIT, bind=True, acks_late=True, ignore_result=True,
             max_retries=None)
def submit_packing_order(self: Task, effect_id: int) -> str:
    return perform(self, effect_id, SideEffectKind.PACKING_ORDER, _submit)


@shared_task(name=UNIT_PACKING_ORDER_SUBMIT, bind=True, acks_late=True, ignore_result=True,
             max_retries=None)
def submit_unit_packing_order(self: Task, effect_id: int) -> str:
    return perform(self, effect_id, SideEffectKind.UNIT_PACKING_ORDER, _submit_unit)
