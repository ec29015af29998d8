"""Builders for customer, subscription, plan, invoice and invoice line objects (fixture keys)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from .money import format_amount
from .objects import address, list_envelope
from .store import JSON, new_id


def add_interval(ts: int, interval: str, count: int = 1) -> int:
    """Move a unix time forward by `count` billing intervals (calendar months/years)."""
    if interval == "day":
        return ts + 86400 * count
    if interval == "week":
        return ts + 7 * 86400 * count
    moment = datetime.fromtimestamp(ts, UTC)
    months = count * (12 if interval == "year" else 1)
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def customer(created: int, email: str | None, name: str | None) -> JSON:
    return {
        "address": address(), "balance": 0, "created": created, "currency": None,
        "default_source": None, "delinquent": False, "description": None, "discount": None,
        "email": email, "id": new_id("cus_", 14),
        "invoice_prefix": new_id("", 8).upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                             "footer": None,
                             "rendering_options": None},
        "livemode": False, "metadata": {}, "name": name, "next_invoice_sequence": 1,
        "object": "customer", "phone": None, "preferred_locales": [], "shipping": None,
        "tax_exempt": "none", "test_clock": None,
    }


def plan(price: JSON) -> JSON:
    rec = price["recurring"] or {}
    return {
        "active": True, "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"], "billing_scheme": "per_unit",
        "created": price["created"], "currency": price["currency"], "id": price["id"],
        "interval": rec.get("interval"), "interval_count": rec.get("interval_count"),
        "livemode": False, "metadata": {}, "meter": None, "nickname": None, "object": "plan",
        "product": price["product"], "tiers_mode": None, "transform_usage": None,
        "trial_period_days": None, "usage_type": "licensed",
    }


def subscription_item(created: int, sub_id: str, price: JSON, quantity: int, start: int,
                      end: int) -> JSON:
    return {
        "created": created, "discounts": [], "id": new_id("si_", 14), "metadata": {},
        "object": "subscription_item", "price": price, "quantity": quantity,
        "subscription": sub_id, "tax_rates": [], "plan": plan(price),
        "current_period_end": end, "current_period_start": start, "billing_thresholds": None,
    }


def subscription(created: int, sub_id: str, cus: JSON, currency: str, items: list[JSON],
                 metadata: JSON, description: str | None, payment_method: str) -> JSON:
    return {
        "application": None, "application_fee_percent": None,
        "automatic_tax": {"enabled": False, "liability": None, "disabled_reason": None},
        "billing_cycle_anchor": created, "billing_cycle_anchor_config": None,
        "cancel_at": None, "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically", "created": created, "currency": currency,
        "customer": cus["id"], "days_until_due": None, "default_payment_method": payment_method,
        "default_source": None, "default_tax_rates": [], "description": description,
        "discounts": [], "ended_at": None, "id": sub_id,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"},
                             "custom_fields": None, "description": None, "footer": None},
        "items": list_envelope(items, f"/v1/subscription_items?subscription={sub_id}"),
        "latest_invoice": None, "livemode": False, "metadata": metadata,
        "next_pending_invoice_item_invoice": None, "object": "subscription",
        "on_behalf_of": None, "pause_collection": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                             "save_default_payment_method": "off"},
        "pending_invoice_item_interval": None, "pending_setup_intent": None,
        "pending_update": None, "schedule": None, "start_date": created, "status": "active",
        "test_clock": None, "transfer_data": None, "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None, "cancel_at_period_end": False, "billing_thresholds": None,
        "billing_mode": {"type": "classic", "flexible": None}, "customer_account": None,
        "managed_payments": None, "billing_schedules": [],
    }


def _interval_text(price: JSON) -> str:
    rec = price["recurring"] or {}
    count, interval = rec.get("interval_count", 1), rec.get("interval", "month")
    return f"/ {interval}" if count == 1 else f"every {count} {interval}s"


def invoice_line(inv_id: str, sub: JSON, item: JSON, product_name: str, start: int,
                 end: int) -> JSON:
    price = item["price"]
    amount = price["unit_amount"] * item["quantity"]
    unit = format_amount(price["unit_amount"], price["currency"])
    return {
        "amount": amount, "currency": price["currency"],
        "description": f"{item['quantity']} \u00d7 {product_name} "
                       f"(at {unit} {_interval_text(price)})",
        "discount_amounts": [], "discountable": True, "discounts": [],
        "id": new_id("il_1", 24), "invoice": inv_id, "livemode": False, "metadata": {},
        "object": "line_item", "period": {"end": end, "start": start},
        "quantity": item["quantity"], "subscription": sub["id"], "pretax_credit_amounts": [],
        "taxes": [],
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None, "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": sub["id"], "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        "pricing": {"price_details": {"price": price["id"], "product": price["product"]},
                    "type": "price_details", "unit_amount_decimal": price["unit_amount_decimal"]},
        "subtotal": amount, "quantity_decimal": None,
    }


def invoice(created: int, inv_id: str, cus: JSON, sub: JSON, lines: list[JSON],
            billing_reason: str, period_start: int, period_end: int) -> JSON:
    """A finalized, not yet paid invoice; the caller marks it paid or failed."""
    total = sum(line["amount"] for line in lines)
    number = f"{cus['invoice_prefix']}-{cus['next_invoice_sequence']:04d}"
    cus["next_invoice_sequence"] += 1
    return {
        "account_country": "US", "account_name": "Stripe Emulator Shop",
        "account_tax_ids": None, "amount_due": total, "amount_paid": 0,
        "amount_remaining": total, "amount_shipping": 0, "application": None,
        "attempt_count": 0, "attempted": False, "auto_advance": True,
        "automatic_tax": {"enabled": False, "liability": None, "status": None,
                          "disabled_reason": None, "provider": None},
        "billing_reason": billing_reason, "collection_method": "charge_automatically",
        "created": created, "currency": sub["currency"], "custom_fields": None,
        "customer": cus["id"], "customer_address": cus["address"],
        "customer_email": cus["email"], "customer_name": cus["name"], "customer_phone": None,
        "customer_shipping": None, "customer_tax_exempt": "none", "customer_tax_ids": [],
        "default_payment_method": None, "default_source": None, "default_tax_rates": [],
        "description": None, "discounts": [], "due_date": None, "effective_at": created,
        "ending_balance": 0, "footer": None, "from_invoice": None,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_emulator/test_{inv_id}",
        "id": inv_id,
        "invoice_pdf": f"https://pay.stripe.com/invoice/acct_emulator/test_{inv_id}/pdf",
        "issuer": {"type": "self"}, "last_finalization_error": None, "latest_revision": None,
        "lines": list_envelope(lines, f"/v1/invoices/{inv_id}/lines"),
        "livemode": False, "metadata": {}, "next_payment_attempt": None, "number": number,
        "object": "invoice", "on_behalf_of": None,
        "payment_settings": {"default_mandate": None, "payment_method_options": None,
                             "payment_method_types": None},
        "period_end": period_end, "period_start": period_start,
        "post_payment_credit_notes_amount": 0, "pre_payment_credit_notes_amount": 0,
        "receipt_number": None, "rendering": None, "shipping_cost": None,
        "shipping_details": None, "starting_balance": 0, "statement_descriptor": None,
        "status": "open",
        "status_transitions": {"finalized_at": created, "marked_uncollectible_at": None,
                               "paid_at": None, "voided_at": None},
        "subtotal": total, "subtotal_excluding_tax": total, "test_clock": None, "total": total,
        "total_discount_amounts": [], "total_excluding_tax": total,
        "webhooks_delivered_at": created, "automatically_finalizes_at": None,
        "total_pretax_credit_amounts": [], "total_taxes": [], "amount_overpaid": 0,
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": dict(sub["metadata"]),
                                     "subscription": sub["id"]},
            "type": "subscription_details",
        },
        "customer_account": None,
    }
