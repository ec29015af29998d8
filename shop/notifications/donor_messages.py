"""The messages a donor gets about what happens next: bank transfer, refund, shipped,
note left out, monthly gift cancelled; each marked with its X-Shop-Message header."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from flask import current_app, render_template

from shop.donations.models import MonthlyGift
from shop.donations.state import CANCELLED_BY_DONOR
from shop.notifications.context import amendment_context, receipt_number
from shop.notifications.mailer import build_message
from shop.notifications.pdf import receipt_pdf
from shop.orders.models import Order, SideEffect
from shop.orders.note_state import NoteReview
from shop.orders.side_effect_state import SideEffectKind, SideEffectStatus
from shop.units import service as units
from shop.units.state import UnitStatus

K = SideEffectKind

# The X-Shop-Message header of each kind (stable: the issue names them).
HEADERS: dict[SideEffectKind, str] = {
    K.BANK_TRANSFER_NOTICE: "bank-transfer-started",
    K.REFUND_NOTICE: "refund",
    K.SHIPPED_NOTICE: "shipped",
    K.NOTE_LEFT_OUT_NOTICE: "note-left-out",
    K.MONTHLY_CANCELLED_NOTICE: "monthly-cancelled",
}


def _common(order: Order) -> dict[str, Any]:
    return {
        "org_name": current_app.config["ORG_NAME"],
        "order": order,
        "greeting_name": order.name or "friend",
        "order_url": f"{current_app.config['PUBLIC_URL']}/orders/{order.token}",
    }


def _message(kind: SideEffectKind, *, to: str, subject: str, template: str,
             context: dict[str, Any],
             attachments: list[tuple[str, str, bytes]] | None = None) -> EmailMessage:
    return build_message(to=to, subject=subject, text=render_template(template, **context),
                         attachments=attachments, shop_message=HEADERS[kind])


def bank_transfer_message(order: Order) -> EmailMessage:
    """The order is received and the bank transfer started: what happens next."""
    context = _common(order)
    return _message(K.BANK_TRANSFER_NOTICE, to=order.email,
                    subject=f"We have your order {order.number}: your bank transfer is on "
                            "its way",
                    template="email/bank_transfer.txt", context=context)


def refund_message(order: Order) -> EmailMessage:
    """How much went back, and the amended receipt (as a PDF) that replaces the first."""
    context = _common(order) | amendment_context(order) | {
        "receipt_number": receipt_number(order),
    }
    return _message(K.REFUND_NOTICE, to=order.email,
                    subject=f"Your refund for order {order.number} and your amended receipt",
                    template="email/refund.txt", context=context,
                    attachments=[(f"receipt-{order.number}-amended.pdf", "application/pdf",
                                  receipt_pdf(order))])


def shipped_message(order: Order) -> EmailMessage:
    """The partner has the donor's packages: those of its own packing order, and those
    travelling in a unit that shipped."""
    own = order.side_effect(K.PACKING_ORDER)
    own_packages = (sum(line.total_packages for line in order.own_package_lines)
                    if own is not None and own.status == SideEffectStatus.DONE else 0)
    shipped_units = [(unit.number, count) for unit, count in units.places_by_unit(order)
                     if unit.status == UnitStatus.SHIPPED]
    context = _common(order) | {"own_packages": own_packages, "shipped_units": shipped_units}
    return _message(K.SHIPPED_NOTICE, to=order.email,
                    subject=f"Your care packages are on their way (order {order.number})",
                    template="email/shipped.txt", context=context)


def note_left_out_message(order: Order) -> EmailMessage | None:
    """Staff ship a package without the donor's note: say which, and that the gift stands."""
    lines = [line for line in order.lines if line.note_review == NoteReview.REJECTED]
    if not lines:
        return None
    context = _common(order) | {"lines": lines}
    return _message(K.NOTE_LEFT_OUT_NOTICE, to=order.email,
                    subject=f"Your package ships without your note (order {order.number})",
                    template="email/note_left_out.txt", context=context)


def monthly_cancelled_message(plan: MonthlyGift) -> EmailMessage:
    """The monthly gift is cancelled: no more payments; the gifts made stay gifts."""
    config = current_app.config
    context = {
        "org_name": config["ORG_NAME"],
        "plan": plan,
        "greeting_name": plan.name or "friend",
        "by_staff": plan.cancel_reason != CANCELLED_BY_DONOR,
        "donate_url": f"{config['PUBLIC_URL']}/donate",
    }
    return _message(K.MONTHLY_CANCELLED_NOTICE, to=plan.email,
                    subject=f"Your monthly gift to {config['ORG_NAME']} is cancelled",
                    template="email/monthly_cancelled.txt", context=context)


def donor_message(effect: SideEffect) -> EmailMessage | None:
    """The email a donor-message side effect sends; None when there is nothing to say."""
    if effect.kind == K.MONTHLY_CANCELLED_NOTICE:
        assert effect.plan is not None  # owned by its plan
        return monthly_cancelled_message(effect.plan)
    order = effect.order
    assert order is not None  # the other messages are about an order
    if effect.kind == K.BANK_TRANSFER_NOTICE:
        return bank_transfer_message(order)
    if effect.kind == K.REFUND_NOTICE:
        return refund_message(order) if order.refunded_cents else None
    if effect.kind == K.SHIPPED_NOTICE:
        return shipped_message(order)
    if effect.kind == K.NOTE_LEFT_OUT_NOTICE:
        return note_left_out_message(order)
    raise ValueError(f"{effect.kind} is not a donor message")
