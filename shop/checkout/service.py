"""Checkout rules: one order per cart content, one Checkout Session per order attempt."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from shop.cart import service as carts
from shop.cart.models import Cart
from shop.donations.models import MonthlyGift
from shop.donations.service import Gift
from shop.donations.state import PlanStatus
from shop.extensions import db, utcnow
from shop.money import format_money
from shop.orders import service as orders
from shop.orders.lifecycle import move
from shop.orders.models import Order
from shop.orders.state import OrderStatus, record_event
from shop.orders.timeline import EventKind
from shop.payments import client as payments

log = logging.getLogger(__name__)


class CheckoutError(ValueError):
    """The cart cannot be checked out as it is; the message is for the donor."""


@dataclass(frozen=True)
class CheckoutUrls:
    public_url: str
    order_path: str  # /orders/<token>
    cart_path: str

    @property
    def success_url(self) -> str:
        # Stripe fills in {CHECKOUT_SESSION_ID} when it sends the donor back.
        return f"{self.public_url}{self.order_path}?session_id={{CHECKOUT_SESSION_ID}}"

    @property
    def cancel_url(self) -> str:
        return f"{self.public_url}{self.cart_path}"


def lock_cart(cart_id: int) -> Cart | None:
    found: Cart | None = db.session.scalar(
        db.select(Cart).where(Cart.id == cart_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    return found



# What one Checkout Session in payment mode can hold (docs.stripe.com/api/checkout/
# sessions/create#create_checkout_session-line_items, and "amount ... supports up to eight
# digits", docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
STRIPE_MAX_LINE_ITEMS = 100
STRIPE_MAX_AMOUNT = 99_999_999  # minor units: $999,999.99


def too_large(currency: str) -> str:
    return (f"This order is over the {format_money(STRIPE_MAX_AMOUNT, currency)} a single card "
            "payment can be; please split it into smaller orders.")


def too_many_lines(count: int) -> str:
    return (f"This order has {count} separate lines and a single card payment can hold at "
            f"most {STRIPE_MAX_LINE_ITEMS}; please split it into smaller orders.")


def check_payable(specs: list[orders.LineSpec], currency: str) -> None:
    """Refuse, before anything is made, an order Stripe could never take in one payment.

    Raises CheckoutError saying what to change. Each spec is one Stripe line item.
    """
    if len(specs) > STRIPE_MAX_LINE_ITEMS:
        raise CheckoutError(too_many_lines(len(specs)))
    if sum(spec.unit_price_cents * spec.quantity for spec in specs) > STRIPE_MAX_AMOUNT:
        raise CheckoutError(too_large(currency))


def refusal_message(error: payments.PaymentRefused, order: Order) -> str:
    """What the donor can change when Stripe refused the checkout for good."""
    if error.code == "amount_too_large":
        return too_large(order.currency)
    if error.code == "amount_too_small":
        return (f"This order's total of {format_money(order.total_cents, order.currency)} is "
                "under the smallest amount a card payment can be; please add to it.")
    if error.param == "line_items" and len(order.lines) > STRIPE_MAX_LINE_ITEMS:
        return too_many_lines(len(order.lines))
    if error.param == "customer_email":
        return (f"Stripe did not accept the email address {order.email}; please check it "
                "and try again.")
    return ("Stripe refused this order as it stands, so nothing was charged. Please change "
            "your cart (fewer or smaller items) or contact us if it keeps happening.")


def close_refused(order: Order, error: payments.PaymentRefused) -> None:
    """Stripe refused the checkout for good: the order closes, no checkout stays half-made.

    A changed cart is a new order (the cart is kept).
    """
    move(order, OrderStatus.FAILED,
         reason=f"Stripe refused the checkout: {error.code or error.param or 'invalid request'}"
                f" ({str(error)[:300]})", actor="system")


def prepare_order(cart: Cart, email: str, name: str) -> Order:
    """The pending order for this cart content: reused on a repeated click, else created.

    Raises CheckoutError for an empty cart, or one Stripe could never take (check_payable).
    """
    if not cart.lines:
        raise CheckoutError("Your cart is empty. Add a care package or a gift first.")
    check_payable(orders.lines_from_cart(cart), cart.currency)
    fingerprint = carts.fingerprint(cart, email, name)
    order = orders.find_reusable_order(cart, fingerprint)
    if order is None:
        order = orders.create_order(cart, email, name, fingerprint)
    return order


def idempotency_key(order: Order) -> str:
    # A new attempt after an answered failure gets a new key: Stripe replays even a stored
    # 500. After no answer (a timeout) the key stays, so a session Stripe made is reused.
    return f"checkout-{order.number}-{order.token[:10]}-{order.checkout_attempt}"


def stripe_line_items(order: Order) -> list[payments.LineItem]:
    items = []
    for line in order.lines:
        if line.kind == "package":
            packages = "package" if line.packages == 1 else "packages"
            description = f"{line.packages} winter care {packages}"
        else:
            description = "Gift to the winter campaign"
        items.append(
            payments.LineItem(
                name=line.name,
                unit_amount=line.unit_price_cents,
                quantity=line.quantity,
                description=description,
            )
        )
    return items


# Seconds to wait between asks while a twin request with the same key is running.
IN_PROGRESS_WAITS = (0.2, 0.4, 0.8, 1.6)


def start_checkout_session(order: Order, urls: CheckoutUrls) -> payments.CheckoutSession:
    """Ask Stripe for the Checkout Session of this order attempt (no database writes).

    A double click sends the same idempotency key twice; while the first request runs
    Stripe answers the second with 409, so the second waits a moment and asks again to
    get the very same session.
    """
    for wait in IN_PROGRESS_WAITS:
        try:
            return _create_session(order, urls)
        except payments.PaymentInProgress:
            time.sleep(wait)
    return _create_session(order, urls)


def _create_session(order: Order, urls: CheckoutUrls) -> payments.CheckoutSession:
    donation_only = all(line.kind == "donation" for line in order.lines)
    metadata = {"order_id": str(order.id), "order_number": order.number or "",
                "kind": order.kind}
    return payments.create_checkout_session(
        line_items=stripe_line_items(order),
        currency=order.currency,
        mode="payment",
        success_url=urls.success_url,
        cancel_url=urls.cancel_url,
        client_reference_id=str(order.id),
        metadata=metadata,
        customer_email=order.email,
        submit_type="donate" if donation_only else "pay",
        idempotency_key=idempotency_key(order),
    )


def attach_session(order: Order, session: payments.CheckoutSession) -> None:
    if order.stripe_session_id == session.id:
        order.stripe_checkout_url = session.url
        return
    order.stripe_session_id = session.id
    order.stripe_checkout_url = session.url
    record_event(
        order,
        EventKind.CHECKOUT,
        f"Sent to Stripe Checkout for {format_money(order.total_cents, order.currency)}",
        actor="donor",
        data={"session_id": session.id},
    )


def note_payment_unavailable(order: Order, error: payments.PaymentError) -> None:
    if not isinstance(error, payments.PaymentOutcomeUnknown):
        order.checkout_attempt += 1
    record_event(
        order,
        EventKind.CHECKOUT_FAILED,
        f"Stripe Checkout could not be started: {type(error).__name__}",
        actor="system",
        data={"error": str(error)[:500]},
    )


def start_monthly_session(plan: MonthlyGift, *, success_url: str, cancel_url: str
                          ) -> payments.CheckoutSession:
    """A Checkout Session in subscription mode: a monthly price built from the gift."""
    items = [payments.LineItem(name="Monthly gift", unit_amount=plan.amount_cents, quantity=1,
                               description="Every month, until you cancel", monthly=True)]
    if plan.fee_cents:
        items.append(payments.LineItem(name="Processing fee, covered by you",
                                       unit_amount=plan.fee_cents, quantity=1, monthly=True))
    return payments.create_checkout_session(
        line_items=items,
        currency=plan.currency,
        mode="subscription",
        success_url=success_url,
        cancel_url=cancel_url,
        client_reference_id=f"monthly-{plan.id}",
        metadata={"monthly_gift_id": str(plan.id)},
        customer_email=plan.email,
        submit_type=None,
        idempotency_key=f"monthly-gift-{plan.id}-{int(plan.created_at.timestamp())}",
    )


def reusable_gift_order(gift: Gift) -> Order | None:
    """A direct gift just like this one, started minutes ago and still waiting: reuse it."""
    since = utcnow() - timedelta(minutes=30)
    fingerprint = gift_fingerprint(gift)
    found: Order | None = db.session.scalar(
        db.select(Order).where(
            Order.cart_id.is_(None), Order.cart_fingerprint == fingerprint,
            Order.status == OrderStatus.PENDING, Order.created_at >= since,
            Order.stripe_checkout_url.is_not(None),
        ).order_by(Order.id.desc()).limit(1)
    )
    return found


def gift_fingerprint(gift: Gift) -> str:
    parts = [gift.email or "", gift.name, str(gift.amount_cents), str(gift.fee_cents),
             gift.currency, str(gift.anonymous), *map(str, gift.dedication.as_tuple)]
    return "gift:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:59]


def place_gift_order(gift: Gift) -> Order:
    """A one-off gift that goes straight to Checkout, without the cart. Raises
    CheckoutError for a gift Stripe could never take (check_payable)."""
    assert gift.email
    specs = orders.gift_lines(gift.amount_cents, gift.fee_cents,
                              dedication=gift.dedication.as_tuple)
    check_payable(specs, gift.currency)
    return orders.place_order(
        specs,
        email=gift.email, name=gift.name, currency=gift.currency, anonymous=gift.anonymous,
        fingerprint=gift_fingerprint(gift),
    )


def reusable_plan(gift: Gift) -> MonthlyGift | None:
    """A monthly plan just like this one, started minutes ago and still pending: reuse it."""
    since = utcnow() - timedelta(minutes=30)
    found: MonthlyGift | None = db.session.scalar(
        db.select(MonthlyGift).where(
            MonthlyGift.email == gift.email, MonthlyGift.amount_cents == gift.amount_cents,
            MonthlyGift.fee_cents == gift.fee_cents, MonthlyGift.status == PlanStatus.PENDING,
            MonthlyGift.created_at >= since, MonthlyGift.anonymous == gift.anonymous,
            MonthlyGift.dedication_name.is_not_distinct_from(gift.dedication.name),
            MonthlyGift.stripe_checkout_url.is_not(None),
        ).order_by(MonthlyGift.id.desc()).limit(1)
    )
    return found
