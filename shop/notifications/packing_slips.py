"""The printable packing slip sent to the packing partner when it has no API."""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app, render_template

from shop.notifications.mailer import build_message
from shop.orders.models import Order


def packing_slip_message(order: Order, to: str) -> EmailMessage:
    context = {
        "order": order,
        "org_name": current_app.config["ORG_NAME"],
        "lines": order.package_lines,
        "packages": sum(line.total_packages for line in order.package_lines),
    }
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "localhost"
    return build_message(
        to=to,
        subject=f"Packing order {order.number}: {context['packages']} care packages",
        text=render_template("email/packing_slip.txt", **context),
        html=render_template("email/packing_slip.html", **context),
        message_id=f"<packing-{order.number}@{domain}>",
    )
