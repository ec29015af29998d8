"""Monthly gifts at Stripe: the plan follows its subscription, each paid invoice is a gift."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from shop.donations.models import MonthlyGift
from shop.donations.service import Dedication
from shop.donations.state import CANCELLED_BY_DONOR, PlanStatus, set_status
from shop.extensions import db, utcnow
from shop.orders import service as orders
from shop.orders import side_effects
from shop.orders.lifecycle import move
from shop.orders.models import Order
from shop.orders.side_effect_state import SideEffectKind
from shop.orders.state import OPEN, OrderStatus, record_event
from shop.orders.timeline import EventKind, PlanEventKind
from shop.payments import client
from shop.payments.client import CheckoutSession, Invoice, Subscription

log = logging.getLogger(__name__)

ACTOR = "stripe"


def lock_plan(plan_id: int) -> MonthlyGift | None:
    found: MonthlyGift | None = db.session.scalar(
        db.select(MonthlyGift).where(MonthlyGift.id == plan_id).with_for_update()
    )
    return found


def find_plan(subscription_id: str | None, plan_id: int | None) -> MonthlyGift | None:
    """The plan by its subscription, or by the id the subscription's metadata carries."""
    if subscription_id:
        plan: MonthlyGift | None = db.session.scalar(
            db.select(MonthlyGift)
            .where(MonthlyGift.stripe_subscription_id == subscription_id)
            .with_for_update()
        )
        if plan is not None:
            return plan
    return lock_plan(plan_id) if plan_id is not None else None


def find_plan_asking_stripe(subscription_id: str | None, plan_id: int | None
                            ) -> tuple[MonthlyGift | None, int | None]:
    """The plan (locked) and its id; when neither the subscription nor an id in hand names
    a plan, Stripe's subscription metadata is asked. Raises PaymentError."""
    plan = find_plan(subscription_id, plan_id)
    if plan is None and plan_id is None and subscription_id:
        plan_id = client.subscription_plan_id(subscription_id)
        plan = lock_plan(plan_id) if plan_id is not None else None
    return plan, plan_id


def activate(plan: MonthlyGift, subscription_id: str | None, customer_id: str | None, *,
             source: str) -> bool:
    if subscription_id and plan.stripe_subscription_id is None:
        plan.stripe_subscription_id = subscription_id
    if customer_id and plan.stripe_customer_id is None:
        plan.stripe_customer_id = customer_id
    if plan.status in (PlanStatus.PENDING, PlanStatus.PAST_DUE):
        was = plan.status
        set_status(plan, PlanStatus.ACTIVE)
        plan.activated_at = plan.activated_at or utcnow()
        plan.record(PlanEventKind.ACTIVE, "The monthly gift started" if was == PlanStatus.PENDING
                    else "Paid again: the monthly gift is active", actor=ACTOR)
        log.info("monthly gift %s active (%s)", plan.id, source)
        return True
    return False


def apply_completed_session(session: CheckoutSession, plan: MonthlyGift, *,
                            source: str) -> bool:
    if session.status != "complete" or session.payment_status not in ("paid",
                                                                        "no_payment_required"):
        return False
    if plan.stripe_session_id is None:
        plan.stripe_session_id = session.id
    return activate(plan, session.subscription_id, session.customer_id, source=source)


def _order_for_invoice(plan: MonthlyGift, invoice: Invoice) -> Order:
    """The gift order of this invoice, created once even when two deliveries race."""
    order = orders.lock_order_where(Order.stripe_invoice_id == invoice.id)
    if order is not None:
        return order
    first = invoice.billing_reason == "subscription_create"
    dedication = Dedication(plan.dedication_type, plan.dedication_name,
                            plan.dedication_email if first else None)
    specs = orders.gift_lines(plan.amount_cents, plan.fee_cents,
                              dedication=dedication.as_tuple, name="Monthly gift")
    try:
        with db.session.begin_nested():
            order = orders.place_order(
                specs, email=plan.email, name=plan.name, currency=plan.currency,
                anonymous=plan.anonymous, monthly_gift_id=plan.id,
                stripe_invoice_id=invoice.id, actor=ACTOR,
            )
    except IntegrityError:
        order = orders.lock_order_where(Order.stripe_invoice_id == invoice.id)
        if order is None:  # pragma: no cover
            raise
    return order


def apply_invoice_paid(invoice: Invoice, plan: MonthlyGift, *, source: str) -> Order:
    """A paid invoice is a gift order of its own, paid, with its payment linked (so staff
    can refund it). Raises PaymentError when Stripe cannot say which payment paid it."""
    if plan.status != PlanStatus.CANCELLED:
        activate(plan, invoice.subscription_id, invoice.customer_id, source=source)
    order = _order_for_invoice(plan, invoice)
    intent = order.stripe_payment_intent_id or invoice.payment_intent_id
    if intent is None:
        intent = client.payment_intent_for_invoice(invoice.id)
    was = order.status
    orders.mark_paid(order, orders.PaymentReport(
        session_id=None, payment_intent_id=intent, amount_cents=invoice.amount_paid,
        currency=invoice.currency, source=source), actor=ACTOR)
    if order.status != was:
        plan.record(PlanEventKind.GIFT_PAID, f"Invoice {invoice.id} paid: gift {order.number} is "
                    f"{order.status.replace('_', ' ')}", actor=ACTOR)
    return order


def apply_invoice_failed(invoice: Invoice, plan: MonthlyGift, *, source: str) -> Order | None:
    """A monthly payment failed: staff see it, the donor is told; Stripe will retry.

    The donor hears of it (ON_ENTER of awaiting_payment) only while the plan runs. After
    the plan ended, a late report makes no gift to wait for, and closes one still open:
    returns None when there is no gift for the invoice.
    """
    if plan.status == PlanStatus.CANCELLED:
        order = orders.lock_order_where(Order.stripe_invoice_id == invoice.id)
        if order is not None and order.status in OPEN:
            move(order, OrderStatus.FAILED,
                 reason=f"The monthly payment failed after the plan ended ({source})",
                 actor=ACTOR)
        plan.record(PlanEventKind.LATE_FAILURE, f"Invoice {invoice.id}: a failed payment "
                    "reported after the plan ended; nothing sent", actor=ACTOR)
        return order
    if plan.status == PlanStatus.ACTIVE:
        set_status(plan, PlanStatus.PAST_DUE)
        plan.record(PlanEventKind.PAST_DUE,
                    f"Invoice {invoice.id}: the monthly payment failed; Stripe will try again",
                    actor=ACTOR)
    plan.last_failure_at = utcnow()
    order = _order_for_invoice(plan, invoice)
    if order.status == OrderStatus.PENDING:
        move(order, OrderStatus.AWAITING_PAYMENT,
             reason=f"The monthly payment failed; Stripe will try again ({source})",
             actor=ACTOR)
    return order


def apply_subscription_deleted(subscription: Subscription, plan: MonthlyGift, *,
                               source: str) -> bool:
    """The plan ended at Stripe (cancelled by the donor or after failed payments)."""
    if plan.status == PlanStatus.CANCELLED:
        return False
    set_status(plan, PlanStatus.CANCELLED)
    plan.cancelled_at = utcnow()
    plan.cancel_reason = subscription.cancellation_reason or "cancelled"
    plan.record(PlanEventKind.CANCELLED, f"The subscription ended at Stripe ({plan.cancel_reason})",
                actor=ACTOR)
    unpaid = orders.lock_orders_where(Order.monthly_gift_id == plan.id, Order.status.in_(OPEN))
    for order in unpaid:
        move(order, OrderStatus.FAILED, reason=f"The monthly plan ended unpaid ({source})",
             actor=ACTOR)
    log.info("monthly gift %s cancelled: %s", plan.id, plan.cancel_reason)
    return True


def cancel_by(plan: MonthlyGift, *, actor: str, who: str) -> None:
    """The donor (actor "donor") or a staff member cancelled the plan; Stripe's
    cancellation already succeeded. The donor gets a confirmation, once.

    Stripe's own event of the cancellation may have been applied while we asked.
    """
    if plan.status != PlanStatus.CANCELLED:
        set_status(plan, PlanStatus.CANCELLED)
    plan.cancelled_at = utcnow()
    plan.cancel_reason = CANCELLED_BY_DONOR if actor == "donor" else f"cancelled by {who}"
    message = f"The monthly gift was cancelled by {who}"
    plan.record(PlanEventKind.CANCELLED, message, actor=actor)
    for order in db.session.scalars(db.select(Order).where(Order.monthly_gift_id == plan.id)
                                    .order_by(Order.id.desc()).limit(1)):
        record_event(order, EventKind.MONTHLY_CANCELLED, message, actor=actor)
    side_effects.request_plan_notice(plan, SideEffectKind.MONTHLY_CANCELLED_NOTICE)


def cancel_by_donor(plan: MonthlyGift) -> None:
    """The donor cancelled on their page (see cancel_by)."""
    cancel_by(plan, actor="donor", who="the donor")
