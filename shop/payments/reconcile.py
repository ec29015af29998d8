"""Reconciliation: ask Stripe what happened recently and repair what the webhooks missed."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shop.donations.models import MonthlyGift
from shop.donations.state import PlanStatus
from shop.extensions import db, utcnow
from shop.orders.models import Order
from shop.orders.service import flag_for_review, lock_order_where
from shop.orders.state import CLOSED, OPEN, OrderStatus, record_event
from shop.orders.timeline import EventKind, PlanEventKind
from shop.payments import client, monthly
from shop.payments.client import CheckoutSession, Invoice, Subscription
from shop.payments.event_state import EventStatus
from shop.payments.events import Handler, process, refreshed, unmatched_events
from shop.payments.service import (
    apply_dispute,
    apply_refund,
    apply_session,
    find_order_for_payment,
    find_order_for_session,
)
from shop.text import row_id

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
    invoices: int = 0
    subscriptions: int = 0
    events_retried: int = 0
    repaired: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"checked {self.sessions} checkout sessions, {self.refunds} refunds, "
            f"{self.disputes} disputes, {self.invoices} invoices, {self.subscriptions} "
            f"ended subscriptions; retried {self.events_retried} kept events",
            *(f"repaired: {line}" for line in self.repaired),
            *(f"flagged for staff: {line}" for line in self.flagged),
        ]


def _note(order: Order, report: Report, what: str) -> None:
    record_event(order, EventKind.RECONCILIATION, f"Reconciliation: {what}", actor="reconciliation")
    report.repaired.append(f"{order.number}: {what}")


def _note_plan(plan: MonthlyGift, report: Report, what: str) -> None:
    plan.record(PlanEventKind.RECONCILIATION, f"Reconciliation: {what}", actor="reconciliation")
    report.repaired.append(f"monthly gift {plan.id}: {what}")


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
        if session.mode == "subscription":
            _repair_plan_start(session, report)
            checkpoint()
            continue
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
            if apply_refund(refund, order, source=SOURCE):
                _note(order, report, f"refund {refund.id} ({refund.status}) applied ({was} -> "
                                     f"{order.status})")
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

    _reconcile_later_outcomes(since_ts, report, checkpoint)
    _reconcile_monthly(since_ts, report, checkpoint)
    _check_orders_we_think_paid(since, confirmed, report, checkpoint)
    _close_stale_pending(report, checkpoint)

    for row in unmatched_events():
        report.events_retried += 1
        event: dict[str, Any] | None = row.payload
        if row.status == EventStatus.REFUSED:  # its version is not read: its object, again
            event = refreshed(row.payload)
        if event is not None:
            process(row, event, handlers)
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


# Refunds and disputes change after they were made (a refund fails, a dispute closes):
# listed by their events, so an old refund or dispute whose last webhook was lost is seen.
LATER_OUTCOMES = ["charge.refund.updated", "charge.dispute.updated", "charge.dispute.closed"]


def _reconcile_later_outcomes(since_ts: int, report: Report,
                              checkpoint: Callable[[], None]) -> None:
    seen: set[str] = set()
    for _type, kind, object_id in client.recent_event_objects(since_ts, LATER_OUTCOMES):
        if object_id in seen:
            continue
        seen.add(object_id)
        if kind == "refund":
            report.refunds += 1
            refund = client.retrieve_refund(object_id)
            if refund is None or not refund.payment_intent_id:
                continue
            order = find_order_for_payment(refund.payment_intent_id).order
            if order is not None:
                was = order.status
                if apply_refund(refund, order, source=SOURCE):
                    _note(order, report, f"refund {refund.id} is {refund.status} ({was} -> "
                                         f"{order.status}); the webhook never came")
        elif kind == "dispute":
            report.disputes += 1
            dispute = client.retrieve_dispute(object_id)
            if not dispute.payment_intent_id:
                continue
            order = find_order_for_payment(dispute.payment_intent_id).order
            if order is not None:
                was = order.status
                if apply_dispute(dispute, order, source=SOURCE):
                    _note(order, report, f"dispute {dispute.id} is {dispute.status} ({was} -> "
                                         f"{order.status}); the webhook never came")
        checkpoint()


def _repair_plan_start(session: CheckoutSession, report: Report) -> None:
    plan = monthly.find_plan(session.subscription_id, session.monthly_gift_id)
    if plan is not None and plan.status == PlanStatus.PENDING and (
            monthly.apply_completed_session(session, plan, source=SOURCE)):
        _note_plan(plan, report, "started; the webhook never came")


def _reconcile_monthly(since_ts: int, report: Report, checkpoint: Callable[[], None]) -> None:
    """Monthly giving: recent invoices (paid, and open after a failed charge), invoices
    paid lately whatever their age, and subscriptions Stripe ended; each repair goes on
    the gift order's and the plan's timeline."""
    seen: set[str] = set()
    for invoice in client.recent_invoices(since_ts, "paid"):
        report.invoices += 1
        seen.add(invoice.id)
        _repair_paid_invoice(invoice, report)
        checkpoint()
    for invoice in client.recent_invoices(since_ts, "open"):
        report.invoices += 1
        if invoice.attempted:
            _repair_failed_invoice(invoice, report)
        checkpoint()
    ended: set[str] = set()
    for type_, _kind, object_id in client.recent_event_objects(
            since_ts, ["invoice.paid", "customer.subscription.deleted"]):
        if type_ == "invoice.paid" and object_id not in seen:
            seen.add(object_id)  # an older invoice paid lately (e.g. after its plan ended)
            report.invoices += 1
            invoice = client.retrieve_invoice(object_id)
            if invoice.status == "paid":
                _repair_paid_invoice(invoice, report)
        elif type_ == "customer.subscription.deleted" and object_id not in ended:
            ended.add(object_id)
            report.subscriptions += 1
            subscription = client.retrieve_subscription(object_id)
            if subscription is not None:
                _repair_ended(subscription, report)
        checkpoint()


def _repair_paid_invoice(invoice: Invoice, report: Report) -> None:
    plan, _ = monthly.find_plan_asking_stripe(invoice.subscription_id, invoice.monthly_gift_id)
    if plan is None:
        return  # not a monthly gift of the shop
    known = lock_order_where(Order.stripe_invoice_id == invoice.id)
    if known is not None and known.status not in OPEN | CLOSED:
        return
    before = known.status if known is not None else None
    order = monthly.apply_invoice_paid(invoice, plan, source=SOURCE)
    if before is None:
        what = (f"gift {order.number} made for paid invoice {invoice.id} "
                f"({order.status}); the webhook never came")
    elif order.status != before:
        what = f"invoice {invoice.id} paid: {before} -> {order.status}; the webhook never came"
    else:
        return
    _note(order, report, what)
    plan.record(PlanEventKind.RECONCILIATION, f"Reconciliation: {order.number}: {what}",
                actor="reconciliation")


def _repair_failed_invoice(invoice: Invoice, report: Report) -> None:
    plan, _ = monthly.find_plan_asking_stripe(invoice.subscription_id, invoice.monthly_gift_id)
    if plan is None or lock_order_where(Order.stripe_invoice_id == invoice.id) is not None:
        return
    order = monthly.apply_invoice_failed(invoice, plan, source=SOURCE)
    if order is None:
        return  # the plan ended: nothing waits for this invoice
    what = f"the charge for invoice {invoice.id} failed; the webhook never came"
    _note(order, report, what)
    plan.record(PlanEventKind.RECONCILIATION, f"Reconciliation: {order.number}: {what}",
                actor="reconciliation")


def _repair_ended(subscription: Subscription, report: Report) -> None:
    if subscription.status not in ("canceled", "incomplete_expired"):
        return
    raw = subscription.metadata.get("monthly_gift_id")
    plan, _ = monthly.find_plan_asking_stripe(subscription.id,
                                              row_id(raw))
    if plan is None or plan.status == PlanStatus.CANCELLED:
        return
    monthly.apply_subscription_deleted(subscription, plan, source=SOURCE)
    _note_plan(plan, report, f"subscription {subscription.id} ended at Stripe "
                             f"({plan.cancel_reason}); the webhook never came")
