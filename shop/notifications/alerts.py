"""Alerts for the charity's staff: an order that needs a person (a dispute, a failed refund)."""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app

from shop.money import format_money
from shop.notifications.mailer import build_message
from shop.orders.models import Order
from shop.orders.state import OrderStatus


def dispute_alert_message(order: Order, to: str) -> EmailMessage:
    last = next((e for e in reversed(order.events) if e.to_status == OrderStatus.DISPUTED), None)
    link = f"{current_app.config['PUBLIC_URL']}/staff/orders/{order.number}"
    text = (
        f"Order {order.number} ({format_money(order.total_cents, order.currency)}, "
        f"{order.email}) is disputed by the cardholder.\n\n"
        f"{last.message if last else ''}\n\n"
        "Its packing order is held if it had not gone out. Answer the dispute in Stripe's "
        f"dashboard before the deadline.\n\nOrder page: {link}\n"
    )
    return build_message(to=to, subject=f"Dispute opened on order {order.number}", text=text)


def refund_failed_message(order: Order, to: str) -> EmailMessage:
    """A refund Stripe had confirmed failed later: the money is back, the donor has none."""
    last = next((e for e in reversed(order.events) if e.kind == "refund_reversed"), None)
    link = f"{current_app.config['PUBLIC_URL']}/staff/orders/{order.number}"
    text = (
        f"A refund on order {order.number} ({format_money(order.total_cents, order.currency)}"
        f", {order.email}) failed after Stripe had confirmed it, so the donor did not get "
        "the money back and the charity still holds it.\n\n"
        f"{last.message if last else ''}\n\n"
        "Contact the donor for another way to return it, or refund again from the order "
        f"page.\n\nOrder page: {link}\n"
    )
    return build_message(to=to, subject=f"A refund failed on order {order.number}", text=text)
