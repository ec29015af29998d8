"""Order rules: make an order from a cart, and apply what the payment provider reports."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement

from shop.campaign.service import count_change, order_contribution
from shop.cart.models import Cart
from shop.extensions import db
from shop.money import format_money
from shop.orders import side_effects
from shop.orders.accounting import FEE_LINE_NAME
from shop.orders.lifecycle import move
from shop.orders.models import Order, OrderLine
from shop.orders.note_state import NoteReview
from shop.orders.state import (
    CLOSED,
    MONEY_RECEIVED,
    MONEY_RETURNED,
    SAYS_REFUNDED,
    OrderStatus,
    record_event,
)
from shop.orders.timeline import EventKind

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class PaymentReport:
    """What the payment provider says about an order's payment, in the shop's words."""

    session_id: str | None
    payment_intent_id: str | None
    amount_cents: int | None
    currency: str | None
    source: str  # e.g. "webhook evt_123", "success page", "reconciliation"


def new_order_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def find_reusable_order(cart: Cart, fingerprint: str) -> Order | None:
    """A pending order made from this very cart content, still waiting for payment."""
    found: Order | None = db.session.scalar(
        db.select(Order)
        .where(
            Order.cart_id == cart.id,
            Order.cart_fingerprint == fingerprint,
            Order.status == OrderStatus.PENDING,
        )
        .order_by(Order.id.desc())
        .limit(1)
    )
    return found


@dataclass(frozen=True)
class LineSpec:
    """One order line to be: what it is, its price snapshot and its note."""

    kind: str
    name: str
    unit_price_cents: int
    quantity: int = 1
    packages: int = 0
    bundle_slug: str | None = None
    note: str = ""
    note_review: NoteReview | None = None
    note_review_reason: str | None = None
    join_unit: bool = False
    dedication_type: str | None = None
    dedication_name: str | None = None
    dedication_email: str | None = None


def lines_from_cart(cart: Cart) -> list[LineSpec]:
    specs: list[LineSpec] = []
    for line in cart.lines:
        if line.kind == "donation":
            specs.extend(gift_lines(
                line.amount_cents or 0, line.fee_cents,
                dedication=(line.dedication_type, line.dedication_name, line.dedication_email),
            ))
            continue
        specs.append(LineSpec(
            kind=line.kind, name=line.name, unit_price_cents=line.unit_price_cents,
            quantity=line.quantity, packages=line.packages_per_unit,
            bundle_slug=line.bundle.slug if line.bundle else None, note=line.note,
            note_review=line.note_review, note_review_reason=line.note_review_reason,
            join_unit=line.join_unit,
        ))
    return specs


def gift_lines(
    amount_cents: int, fee_cents: int, *,
    dedication: tuple[str | None, str | None, str | None] = (None, None, None),
    name: str = "Donation",
) -> list[LineSpec]:
    """A gift, and the processing fee the donor covers as a gift line of its own."""
    kind, who, email = dedication
    specs = [LineSpec(kind="donation", name=name, unit_price_cents=amount_cents,
                      dedication_type=kind, dedication_name=who, dedication_email=email)]
    if fee_cents:
        specs.append(LineSpec(kind="donation", name=FEE_LINE_NAME,
                              unit_price_cents=fee_cents))
    return specs


def create_order(cart: Cart, email: str, name: str, fingerprint: str) -> Order:
    """Snapshot the cart into a pending order (flushed, not committed)."""
    return place_order(
        lines_from_cart(cart), email=email, name=name, currency=cart.currency,
        anonymous=any(line.anonymous for line in cart.lines), cart=cart,
        fingerprint=fingerprint,
    )


def place_order(
    specs: list[LineSpec], *, email: str, name: str, currency: str, anonymous: bool = False,
    cart: Cart | None = None, fingerprint: str = "", monthly_gift_id: int | None = None,
    stripe_invoice_id: str | None = None, actor: str = "donor",
) -> Order:
    """A pending order with these lines (flushed, not committed)."""
    kinds = {spec.kind for spec in specs}
    order = Order(
        token=new_order_token(),
        status=OrderStatus.PENDING,
        kind=kinds.pop() if len(kinds) == 1 else "mixed",
        email=email,
        name=name,
        anonymous=anonymous,
        currency=currency,
        total_cents=sum(spec.unit_price_cents * spec.quantity for spec in specs),
        packages=sum(spec.packages * spec.quantity for spec in specs),
        cart_id=cart.id if cart is not None else None,
        cart_fingerprint=fingerprint,
        monthly_gift_id=monthly_gift_id,
        stripe_invoice_id=stripe_invoice_id,
    )
    for spec in specs:
        order.lines.append(
            OrderLine(
                kind=spec.kind, bundle_slug=spec.bundle_slug, name=spec.name,
                unit_price_cents=spec.unit_price_cents, quantity=spec.quantity,
                packages=spec.packages, note=spec.note, note_review=spec.note_review,
                note_review_reason=spec.note_review_reason, join_unit=spec.join_unit,
                dedication_type=spec.dedication_type,
                dedication_name=spec.dedication_name, dedication_email=spec.dedication_email,
            )
        )
    db.session.add(order)
    db.session.flush()
    order.number = f"CP-{order.id:06d}"
    record_event(
        order,
        EventKind.CREATED,
        f"Order placed for {format_money(order.total_cents, order.currency)}",
        actor=actor,
    )
    return order


def get_order_by_token(token: str) -> Order | None:
    if not token or len(token) > 64:
        return None
    found: Order | None = db.session.scalar(db.select(Order).where(Order.token == token))
    return found


def lock_order(order_id: int) -> Order | None:
    """Load the order and hold its row until the transaction ends (PostgreSQL).

    FOR NO KEY UPDATE: it still keeps two writers of the order apart, but lets another
    transaction add timeline entries to it (a unit filling up writes on every member
    order), so that cannot deadlock with a refund holding this order. The row is read
    again once the lock is held: an order this session loaded earlier (the donor's page
    loads it before asking Stripe) would otherwise keep the status it had before another
    transaction paid it, and be paid a second time.
    """
    return lock_order_where(Order.id == order_id)


def lock_orders_where(*criteria: ColumnElement[bool]) -> list[Order]:
    """Orders matching the criteria, each locked the way lock_order locks one."""
    return list(db.session.scalars(
        db.select(Order).where(*criteria).order_by(Order.id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    ))


def lock_order_where(*criteria: ColumnElement[bool]) -> Order | None:
    found = lock_orders_where(*criteria)
    return found[0] if found else None


def _note_stripe_ids(order: Order, report: PaymentReport) -> None:
    if report.session_id and order.stripe_session_id is None:
        order.stripe_session_id = report.session_id
    if report.payment_intent_id and order.stripe_payment_intent_id is None:
        order.stripe_payment_intent_id = report.payment_intent_id


def mark_paid(order: Order, report: PaymentReport, *, actor: str) -> bool:
    """Idempotently record that the order's money arrived. True when the order changed."""
    if order.status in MONEY_RECEIVED or order.status in MONEY_RETURNED:
        return False  # already known; a repeated or late report changes nothing
    _note_stripe_ids(order, report)
    order.amount_received_cents = report.amount_cents
    expected = format_money(order.total_cents, order.currency)
    if report.amount_cents != order.total_cents or (report.currency or "") != order.currency:
        got = (
            format_money(report.amount_cents, report.currency)
            if report.amount_cents is not None and report.currency
            else "no amount"
        )
        order.review_reason = f"Stripe reported {got}, the order is for {expected}"
        return move(order, OrderStatus.NEEDS_REVIEW,
                    reason=order.review_reason + f" ({report.source})", actor=actor)
    if order.status in CLOSED:
        # Money for an order we had closed (failed or expired): keep it, and ask staff.
        order.review_reason = (f"Payment of {expected} received while the order was "
                               f"{order.status}")
        return move(order, OrderStatus.NEEDS_REVIEW,
                    reason=order.review_reason + f" ({report.source})", actor=actor,
                    data={"amount_received_cents": report.amount_cents})
    return move(order, OrderStatus.PAID,
                reason=f"Payment of {expected} confirmed ({report.source})", actor=actor)


def mark_awaiting_payment(order: Order, report: PaymentReport, *, actor: str) -> bool:
    if order.status != OrderStatus.PENDING:
        return False
    _note_stripe_ids(order, report)
    return move(
        order,
        OrderStatus.AWAITING_PAYMENT,
        reason=f"Checkout finished; the bank has not confirmed the payment yet ({report.source})",
        actor=actor,
    )


def mark_failed(order: Order, report: PaymentReport, *, actor: str) -> bool:
    if order.status == OrderStatus.FAILED:
        return False
    _note_stripe_ids(order, report)
    return move(order, OrderStatus.FAILED,
                reason=f"The payment did not go through ({report.source})", actor=actor)


def mark_expired(order: Order, report: PaymentReport, *, actor: str) -> bool:
    if order.status == OrderStatus.EXPIRED:
        return False
    if report.session_id and order.stripe_session_id not in (None, report.session_id):
        # An abandoned earlier attempt of this order; its current session may still be paid.
        record_event(
            order,
            EventKind.IGNORED,
            f"An earlier checkout session expired ({report.source})",
            actor=actor,
            data={"session_id": report.session_id},
        )
        return False
    return move(order, OrderStatus.EXPIRED,
                reason=f"The checkout expired unpaid ({report.source})", actor=actor)


def record_refunds(order: Order, refunded_cents: int, *, source: str, actor: str,
                   why: str = "") -> bool:
    """Record Stripe's total of the order's refunds that succeeded. True when it changed.

    Callers pass the total as Stripe holds it now (read again, never an event's copy):
    pending, failed and canceled refunds are not in it, as they returned no money. A
    larger total than we knew makes the order partially_refunded or refunded (a full
    refund stops a receipt or packing order not yet sent). A smaller one is a refund that
    failed after it succeeded (`why`: Stripe's failure reason): the money is back with the
    charity, so an order whose status says refunded goes to staff (needs_review) and staff
    are alerted. During a dispute the dispute decides the state; the amount is still
    written down.
    """
    if refunded_cents == order.refunded_cents:
        return False
    if refunded_cents < order.refunded_cents:
        return _refund_reversed(order, refunded_cents, source=source, actor=actor, why=why)
    received = order.amount_received_cents or order.total_cents
    previous = order.refunded_cents
    counted = order_contribution(order)
    order.refunded_cents = refunded_cents
    # The money kept changed, whatever the status does; the move below adds only what the
    # change of status makes (the packages and the gift of a full refund).
    count_change(counted, order_contribution(order))
    amount = format_money(refunded_cents, order.currency)
    full = refunded_cents >= received
    if order.status == OrderStatus.DISPUTED:
        record_event(order, EventKind.REFUND, f"{amount} refunded in total during a dispute "
                     f"({source})", actor=actor, data={"refunded_cents": refunded_cents})
        return True
    return move(
        order, OrderStatus.REFUNDED if full else OrderStatus.PARTIALLY_REFUNDED,
        reason=f"{amount} refunded in total (was {format_money(previous, order.currency)}) "
               f"({source})",
        actor=actor, data={"refunded_cents": refunded_cents},
    )


def _refund_reversed(order: Order, refunded_cents: int, *, source: str, actor: str,
                     why: str) -> bool:
    back = format_money(order.refunded_cents - refunded_cents, order.currency)
    counted = order_contribution(order)
    order.refunded_cents = refunded_cents
    count_change(counted, order_contribution(order))  # the money came back, if it counts
    what = (f"A refund of {back} failed after it succeeded{f' ({why})' if why else ''}: the "
            f"money is back with the charity; "
            f"{format_money(refunded_cents, order.currency)} refunded in total ({source})")
    data = {"refunded_cents": refunded_cents}
    record_event(order, EventKind.REFUND_REVERSED, what, actor=actor, data=data)
    side_effects.request_refund_failed_alert(order, reason=what)
    if order.status in SAYS_REFUNDED:
        order.review_reason = what
        move(order, OrderStatus.NEEDS_REVIEW, reason=what, actor=actor, data=data)
    return True


def pending_refund_noted(order: Order, refund_id: str, amount_cents: int, *, source: str,
                         actor: str) -> bool:
    """Write once on the timeline that a refund waits at Stripe and is not counted yet."""
    if any((e.data or {}).get("pending_refund_id") == refund_id for e in order.events):
        return False
    record_event(order, EventKind.REFUND_PENDING,
                 f"Refund {refund_id} of {format_money(amount_cents, order.currency)} is "
                 f"pending at Stripe; it counts once it succeeds ({source})",
                 actor=actor, data={"pending_refund_id": refund_id})
    return True


def mark_disputed(order: Order, *, amount_cents: int, reason: str, dispute_id: str,
                  source: str, actor: str) -> bool:
    """A cardholder disputes the charge: hold what has not shipped, tell staff.

    The bank holds the money, so its packages are not funded: a unit must neither wait
    for them nor ship them. A won dispute puts them back in a unit (see ON_ENTER).
    """
    if order.status in (OrderStatus.DISPUTED, OrderStatus.DISPUTE_LOST):
        return False
    return move(
        order, OrderStatus.DISPUTED,
        reason=f"Dispute {dispute_id} opened for {format_money(amount_cents, order.currency)}: "
               f"{reason} ({source})",
        actor=actor, data={"dispute_id": dispute_id, "reason": reason},
    )


def reopen_dispute(order: Order, *, dispute_id: str, status: str, source: str,
                   actor: str) -> bool:
    """The charity appeals a lost dispute: disputed again until the appeal is decided."""
    if order.status != OrderStatus.DISPUTE_LOST:
        return False
    return move(order, OrderStatus.DISPUTED,
                reason=f"Dispute {dispute_id} appealed ({status}) ({source})",
                actor=actor, data={"dispute_id": dispute_id, "reason": status})


def close_dispute(order: Order, *, won: bool, dispute_id: str, reason: str, source: str,
                  actor: str) -> bool:
    """Won (or an inquiry closed): back to the status before the dispute, which releases
    the held packing order; lost: dispute_lost, which cancels it."""
    if order.status != OrderStatus.DISPUTED:
        return False
    if won:
        back = OrderStatus(order.status_before_dispute or OrderStatus.PAID)
        words = f"Dispute {dispute_id} {reason}; back to {back}"
        if back == OrderStatus.NEEDS_REVIEW:
            order.review_reason = order.review_reason or words
        return move(order, back, reason=f"{words} ({source})", actor=actor,
                    data={"dispute_id": dispute_id})
    return move(
        order, OrderStatus.DISPUTE_LOST,
        reason=f"Dispute {dispute_id} lost ({reason}); the money went back to the "
               f"cardholder ({source})",
        actor=actor, data={"dispute_id": dispute_id, "reason": reason},
    )


def close_prevented_dispute(order: Order, *, dispute_id: str, source: str, actor: str) -> bool:
    """A dispute stopped before it was filed by refunding the cardholder: the refunds
    recorded decide (refunded, partly refunded); with none seen yet staff look."""
    if order.status != OrderStatus.DISPUTED:
        return False
    received = order.amount_received_cents or order.total_cents
    data = {"dispute_id": dispute_id}
    refunded = format_money(order.refunded_cents, order.currency)
    if order.refunded_cents >= received:
        return move(order, OrderStatus.REFUNDED, reason=f"Dispute {dispute_id} prevented: "
                    f"{refunded} refunded to the cardholder ({source})", actor=actor, data=data)
    if order.refunded_cents > 0:
        return move(order, OrderStatus.PARTIALLY_REFUNDED, reason=f"Dispute {dispute_id} "
                    f"prevented: {refunded} refunded to the cardholder ({source})",
                    actor=actor, data=data)
    order.review_reason = (f"Dispute {dispute_id} was prevented by a refund Stripe does not "
                           "show yet")
    return move(order, OrderStatus.NEEDS_REVIEW, reason=f"{order.review_reason} ({source})",
                actor=actor, data=data)


def flag_for_review(order: Order, reason: str, *, actor: str) -> bool:
    """Staff must look (e.g. we think it paid, Stripe does not)."""
    order.review_reason = reason
    if order.status == OrderStatus.NEEDS_REVIEW:
        return False
    # Money under review does not count until staff accept it (see ON_ENTER).
    return move(order, OrderStatus.NEEDS_REVIEW, reason=reason, actor=actor)


def approve_review(order: Order, *, actor: str) -> bool:
    """Staff looked at an order under review and accept its payment: it may now ship."""
    if order.status != OrderStatus.NEEDS_REVIEW:
        return False
    return move(order, OrderStatus.PAID, reason=f"Payment approved after review "
                f"({order.review_reason or 'no reason recorded'})", actor=actor)
