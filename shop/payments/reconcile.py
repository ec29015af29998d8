"""Reconciliation: ask Stripe what happened recently and repair what the webhooks missed."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shop.extensions import db, utcnow
from shop.orders.models import Order
from shop.orders.service import flag_for_review
from shop.orders.state import OPEN, OrderStatus, record_event
from shop.payments import client
from shop.payments.events import Handler, process, unmatched_events
from shop.payments.service import (
    apply_dispute,
    apply_refunded_charge,
    apply_session,
    find_order_for_payment,
    find_order_for_session,
)

log = logging.getLogger(__name__)

SOURCE = "reconciliation"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """'2d', '6h', '30m' -> timedelta; ValueError with a readable message otherwise."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a duration like 2d, 6h or 30m")
    value = int(match.group(1))
    if value <= 0:
        raise ValueError("the duration must be more than zero")
    return timedelta(**{_UNITS[match.group(2)]: value})


@dataclass
class Report:
    sessions: int = 0
    refunds: int = 0
    disputes: int = 0
    events_retried: int = 0
    repaired: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"checked {self.sessions} checkout sessions, {self.refunds} refunds, "
            f"{self.disputes} disputes; retried {self.events_retried} kept events",
            *(f"repaired: {line}" for line in self.repaired),
            *(f"flagged for staff: {line}" for line in self.flagged),
        ]


def _note(order: Order, report: Report, what: str) -> None:
    record_event(order, "reconciliation", f"Reconciliation: {what}", actor="reconciliation")
    report.repaired.append(f"{order.number}: {what}")


def reconcile(
    since: datetime, *, handlers: dict[str, Handler], checkpoint: Callable[[], None]
) -> Report:
    """Compare Stripe's recent sessions, refunds and disputes with our orders and repair.

    `checkpoint` ends the unit of work after each order (the caller commits), so a
    failure half-way keeps what was repaired. Raises PaymentError when Stripe is away.
    """
    report = Report()
    since_ts = int(since.timestamp())
    confirmed: set[str] = set()

    for session in client.recent_sessions(since_ts, "complete"):
        report.sessions += 1
        order = find_order_for_session(session)
        if order is None:
            continue
        if session.payment_status in ("paid", "no_payment_required"):
            confirmed.add(session.id)
        before = order.status
        if apply_session(session, order, kind="completed", source=SOURCE):
            _note(order, report, f"{before} -> {order.status}, the webhook never came")
        checkpoint()

    for session in client.recent_sessions(since_ts, "expired"):
        report.sessions += 1
        order = find_order_for_session(session)
        if order is not None and order.status in OPEN:
            before = order.status
            if apply_session(session, order, kind="expired", source=SOURCE):
                _note(order, report, f"{before} -> expired, the checkout expired unpaid")
        checkpoint()

    for refund in client.recent_refunds(since_ts):
        report.refunds += 1
        if not refund.charge_id or not refund.payment_intent_id:
            continue
        order = find_order_for_payment(refund.payment_intent_id).order
        if order is not None:
            was = order.status
            charge = client.retrieve_charge(refund.charge_id)
            if apply_refunded_charge(charge, order, source=SOURCE):
                _note(order, report, f"refund {refund.id} applied ({was} -> {order.status})")
        checkpoint()

    for dispute in client.recent_disputes(since_ts):
        report.disputes += 1
        if not dispute.payment_intent_id:
            continue
        order = find_order_for_payment(dispute.payment_intent_id).order
        if order is not None:
            before_status = order.status
            if apply_dispute(dispute, order, source=SOURCE):
                _note(order, report, f"dispute {dispute.id} applied ({before_status} -> "
                                     f"{order.status})")
        checkpoint()

    _check_orders_we_think_paid(since, confirmed, report, checkpoint)
    _close_stale_pending(report, checkpoint)

    for row in unmatched_events():
        report.events_retried += 1
        process(row, row.payload, handlers)
        checkpoint()
    return report


def _check_orders_we_think_paid(
    since: datetime, confirmed: set[str], report: Report, checkpoint: Callable[[], None]
) -> None:
    paid = db.session.scalars(
        db.select(Order.id).where(
            Order.paid_at >= since, Order.status.in_((OrderStatus.PAID, OrderStatus.FULFILLED))
        )
    ).all()
    for order_id in paid:
        order = db.session.get(Order, order_id)
        if order is None or order.stripe_session_id in confirmed or not order.stripe_session_id:
            continue
        session = client.retrieve_checkout_session(order.stripe_session_id)
        if session.payment_status not in ("paid", "no_payment_required"):
            reason = (f"We show this order paid, but Stripe's checkout session is "
                      f"{session.status}/{session.payment_status}")
            if flag_for_review(order, reason, actor="reconciliation"):
                report.flagged.append(f"{order.number}: {reason}")
        checkpoint()


def _close_stale_pending(report: Report, checkpoint: Callable[[], None]) -> None:
    """Pending orders older than a Checkout Session can live: ask Stripe how they ended."""
    cutoff = utcnow() - timedelta(hours=25)
    stale = db.session.scalars(
        db.select(Order.id).where(
            Order.status.in_(OPEN), Order.created_at < cutoff,
            Order.stripe_session_id.is_not(None),
        )
    ).all()
    for order_id in stale:
        order = db.session.get(Order, order_id)
        if order is None or order.stripe_session_id is None:
            continue
        session = client.retrieve_checkout_session(order.stripe_session_id)
        locked = find_order_for_session(session)
        if locked is None:
            continue
        before = locked.status
        kind = {"complete": "completed", "expired": "expired"}.get(session.status or "")
        if kind and apply_session(session, locked, kind=kind, source=SOURCE):
            _note(locked, report, f"{before} -> {locked.status}")
        checkpoint()
