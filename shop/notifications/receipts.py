"""The donor's receipt: packages (goods for soldiers) and gifts itemised separately."""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app, render_template

from shop.notifications.context import receipt_context
from shop.notifications.mailer import build_message
from shop.notifications.pdf import receipt_pdf
from shop.orders.models import Order


def receipt_message_id(order: Order, attempt: int) -> str:
    """The receipt's Message-ID for that attempt: `<receipt-CP-000042-1@sender's domain>`."""
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "localhost"
    return f"<receipt-{order.number}-{attempt}@{domain}>"


def receipt_message(order: Order, *, attempt: int, message_id: str | None = None) -> EmailMessage:
    """The receipt email with its PDF; `message_id` defaults to the attempt's."""
    context = receipt_context(order)
    return build_message(
        to=order.email,
        subject=(f"Your amended receipt from {context['org_name']} (order {order.number})"
                 if context["amended"] else
                 f"Your receipt from {context['org_name']} (order {order.number})"),
        text=render_template("email/receipt.txt", **context),
        html=render_template("email/receipt.html", **context),
        # The same id on a resend lets mail systems drop a duplicate of the same attempt.
        message_id=message_id or receipt_message_id(order, attempt),
        attachments=[(f"receipt-{order.number}.pdf", "application/pdf", receipt_pdf(order))],
        shop_message="receipt",
    )
