"""Every order move, and what entering each status sets off: the ON_ENTER table.

`move` (and `move_or_raise` for staff, who want a refusal explained) is the one way the
shop changes an order's status: it applies the move through shop.orders.state and then
runs, in order, the consequences listed for the new status. A new caller cannot forget
one, and a new consequence is one line in the table.

The campaign's totals are never recounted here: a move adds what the order counts for
now less what it counted for before (shop.campaign.service.count_change), applied once,
just before the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shop.campaign.service import Contribution, count_change, order_contribution
from shop.cart import service as carts
from shop.donations.state import RUNNING
from shop.extensions import utcnow
from shop.orders import side_effects
from shop.orders.models import Order, OrderEvent
from shop.orders.side_effect_state import SideEffectKind
from shop.orders.state import (
    MONEY_RETURNED,
    OPEN,
    OrderStatus,
    move_or_record,
    set_status,
)
from shop.units import service as units

S = OrderStatus


@dataclass(frozen=True)
class Move:
    """One applied move, as the consequences see it."""

    order: Order
    old: OrderStatus
    new: OrderStatus
    actor: str
    data: dict[str, Any] | None
    # What the order added to the campaign before the move (its status, payment time and
    # refunds as they were): the campaign's totals change by the difference.
    counted_before: Contribution

    @property
    def dispute_id(self) -> str:
        return str((self.data or {}).get("dispute_id", ""))


Consequence = Callable[[Move], None]


def _why(move: Move) -> str:
    """The reason written next to what the money going back cancels or releases."""
    if move.new is S.REFUNDED:
        return "the order was refunded in full"
    if move.new is S.DISPUTE_LOST:
        return f"dispute {move.dispute_id} was lost"
    return f"dispute {move.dispute_id} is open"


def stamp_paid_at(move: Move) -> None:
    move.order.paid_at = move.order.paid_at or utcnow()


def empty_checkout_cart(move: Move) -> None:
    """Once the checkout's money arrives, the donor's cart is done (unless changed since)."""
    order = move.order
    if move.old in OPEN:
        carts.empty_if_unchanged(order.cart_id, order.email, order.name, order.cart_fingerprint)


def request_receipt_and_packing_order(move: Move) -> None:
    side_effects.request_after_payment(move.order)


def release_after_dispute(move: Move) -> None:
    """A won dispute, or staff accepting an order under review, sends the packing order
    that was held (unless a note still holds it)."""
    if move.old in (S.DISPUTED, S.NEEDS_REVIEW):
        side_effects.release_held(move.order)


def place_unit_packages(move: Move) -> None:
    """Paid packages take places in units: on payment, and again after a won dispute."""
    if move.new is S.PAID or move.old is S.DISPUTED:
        units.place_packages(move.order)


def remember_status_before_dispute(move: Move) -> None:
    """Where a won dispute returns. An appeal of a lost dispute returns to staff instead:
    its packing order was cancelled when it was lost, so a person decides what ships."""
    move.order.status_before_dispute = S.NEEDS_REVIEW if move.old in MONEY_RETURNED else move.old


def hold_packing_order(move: Move) -> None:
    side_effects.hold_unsent(move.order, reason=_why(move))


def alert_staff(move: Move) -> None:
    side_effects.request_staff_alert(move.order)


def cancel_unsent(move: Move) -> None:
    side_effects.cancel_unsent(move.order, reason=_why(move))


def release_unit_places(move: Move) -> None:
    """The money went back (or the bank holds it): the order's packages leave their units."""
    units.release_places(move.order, reason=_why(move), actor=move.actor)


def tell_donor_payment_is_on_its_way(move: Move) -> None:
    """A checkout paid by bank transfer: the donor hears what happens next. A monthly
    gift waits for its payment only when the charge failed: the donor hears that instead,
    while the plan still runs (an ended plan takes no more money, so it asks for none)."""
    order = move.order
    if order.monthly_gift_id is None:
        side_effects.request_notice(order, SideEffectKind.BANK_TRANSFER_NOTICE)
    elif order.monthly_gift is not None and order.monthly_gift.status in RUNNING:
        side_effects.request_notice(order, SideEffectKind.PAYMENT_FAILED_NOTICE)


def tell_donor_of_refund(move: Move) -> None:
    """Money went back to the donor (not a won dispute returning to a refunded status)."""
    if (move.data or {}).get("refunded_cents") is not None:
        side_effects.request_refund_notice(move.order)


def count_in_campaign(move: Move) -> None:
    """The campaign's totals change by what the order counts for now less what it did.

    Last in each row, after the payment time is stamped. A change of money without a
    move (a refund during a dispute) adds its own change (orders.service.record_refunds).
    """
    count_change(move.counted_before, order_contribution(move.order))


ON_ENTER: dict[OrderStatus, tuple[Consequence, ...]] = {
    S.PENDING: (),
    S.AWAITING_PAYMENT: (tell_donor_payment_is_on_its_way,),
    S.FAILED: (),
    S.EXPIRED: (),
    S.PAID: (stamp_paid_at, empty_checkout_cart, request_receipt_and_packing_order,
             release_after_dispute, place_unit_packages, count_in_campaign),
    # Staff look first: a packing order held by a dispute stays held until they accept it.
    S.NEEDS_REVIEW: (count_in_campaign,),
    S.FULFILLED: (release_after_dispute, place_unit_packages, count_in_campaign),
    S.PARTIALLY_REFUNDED: (release_after_dispute, place_unit_packages, tell_donor_of_refund,
                           count_in_campaign),
    S.REFUNDED: (cancel_unsent, release_unit_places, tell_donor_of_refund, count_in_campaign),
    S.DISPUTED: (remember_status_before_dispute, hold_packing_order, alert_staff,
                 release_unit_places, count_in_campaign),
    S.DISPUTE_LOST: (cancel_unsent, release_unit_places, count_in_campaign),
}


def _enter(order: Order, old: OrderStatus, *, actor: str, data: dict[str, Any] | None) -> None:
    # Only the status has changed yet: what the order counted for before is the same
    # order in its old status.
    move = Move(order=order, old=old, new=OrderStatus(order.status), actor=actor, data=data,
                counted_before=order_contribution(order, status=old))
    for consequence in ON_ENTER[move.new]:
        consequence(move)


def move(order: Order, new: OrderStatus, *, reason: str, actor: str,
         data: dict[str, Any] | None = None) -> bool:
    """Move the order and run what entering `new` sets off. False when the table refused
    the move: the refusal is written on the timeline and nothing else happens."""
    old = OrderStatus(order.status)
    if not move_or_record(order, new, reason=reason, actor=actor, data=data):
        return False
    _enter(order, old, actor=actor, data=data)
    return True


def move_or_raise(order: Order, new: OrderStatus, *, reason: str, actor: str,
                  data: dict[str, Any] | None = None) -> OrderEvent:
    """Like move, but an illegal move raises IllegalTransition and writes nothing."""
    old = OrderStatus(order.status)
    event = set_status(order, new, reason=reason, actor=actor, data=data)
    _enter(order, old, actor=actor, data=data)
    return event
