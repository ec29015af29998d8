"""What a receipt, its PDF and a year-end statement are drawn from: the charity's details
and one order's figures, shared by the emails (receipts.py, statements.py) and pdf.py."""

from __future__ import annotations

from typing import Any

from flask import current_app

from shop.donations.links import plan_url
from shop.money import format_money
from shop.orders.accounting import split
from shop.orders.models import Order


def receipt_number(order: Order) -> str:
    """The number a tax office sees: the order number, marked as a receipt."""
    return f"R-{order.number}"


def charity_context() -> dict[str, Any]:
    """Who issues receipts and statements, and the two acknowledgement wordings."""
    config = current_app.config
    org, tax_id = config["ORG_NAME"], config["ORG_TAX_ID"]
    return {
        "org_name": org,
        "org_tax_id": tax_id,
        "org_address": config["ORG_ADDRESS"],
        "package_wording": config["RECEIPT_PACKAGE_WORDING"].format(org=org, tax_id=tax_id),
        "gift_wording": config["RECEIPT_GIFT_WORDING"].format(org=org, tax_id=tax_id),
    }


def amended(order: Order) -> bool:
    """True once money went back: the receipt then says what the charity kept."""
    return (order.refunded_cents or 0) > 0


def amendment_context(order: Order) -> dict[str, Any]:
    """The amended receipt's figures: the original amount, what was refunded, and what
    remains a purchase of care packages or a gift (shop.orders.accounting decides)."""
    money = split(order)
    words = []
    if money.goods:
        words.append(f"{format_money(money.goods, order.currency)} remains a purchase of "
                     "care packages")
    if money.gift:
        words.append(f"{format_money(money.gift, order.currency)} remains a gift")
    return {
        "amended": amended(order),
        "original_cents": money.gross,
        "refunded_cents": money.refunded,
        "kept_cents": money.net,
        "kept_goods_cents": money.goods,
        "kept_gift_cents": money.gift,
        "kept_words": "; ".join(words) or "Nothing remains: the order was refunded in full",
    }


def receipt_context(order: Order) -> dict[str, Any]:
    packages = order.package_lines
    gifts = order.donation_lines
    return charity_context() | amendment_context(order) | {
        "order": order,
        "receipt_number": receipt_number(order),
        "greeting_name": order.name or "friend",
        "date": (order.paid_at or order.created_at).strftime("%d %B %Y"),
        # A monthly gift's order has no session of its own: its invoice is the reference.
        "payment_reference": (order.stripe_payment_intent_id or order.stripe_session_id
                              or order.stripe_invoice_id or ""),
        "package_lines": packages,
        "package_total_cents": sum(line.line_total_cents for line in packages),
        "gift_lines": gifts,
        "gift_total_cents": sum(line.line_total_cents for line in gifts),
        "order_url": f"{current_app.config['PUBLIC_URL']}/orders/{order.token}",
        "dedication_text": order.dedication_text,
        # Every monthly receipt carries the signed link to see and cancel the plan.
        "manage_url": plan_url(order.monthly_gift) if order.monthly_gift is not None else None,
    }
