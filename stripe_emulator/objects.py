"""Builders for checkout and payment objects, list envelopes and error bodies (fixture key sets)."""

from __future__ import annotations

from typing import Any

from .store import JSON, new_id

ERROR_DOCS = "https://docs.stripe.com/error-codes/"


def error_body(
    message: str,
    *,
    type_: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> JSON:
    doc_url = ERROR_DOCS + code.replace("_", "-") if code else None
    return {
        "error": {"type": type_, "code": code, "message": message, "param": param,
                  "doc_url": doc_url}
    }


def list_envelope(data: list[JSON], url: str, has_more: bool = False) -> JSON:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def address(**values: str | None) -> JSON:
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return {k: values.get(k) for k in keys}


def recurring(interval: str, interval_count: int) -> JSON:
    return {"interval": interval, "interval_count": interval_count, "meter": None,
            "usage_type": "licensed", "trial_period_days": None}


def product(created: int, name: str, description: str | None, metadata: JSON,
            images: list[str] | None = None) -> JSON:
    return {
        "active": True, "created": created, "default_price": None, "description": description,
        "id": new_id("prod_", 14), "images": images or [], "livemode": False,
        "marketing_features": [], "metadata": metadata, "name": name, "object": "product",
        "package_dimensions": None, "shippable": None, "statement_descriptor": None,
        "tax_code": None, "unit_label": None, "updated": created, "url": None, "type": "service",
    }


def price(created: int, currency: str, unit_amount: int, product_id: str,
          recurring_: JSON | None, tax_behavior: str = "unspecified") -> JSON:
    return {
        "active": True, "billing_scheme": "per_unit", "created": created, "currency": currency,
        "custom_unit_amount": None, "id": new_id("price_1", 24), "livemode": False,
        "lookup_key": None, "metadata": {}, "nickname": None, "object": "price",
        "product": product_id, "recurring": recurring_, "tax_behavior": tax_behavior,
        "tiers_mode": None, "transform_quantity": None,
        "type": "recurring" if recurring_ else "one_time",
        "unit_amount": unit_amount, "unit_amount_decimal": str(unit_amount),
    }


def line_item(price_obj: JSON, quantity: int, description: str, metadata: JSON,
              adjustable_quantity: JSON | None) -> JSON:
    amount = price_obj["unit_amount"] * quantity
    return {
        "amount_discount": 0, "amount_subtotal": amount, "amount_tax": 0, "amount_total": amount,
        "currency": price_obj["currency"], "description": description,
        "id": new_id("li_1", 24), "object": "item", "price": price_obj, "quantity": quantity,
        "metadata": metadata, "adjustable_quantity": adjustable_quantity,
    }


def checkout_session(fields: JSON) -> JSON:
    """A new open session; `fields` holds the already validated create params."""
    mode = fields["mode"]
    payment = mode == "payment"
    invoice_enabled = bool(fields.get("invoice_creation_enabled"))
    return {
        "after_expiration": fields.get("after_expiration"),
        "allow_promotion_codes": fields.get("allow_promotion_codes"),
        "amount_subtotal": fields["amount"], "amount_total": fields["amount"],
        "automatic_tax": {"enabled": False, "liability": None, "status": None, "provider": None},
        "billing_address_collection": fields.get("billing_address_collection"),
        "cancel_url": fields.get("cancel_url"),
        "client_reference_id": fields.get("client_reference_id"),
        "client_secret": None, "consent": None, "consent_collection": None,
        "created": fields["created"], "currency": fields["currency"], "custom_fields": [],
        "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                        "terms_of_service_acceptance": None},
        "customer": fields.get("customer"),
        "customer_creation": fields.get("customer_creation", "if_required") if payment else None,
        "customer_details": None, "customer_email": fields.get("customer_email"),
        "expires_at": fields["expires_at"], "id": fields["id"], "invoice": None,
        "invoice_creation": {
            "enabled": invoice_enabled,
            "invoice_data": {"account_tax_ids": None, "custom_fields": None, "description": None,
                             "footer": None, "issuer": None, "metadata": {},
                             "rendering_options": None},
        } if payment else None,
        "livemode": False, "locale": fields.get("locale"), "metadata": fields["metadata"],
        "mode": mode, "object": "checkout.session", "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": None if payment else fields.get(
            "payment_method_collection", "always"),
        "payment_method_configuration_details": None, "payment_method_options": {},
        "payment_method_types": ["card"], "payment_status": "unpaid",
        "phone_number_collection": {"enabled": bool(fields.get("phone_number_collection"))},
        "recovered_from": None, "saved_payment_method_options": None, "setup_intent": None,
        "shipping_address_collection": (
            {"allowed_countries": fields["allowed_countries"]}
            if fields.get("allowed_countries") else None),
        "shipping_cost": None, "shipping_options": [], "status": "open",
        "submit_type": fields.get("submit_type"), "subscription": None,
        "success_url": fields.get("success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": fields.get("ui_mode", "hosted_page"), "url": fields["url"],
        "adaptive_pricing": {"enabled": False}, "discounts": [], "collected_information": None,
        "permissions": None, "wallet_options": None, "origin_context": None,
        "currency_conversion": None, "customer_account": None, "integration_identifier": None,
        "managed_payments": None,
    }


def customer_details(email: str | None, name: str | None, addr: JSON) -> JSON:
    return {"address": addr, "email": email, "name": name, "phone": None, "tax_exempt": "none",
            "tax_ids": [], "business_name": None, "individual_name": None}


def payment_intent(created: int, amount: int, currency: str, *, status: str, metadata: JSON,
                   customer: str | None = None, description: str | None = None,
                   receipt_email: str | None = None) -> JSON:
    pi_id = new_id("pi_3", 24)
    return {
        "amount": amount, "amount_capturable": 0, "amount_details": {"tip": {}},
        "amount_received": amount if status == "succeeded" else 0, "application": None,
        "application_fee_amount": None, "automatic_payment_methods": None, "canceled_at": None,
        "cancellation_reason": None, "capture_method": "automatic",
        "client_secret": f"{pi_id}_secret_{new_id('', 25)}", "confirmation_method": "automatic",
        "created": created, "currency": currency, "customer": customer,
        "description": description, "id": pi_id, "last_payment_error": None,
        "latest_charge": None, "livemode": False, "metadata": metadata, "next_action": None,
        "object": "payment_intent", "on_behalf_of": None,
        "payment_method": new_id("pm_1", 24), "payment_method_configuration_details": None,
        "payment_method_options": {}, "payment_method_types": ["card"], "processing": None,
        "receipt_email": receipt_email, "review": None, "setup_future_usage": None,
        "shipping": None, "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": status, "transfer_data": None, "transfer_group": None, "source": None,
        "excluded_payment_method_types": None, "customer_account": None,
        "managed_payments": None,
    }


def _card_details(amount: int) -> JSON:
    return {
        "card": {
            "amount_authorized": amount, "brand": "visa",
            "checks": {"address_line1_check": None, "address_postal_code_check": "pass",
                       "cvc_check": "pass"},
            "country": "US", "exp_month": 12, "exp_year": 2030,
            "extended_authorization": {"status": "disabled"},
            "fingerprint": "EmUlAtOrFp4242xx", "funding": "credit",
            "incremental_authorization": {"status": "unavailable"}, "installments": None,
            "last4": "4242", "mandate": None, "multicapture": {"status": "unavailable"},
            "network": "visa", "network_token": {"used": False},
            "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
            "three_d_secure": None, "wallet": None, "authorization_code": None,
            "regulated_status": "unregulated", "network_transaction_id": None,
            "transaction_link_id": None,
        },
        "type": "card",
    }


def charge(created: int, pi: JSON, billing: JSON) -> JSON:
    """A succeeded card charge for a payment intent; `billing` is a billing_details dict."""
    ch_id = "ch_" + pi["id"][3:]
    amount = pi["amount"]
    return {
        "amount": amount, "amount_captured": amount, "amount_refunded": 0, "application": None,
        "application_fee": None, "application_fee_amount": None,
        "balance_transaction": new_id("txn_3", 24), "billing_details": billing,
        "calculated_statement_descriptor": "STRIPE EMULATOR", "captured": True,
        "created": created, "currency": pi["currency"], "customer": pi["customer"],
        "description": pi["description"], "disputed": False,
        "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
        "fraud_details": {}, "id": ch_id, "livemode": False, "metadata": {},
        "object": "charge", "on_behalf_of": None,
        "outcome": {"advice_code": None, "network_advice_code": None,
                    "network_decline_code": None, "network_status": "approved_by_network",
                    "reason": None, "seller_message": "Payment complete.",
                    "type": "authorized"},
        "paid": True, "payment_intent": pi["id"], "payment_method": pi["payment_method"],
        "payment_method_details": _card_details(amount), "receipt_email": pi["receipt_email"],
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{new_id('', 40)}",
        "refunded": False,
        "refunds": list_envelope([], f"/v1/charges/{ch_id}/refunds"),
        "review": None, "shipping": None, "source_transfer": None, "statement_descriptor": None,
        "statement_descriptor_suffix": None, "status": "succeeded", "transfer_data": None,
        "transfer_group": None, "source": None,
    }


def billing_details(email: str | None, name: str | None, addr: JSON | None = None) -> JSON:
    return {"address": addr or address(), "email": email, "name": name, "phone": None,
            "tax_id": None}


def refund(created: int, ch: JSON, amount: int, reason: str | None, metadata: JSON) -> JSON:
    return {
        "amount": amount, "balance_transaction": new_id("txn_3", 24), "charge": ch["id"],
        "created": created, "currency": ch["currency"],
        "destination_details": {"card": {"type": "reversal"}, "type": "card"},
        "id": new_id("re_3", 24), "metadata": metadata, "object": "refund",
        "payment_intent": ch["payment_intent"], "reason": reason, "receipt_number": None,
        "source_transfer_reversal": None, "status": "succeeded", "transfer_reversal": None,
        "customer": ch["customer"], "customer_account": None,
        "payment_method": ch["payment_method"], "description": None,
        "failure_balance_transaction": None, "failure_reason": None,
        "instructions_email": None, "next_action": None, "pending_reason": None,
    }


_EVIDENCE_KEYS = (
    "access_activity_log", "billing_address", "cancellation_policy",
    "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication",
    "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
    "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id",
    "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address",
    "shipping_carrier", "shipping_date", "shipping_documentation", "shipping_tracking_number",
    "uncategorized_file", "uncategorized_text",
)


def dispute(created: int, ch: JSON, amount: int, reason: str, due_by: int) -> JSON:
    evidence: dict[str, Any] = {k: None for k in _EVIDENCE_KEYS}
    evidence["enhanced_evidence"] = {}
    return {
        "amount": amount, "balance_transactions": [], "charge": ch["id"], "created": created,
        "currency": ch["currency"], "evidence": evidence,
        "evidence_details": {"due_by": due_by, "has_evidence": False, "past_due": False,
                             "submission_count": 0, "enhanced_eligibility": {}},
        "id": new_id("dp_1", 24), "is_charge_refundable": False, "livemode": False,
        "metadata": {}, "object": "dispute", "payment_intent": ch["payment_intent"],
        "payment_method_details": {
            "card": {"brand": "visa", "case_type": "chargeback", "network_reason_code": "10.4",
                     "network": "visa"},
            "type": "card",
        },
        "reason": reason, "status": "needs_response", "enhanced_eligibility_types": [],
    }
