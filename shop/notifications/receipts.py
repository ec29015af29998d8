"""The donor's receipt: packages (goods for soldiers) and gifts itemised separately."""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app, render_template

from shop.notifications.context import receipt_context
from shop.notifications.mailer import build_message
from shop.notifications.pdf import receipt_pdf
from shop.orders.models import Order


def receipt_message(order: Order, *, attempt: int) -> EmailMessage:
    context = receipt_context(order)
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "localhost"
    return build_message(
        to=order.email,
        subject=(f"Your amended receipt from {context['org_name']} (order {order.number})"
                 if context["amended"] else
                 f"Your receipt from {context['org_name']} (order {order.number})"),
        text=render_template("email/receipt.txt", **context),
        html=render_template("email/receipt.html", **context),
        # The same id on a retry lets mail systems drop a duplicate of the same attempt.
        message_id=f"<receipt-{order.number}-{attempt}@{domain}>",
        attachments=[(f"receipt-{order.number}.pdf", "application/pdf", receipt_pdf(order))],
        shop_message="receipt",
    )
