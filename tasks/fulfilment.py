"""fulfilment.submit: the packing order to the partner (signed JSON, or a slip by email).

The partner contract: POST FULFILMENT_URL with a JSON body {order_number, packages,
created_at, lines: [{bundle, quantity, packages, note}]}, `X-Signature: sha256=<hex
HMAC-SHA256 of the raw body under FULFILMENT_SECRET>` and `Idempotency-Key: <order
number>`. 2xx accepts it (an `id` in a JSON answer is kept as the reference); 409 means
the partner already has it; 408, 425, 429 and 5xx are retried; other 4xx need staff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import requests
from celery import Task, shared_task
from flask import current_app

from shop.jobs import PACKING_ORDER_SUBMIT
from shop.notifications.mailer import MailError, send
from shop.notifications.packing_slips import packing_slip_message
from shop.orders.models import Order, SideEffect
from shop.orders.side_effects import PACKING_ORDER
from tasks.side_effects import PermanentError, TransientError, perform

log = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({408, 425, 429})


def packing_order_body(order: Order) -> dict[str, Any]:
    """What the partner packs; no donor names or emails leave the shop."""
    lines = order.package_lines
    return {
        "order_number": order.number,
        "packages": sum(line.total_packages for line in lines),
        "created_at": order.created_at.isoformat().replace("+00:00", "Z"),
        "lines": [
            {
                "bundle": line.bundle_slug,
                "quantity": line.quantity,
                "packages": line.total_packages,
                "note": line.note,
            }
            for line in lines
        ],
    }


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post_to_partner(order: Order, url: str) -> tuple[str | None, str]:
    config = current_app.config
    body = json.dumps(packing_order_body(order), ensure_ascii=False, separators=(",", ":"))
    raw = body.encode()
    try:
        response = requests.post(
            url,
            data=raw,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Signature": signature(raw, config["FULFILMENT_SECRET"] or ""),
                "Idempotency-Key": order.number or "",
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
    try:
        message_id = send(packing_slip_message(order, to))
    except MailError as exc:
        raise (TransientError if exc.transient else PermanentError)(str(exc)) from exc
    return message_id, f"Packing slip emailed to {to}"


def _submit(effect: SideEffect) -> tuple[str | None, str]:
    order = effect.order
    if not order.package_lines:
        return None, "No packages in this order; nothing to pack"
    config = current_app.config
    if config.get("FULFILMENT_URL"):
        return _post_to_partner(order, config["FULFILMENT_URL"])
    if config.get("FULFILMENT_EMAIL"):
        return _email_slip(order, config["FULFILMENT_EMAIL"])
    raise PermanentError("neither FULFILMENT_URL nor FULFILMENT_EMAIL is set")


@shared_task(name=PACKING_ORDER_SUBMIT, bind=True, acks_late=True, ignore_result=True,
             max_retries=None)
def submit_packing_order(self: Task, effect_id: int) -> str:
    return perform(self, effect_id, PACKING_ORDER, _submit)
