"""The donor's order page and its JSON twin, both reached by the order's secret token."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from shop.extensions import db
from shop.orders.models import Order
from shop.orders.service import get_order_by_token
from shop.orders.side_effect_state import SideEffectKind, SideEffectStatus
from shop.orders.state import OPEN, OrderStatus, label
from shop.payments.client import PaymentError
from shop.payments.service import confirm_on_return
from shop.units.service import OrderUnit, order_units, unit_fulfilment_status

log = logging.getLogger(__name__)

bp = Blueprint("orders", __name__)


def fulfilment_status(order: Order, units: list[OrderUnit] | None = None) -> str:
    """Where the care packages are: not_required, not_started, pending, accepted, ...

    An order whose packages all travel with units follows its units; "waiting_for_unit"
    means they are funded and the unit is still filling.
    """
    if not order.package_lines:
        return "not_required"
    if order.status == OrderStatus.FULFILLED:
        return "shipped"
    if not order.own_package_lines:
        return unit_fulfilment_status(order_units(order) if units is None else units)
    effect = order.side_effect(SideEffectKind.PACKING_ORDER)
    if effect is None:
        return "not_started"
    return "accepted" if effect.status == SideEffectStatus.DONE else str(effect.status)


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
            }
            for line in order.lines
        ],
        "refunded_cents": order.refunded_cents,
        "receipt_sent": receipt is not None and receipt.status == SideEffectStatus.DONE,
        "fulfilment_status": fulfilment_status(order, units),
        "units": [
            {"number": unit.number, "packages": unit.packages,
             "packages_funded": unit.packages_funded, "size": unit.size, "status": unit.status}
            for unit in units
        ],
    }


@bp.get("/orders/<token>")
def order_page(token: str) -> ResponseReturnValue:
    order = get_order_by_token(token)
    if order is None:
        abort(404)
    session_id = request.args.get("session_id", "")
    if order.status in OPEN and session_id.startswith("cs_"):
        try:
            if confirm_on_return(order, session_id):
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
        waiting=order.status in OPEN,
        units=order_units(order),
    )


@bp.get("/api/orders/<token>")
def order_api(token: str) -> ResponseReturnValue:
    order = get_order_by_token(token)
    if order is None:
        return jsonify(error={"code": "not_found", "message": "No such order."}), 404
    return jsonify(order_as_json(order))
