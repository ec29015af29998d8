"""Apply what Stripe reports to orders: find the order, confirm payment, refunds, disputes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from shop.orders import service as orders
from shop.orders.models import Order
from shop.orders.state import CLOSED, OPEN
from shop.payments import client, refunds
from shop.payments.client import CheckoutSession, Dispute
from shop.payments.dispute_state import Ending, ending
from shop.payments.refund_state import NEVER_RETURNED, RETURNED
from shop.payments.values import Refund

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


def refunds_returned(charge_id: str) -> tuple[int, list[Refund]]:
    """What the charge's refunds returned (those that succeeded, in cents), and the ones
    still pending, as Stripe holds them now. Raises PaymentError: a refund event is then
    answered so that Stripe delivers it again, never guessed from its own copy."""
    refunds = client.refunds_of_charge(charge_id)
    returned = sum(r.amount for r in refunds if r.status in RETURNED)
    waiting = [r for r in refunds if r.status not in RETURNED and r.status not in NEVER_RETURNED]
    return returned, waiting


def apply_refunds(charge_id: str, order: Order, *, source: str, why: str = "") -> bool:
    """Bring the order's refunded amount to what the charge's refunds returned."""
    returned, waiting = refunds_returned(charge_id)
    changed = False
    for refund in waiting:
        changed = orders.pending_refund_noted(order, refund.id, refund.amount, source=source,
                                              actor=ACTOR) or changed
    return orders.record_refunds(order, returned, source=source, actor=ACTOR, why=why) or changed


def apply_refunded_charge(charge: client.Charge, order: Order, *, source: str) -> bool:
    """charge.refunded: the charge's `amount_refunded` counts pending refunds too, so the
    refunds themselves are read again from Stripe."""
    if charge.payment_intent_id:
        confirm_payment_first(order, charge.payment_intent_id, source=source)
    return apply_refunds(charge.id, order, source=source)


def apply_refund(refund: Refund, order: Order, *, source: str) -> bool:
    """A refund changed (charge.refund.updated, refund.updated, refund.failed): it settled,
    or failed or was canceled, perhaps after it had succeeded. A staff refund that failed
    stops counting as asked for, so it can be made again."""
    try:
        current = client.retrieve_refund(refund.id) or refund
    except client.PaymentError as exc:
        log.info("refund %s not re-read (%s); using the event", refund.id, exc)
        current = refund
    if refund.payment_intent_id:
        confirm_payment_first(order, refund.payment_intent_id, source=source)
    changed = False
    if current.status in NEVER_RETURNED:
        changed = refunds.refund_failed_at_stripe(order, current) or changed
    if not current.charge_id:
        return changed
    why = (current.failure_reason or "") if current.status in NEVER_RETURNED else ""
    return apply_refunds(current.charge_id, order, source=source, why=why) or changed


def apply_dispute(dispute: Dispute, order: Order, *, source: str) -> bool:
    """Move the order to what the dispute's current status means (see dispute_state):
    open, won, lost or prevented. Stripe is asked for the status, so events in any order
    end the same way. Raises PaymentError when Stripe cannot be asked: an event's own
    status may be stale (a redelivery after the dispute closed), so it is never acted on,
    and the event comes again. A dispute Stripe does not have changes nothing."""
    found = client.retrieve_object("dispute", dispute.id)
    if found is None:
        log.warning("dispute %s: Stripe has no such dispute; the event changes nothing",
                    dispute.id)
        return False
    current = client.dispute_from_object(found)
    if dispute.payment_intent_id:
        confirm_payment_first(order, dispute.payment_intent_id, source=source)
    end = ending(current.status)
    changed = False
    if end is not Ending.LOST:  # an appeal of a lost dispute (open, or already won)
        changed = orders.reopen_dispute(order, dispute_id=dispute.id, status=current.status,
                                        source=source, actor=ACTOR)
    if end in (Ending.OPEN, Ending.LOST):
        # A closed dispute that was won or prevented is not opened again: applied twice (a
        # repeated event, a reconciliation), it must change nothing.
        changed = orders.mark_disputed(
            order, amount_cents=dispute.amount, reason=dispute.reason, dispute_id=dispute.id,
            source=source, actor=ACTOR) or changed
    if end is Ending.WON:
        changed = orders.close_dispute(
            order, won=True, dispute_id=dispute.id, reason=current.status.replace("_", " "),
            source=source, actor=ACTOR) or changed
    elif end is Ending.LOST:
        changed = orders.close_dispute(
            order, won=False, dispute_id=dispute.id, reason=current.reason, source=source,
            actor=ACTOR) or changed
    elif end is Ending.PREVENTED:
        if current.charge_id:
            changed = apply_refunds(current.charge_id, order, source=source) or changed
        changed = orders.close_prevented_dispute(order, dispute_id=dispute.id, source=source,
                                                 actor=ACTOR) or changed
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
