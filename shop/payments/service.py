"""Apply what Stripe reports to orders: find the order, confirm payment, refunds, disputes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from shop.orders import service as orders
from shop.orders.models import Order
from shop.orders.state import CLOSED, OPEN
from shop.payments import client
from shop.payments.client import CheckoutSession, Dispute

log = logging.getLogger(__name__)

ACTOR = "stripe"


class Lookup(NamedTuple):
    order: Order | None
    ours: bool  # the payment was made through the shop's checkout


def find_order_for_session(session: CheckoutSession) -> Order | None:
    """The order a checkout session pays for, locked; None when we have no such order."""
    order_id = session.order_id
    if order_id is None:
        return None
    order = orders.lock_order(order_id)
    if order is None:
        return None
    number = session.metadata.get("order_number")
    if number and number != order.number:
        return None  # an id from another database (e.g. a reset test shop)
    return order


def find_order_for_payment(payment_intent_id: str) -> Lookup:
    """The order behind a PaymentIntent, locked. Asks Stripe when we have not linked it yet.

    Raises PaymentError when Stripe cannot be asked; the caller answers so that the
    event is delivered again.
    """
    order = orders.lock_order_where(Order.stripe_payment_intent_id == payment_intent_id)
    if order is not None:
        return Lookup(order, True)
    order_id = client.payment_intent_order_id(payment_intent_id)
    if order_id is not None:
        return Lookup(orders.lock_order(order_id), True)
    # A monthly gift's payment carries no order id: its invoice names the gift order.
    invoice_id = client.invoice_for_payment_intent(payment_intent_id)
    if invoice_id is None:
        return Lookup(None, False)
    order = orders.lock_order_where(Order.stripe_invoice_id == invoice_id)
    if order is None:
        return Lookup(None, False)
    if order.stripe_payment_intent_id is None:
        order.stripe_payment_intent_id = payment_intent_id
    return Lookup(order, True)


def apply_session(session: CheckoutSession, order: Order, *, kind: str, source: str) -> bool:
    """Move the order as a checkout session event of this kind says. Idempotent."""
    report = orders.PaymentReport(
        session_id=session.id,
        payment_intent_id=session.payment_intent_id,
        amount_cents=session.amount_total,
        currency=session.currency,
        source=source,
    )
    if kind in ("completed", "async_payment_succeeded"):
        if session.payment_status in ("paid", "no_payment_required"):
            return orders.mark_paid(order, report, actor=ACTOR)
        if kind == "completed" and session.payment_status == "unpaid":
            return orders.mark_awaiting_payment(order, report, actor=ACTOR)
        return False
    if kind == "async_payment_failed":
        return orders.mark_failed(order, report, actor=ACTOR)
    if kind == "expired":
        return orders.mark_expired(order, report, actor=ACTOR)
    raise ValueError(f"unknown checkout session event kind {kind}")


def confirm_payment_first(order: Order, payment_intent_id: str, *, source: str) -> None:
    """A refund or dispute for an order we still think open: its payment happened first.

    Events arrive in any order; asking Stripe for the session records the payment (and
    its receipt and packing order) before the refund or dispute is applied to it.
    """
    if order.status not in OPEN and order.status not in CLOSED:
        return
    for session in client.sessions_for_payment_intent(payment_intent_id):
        if session.order_id == order.id and session.status == "complete":
            apply_session(session, order, kind="completed",
                          source=f"{source}, payment confirmed with Stripe")
            return


def apply_refunded_charge(charge: client.Charge, order: Order, *, source: str) -> bool:
    """Record the charge's refunded total; re-read from Stripe so a stale payload cannot win."""
    refunded = charge.amount_refunded
    try:
        refunded = max(refunded, client.retrieve_charge(charge.id).amount_refunded)
    except client.PaymentError as exc:
        log.info("charge %s not re-read (%s); using the event's amount", charge.id, exc)
    if charge.payment_intent_id:
        confirm_payment_first(order, charge.payment_intent_id, source=source)
    return orders.record_refunds(order, refunded, source=source, actor=ACTOR)


FINAL_DISPUTE = {"won": True, "warning_closed": True, "lost": False}


def apply_dispute(dispute: Dispute, order: Order, *, source: str) -> bool:
    """Open the dispute on the order, then close it if Stripe says it is already decided."""
    try:
        current = client.retrieve_dispute(dispute.id)
    except client.PaymentError as exc:
        log.info("dispute %s not re-read (%s); using the event", dispute.id, exc)
        current = dispute
    if dispute.payment_intent_id:
        confirm_payment_first(order, dispute.payment_intent_id, source=source)
    changed = orders.mark_disputed(
        order, amount_cents=dispute.amount, reason=dispute.reason, dispute_id=dispute.id,
        source=source, actor=ACTOR,
    )
    if current.status in FINAL_DISPUTE:
        changed = orders.close_dispute(
            order, won=FINAL_DISPUTE[current.status], dispute_id=dispute.id,
            reason=current.reason, source=source, actor=ACTOR,
        ) or changed
    return changed


def confirm_on_return(order: Order, session_id: str, *,
                      before_asking: Callable[[], None] | None = None) -> bool:
    """The donor came back from Checkout: ask Stripe for the session and apply it.

    Stripe recommends this next to the webhook, so a donor who arrives first still
    sees the truth. `before_asking` runs just before Stripe is called (the order page
    ends its read there, so no transaction waits on Stripe). Raises PaymentError when
    Stripe cannot be reached.
    """
    if order.stripe_session_id is not None and session_id != order.stripe_session_id:
        return False
    order_id = order.id
    if before_asking is not None:
        before_asking()
    session = client.retrieve_checkout_session(session_id)
    if session.order_id != order_id:
        return False
    locked = find_order_for_session(session)
    if locked is None:
        return False
    if session.status == "complete":
        return apply_session(session, locked, kind="completed", source="return from Checkout")
    if session.status == "expired":
        return apply_session(session, locked, kind="expired", source="return from Checkout")
    return False
