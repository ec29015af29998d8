"""Emails about a gift to someone other than the staff: a dedication, a failed payment."""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app, render_template

from shop.donations.links import plan_url
from shop.notifications.mailer import build_message
from shop.orders.models import Order
from shop.wording import dedication_words


def dedication_notice_message(order: Order) -> EmailMessage | None:
    """Tell the family a gift was made in honour or memory of their loved one (no amount)."""
    line = next((line for line in order.lines if line.dedication_email), None)
    if line is None or not line.dedication_email:
        return None
    context = {
        "org_name": current_app.config["ORG_NAME"],
        "giver": "Someone" if order.anonymous or not order.name else order.name,
        "honoree": line.dedication_name or "",
        "memory": line.dedication_type == "memory",
    }
    words = dedication_words("memory" if context["memory"] else "honor", start=False)
    return build_message(
        to=line.dedication_email,
        subject=f"A gift to {context['org_name']} {words} {context['honoree']}",
        text=render_template("email/dedication.txt", **context),
        html=render_template("email/dedication.html", **context),
    )


def payment_failed_message(order: Order) -> EmailMessage:
    """The donor's monthly payment failed: say so, and how to fix or stop it."""
    plan = order.monthly_gift
    context = {
        "org_name": current_app.config["ORG_NAME"],
        "order": order,
        "manage_url": plan_url(plan) if plan is not None else None,
    }
    return build_message(
        to=order.email,
        subject=f"Your monthly gift to {context['org_name']} could not be charged",
        text=render_template("email/payment_failed.txt", **context),
    )
