"""The donor's order page and its JSON twin, both reached by the order's secret token."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from shop.extensions import db, utcnow
from shop.orders.fulfilment_state import FulfilmentStatus
from shop.orders.models import Order, OrderLine
from shop.orders.service import get_order_by_token
from shop.orders.side_effect_state import SideEffectKind, SideEffectStatus
from shop.orders.state import OPEN, OrderStatus, label
from shop.payments.client import PaymentError
from shop.payments.service import confirm_on_return
from shop.security_headers import no_store
from shop.text import mask_email
from shop.units.service import OrderUnit, order_units, unit_fulfilment_status

log = logging.getLogger(__name__)

bp = Blueprint("orders", __name__)


def fulfilment_status(order: Order, units: list[OrderUnit] | None = None) -> FulfilmentStatus:
    """Where the care packages are: not_required, not_started, pending, accepted, ...

    An order whose packages all travel with units follows its units; "waiting_for_unit"
    means they are funded and the unit is still filling.
    """
    if not order.package_lines:
        return FulfilmentStatus.NOT_REQUIRED
    if order.status == OrderStatus.FULFILLED:
        return FulfilmentStatus.SHIPPED
    if not order.own_package_lines:
        return unit_fulfilment_status(order_units(order) if units is None else units)
    effect = order.side_effect(SideEffectKind.PACKING_ORDER)
    if effect is None:
        return FulfilmentStatus.NOT_STARTED
    if effect.status == SideEffectStatus.DONE:
        return FulfilmentStatus.ACCEPTED
    return FulfilmentStatus(str(effect.status))


# How often the page reloads while a payment Stripe has not confirmed is likely to be
# confirmed soon (the donor has just come back from Checkout); after that it stays still.
REFRESH_STEPS = ((timedelta(minutes=2), 3), (timedelta(minutes=30), 15))


def refresh_seconds(order: Order, now: datetime) -> int | None:
    """Seconds between reloads of the order page, or None to leave it still.

    Only a pending order young enough for Stripe's answer to be on its way reloads: a bank
    payment (awaiting_payment) takes days and its receipt is announced by email instead.
    """
    if order.status != OrderStatus.PENDING:
        return None
    age = now - order.created_at
    return next((seconds for window, seconds in REFRESH_STEPS if age < window), None)


def line_dedication(line: OrderLine) -> dict[str, str] | None:
    """{"type": "honor" | "memory", "name"} for a dedicated gift line, else None."""
    if line.dedication_type and line.dedication_name:
        return {"type": line.dedication_type, "name": line.dedication_name}
    return None


def order_as_json(order: Order) -> dict[str, Any]:
    receipt = order.side_effect(SideEffectKind.RECEIPT)
    units = order_units(order)
    return {
        "number": order.number,
        "status": order.status,
        "total_cents": order.total_cents,
        "currency": order.currency,
        "packages": order.packages,
        "lines": [
            {
                "name": line.name,
                "quantity": line.quantity,
                "packages": line.total_packages,
                "price_cents": line.unit_price_cents,
                "note": line.note,
                "dedication": line_dedication(line),
            }
            for line in order.lines
        ],
        "refunded_cents": order.refunded_cents,
        "receipt_sent": receipt is not None and receipt.status == SideEffectStatus.DONE,
        "receipt_email": mask_email(order.email),
        "fulfilment_status": fulfilment_status(order, units),
        "units": [
            {"number": unit.number, "packages": unit.packages,
             "packages_funded": unit.packages_funded, "size": unit.size, "status": unit.status}
            for unit in units
        ],
    }


@bp.get("/orders/<token>")
@no_store
def order_page(token: str) -> ResponseReturnValue:
    order = get_order_by_token(token)
    if order is None:
        abort(404)
    session_id = request.args.get("session_id", "")
    if order.status in OPEN and session_id.startswith("cs_"):
        try:
            # The page's read ends before Stripe is asked: on SQLite an open transaction
            # holds the database's one write lock, and every other donor would wait too.
            if confirm_on_return(order, session_id, before_asking=db.session.rollback):
                db.session.commit()
            else:
                db.session.rollback()
        except PaymentError as exc:
            db.session.rollback()
            log.info("order %s: could not confirm on return: %s", order.number, exc)
        order = get_order_by_token(token) or order
    return render_template(
        "storefront/order.html",
        order=order,
        status_label=label(order.status),
        refresh_seconds=refresh_seconds(order, utcnow()),
        receipt=order.side_effect(SideEffectKind.RECEIPT),
        receipt_email=mask_email(order.email),
        units=order_units(order),
    )


@bp.get("/api/orders/<token>")
@no_store
def order_api(token: str) -> ResponseReturnValue:
    order = get_order_by_token(token)
    if order is None:
        return jsonify(error={"code": "not_found", "message": "No such order."}), 404
    return jsonify(order_as_json(order))
