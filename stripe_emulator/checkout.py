"""Validation and creation of Checkout Sessions (`POST /v1/checkout/sessions`)."""

from __future__ import annotations

import re
from typing import Any

from . import objects
from .errors import ApiError, invalid, missing, no_such
from .money import MAXIMUM, format_amount, minimum
from .params import boolean, check_keys, integer, metadata, string, string_list, sub_dict
from .store import JSON, Store, new_id

SESSION_PARAMS = frozenset({
    "mode", "line_items", "success_url", "cancel_url", "client_reference_id", "customer_email",
    "customer", "customer_creation", "submit_type", "metadata", "payment_intent_data",
    "subscription_data", "expires_at", "shipping_address_collection",
    "billing_address_collection", "phone_number_collection", "locale", "allow_promotion_codes",
    "invoice_creation", "allowed_payment_method_types", "excluded_payment_method_types",
    "payment_method_types", "ui_mode", "return_url", "payment_method_collection",
    "after_expiration", "expand", "currency",
})
LINE_PARAMS = ("price", "price_data", "quantity", "adjustable_quantity", "metadata")
PRICE_DATA_PARAMS = ("currency", "unit_amount", "unit_amount_decimal", "product",
                     "product_data", "recurring", "tax_behavior")
PRODUCT_DATA_PARAMS = ("name", "description", "images", "metadata", "tax_code", "unit_label")
PI_DATA_PARAMS = ("metadata", "description", "receipt_email", "statement_descriptor",
                  "statement_descriptor_suffix", "capture_method", "setup_future_usage")
SUB_DATA_PARAMS = ("metadata", "description")
INTERVAL_MAX = {"day": 1095, "week": 156, "month": 36, "year": 3}
_URL = re.compile(r"^https?://\S+$")
_CURRENCY = re.compile(r"^[a-z]{3}$")


def _url(params: JSON, key: str) -> str | None:
    value = string(params, key)
    if value is not None and not _URL.match(value):
        raise invalid(f"Not a valid URL: {value}", key, code="url_invalid")
    return value


def _currency(value: Any, param: str) -> str:
    if not isinstance(value, str) or not value:
        raise missing(param)
    if not _CURRENCY.match(value):
        raise invalid(f"Invalid currency: {value}. Use a lowercase three-letter ISO code.", param)
    return value


def _unit_amount(data: JSON, prefix: str) -> int:
    amount = integer(data, "unit_amount", f"{prefix}[unit_amount]", minimum=0)
    if amount is not None:
        return amount
    decimal = data.get("unit_amount_decimal")
    if decimal in (None, ""):
        raise missing(f"{prefix}[unit_amount]")
    text = str(decimal)
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or frac.strip("0"):
        raise invalid("The emulator only supports whole minor units in unit_amount_decimal.",
                      f"{prefix}[unit_amount_decimal]")
    return int(whole)


def _recurring(data: JSON, prefix: str) -> JSON | None:
    raw = sub_dict(data, "recurring", ("interval", "interval_count"), f"{prefix}[recurring]")
    if not raw:
        return None
    interval = string(raw, "interval", f"{prefix}[recurring][interval]", required=True,
                      choices=INTERVAL_MAX)
    assert interval is not None
    count = integer(raw, "interval_count", f"{prefix}[recurring][interval_count]", minimum=1,
                    maximum=INTERVAL_MAX[interval]) or 1
    return objects.recurring(interval, count)


def _line(store: Store, raw: Any, index: int, created: int) -> JSON:
    """Validate one line item; returns the unsaved item plus any new price/product."""
    prefix = f"line_items[{index}]"
    check_keys(raw, LINE_PARAMS, prefix)
    quantity = integer(raw, "quantity", f"{prefix}[quantity]", required=True, minimum=1,
                       maximum=999999)
    assert quantity is not None
    price_id = string(raw, "price", f"{prefix}[price]")
    has_data = bool(raw.get("price_data"))
    if price_id and has_data:
        raise invalid("You may only specify one of these parameters: price, price_data.",
                      prefix, code="parameters_exclusive")
    new_product: JSON | None = None
    if price_id:
        price = store.snapshot(price_id)
        if price is None or price.get("object") != "price":
            raise no_such("price", price_id, f"{prefix}[price]", status=400)
        product = store.get(price["product"]) or {}
        description = str(product.get("name") or "Item")
        new_price = None
    elif has_data:
        pprefix = f"{prefix}[price_data]"
        data = check_keys(raw["price_data"], PRICE_DATA_PARAMS, pprefix)
        currency = _currency(data.get("currency"), f"{pprefix}[currency]")
        amount = _unit_amount(data, pprefix)
        rec = _recurring(data, pprefix)
        tax_behavior = string(data, "tax_behavior", f"{pprefix}[tax_behavior]",
                              choices=("exclusive", "inclusive", "unspecified")) or "unspecified"
        product_id = string(data, "product", f"{pprefix}[product]")
        if product_id and data.get("product_data"):
            raise invalid("You may only specify one of these parameters: product, product_data.",
                          pprefix, code="parameters_exclusive")
        if product_id:
            found = store.get(product_id, "product")
            if found is None:
                raise no_such("product", product_id, f"{pprefix}[product]", status=400)
            description = str(found["name"])
        else:
            dprefix = f"{pprefix}[product_data]"
            if not data.get("product_data"):
                raise missing(dprefix)
            pdata = check_keys(data["product_data"], PRODUCT_DATA_PARAMS, dprefix)
            name = string(pdata, "name", f"{dprefix}[name]", required=True)
            assert name is not None
            new_product = objects.product(
                created, name, string(pdata, "description", f"{dprefix}[description]"),
                metadata(pdata, param=f"{dprefix}[metadata]"),
                string_list(pdata, "images", f"{dprefix}[images]"))
            product_id, description = new_product["id"], name
        new_price = objects.price(created, currency, amount, product_id, rec, tax_behavior)
        price = new_price
    else:
        raise missing(f"{prefix}[price_data]")
    adjustable = sub_dict(raw, "adjustable_quantity", ("enabled", "minimum", "maximum"),
                          f"{prefix}[adjustable_quantity]")
    adj = {
        "enabled": bool(boolean(adjustable, "enabled")),
        "maximum": integer(adjustable, "maximum", f"{prefix}[adjustable_quantity][maximum]"),
        "minimum": integer(adjustable, "minimum", f"{prefix}[adjustable_quantity][minimum]"),
    } if adjustable else None
    item = objects.line_item(price, quantity, description,
                             metadata(raw, param=f"{prefix}[metadata]"), adj)
    return {"item": item, "price": new_price, "product": new_product}


def _check_modes(mode: str, lines: list[JSON]) -> None:
    intervals = set()
    for i, line in enumerate(lines):
        rec = line["item"]["price"]["recurring"]
        if mode == "payment" and rec:
            raise invalid("You specified `payment` mode but passed a recurring price. Either "
                          "switch to `subscription` mode or use only one-time prices.",
                          f"line_items[{i}]")
        if mode == "subscription":
            if not rec:
                raise invalid("You must provide a recurring price for every line item in "
                              "`subscription` mode (one-time items are not emulated).",
                              f"line_items[{i}][price_data][recurring]")
            intervals.add((rec["interval"], rec["interval_count"]))
    if len(intervals) > 1:
        raise invalid("All recurring line items must have the same billing interval.",
                      "line_items")


def _mode_params(params: JSON, mode: str, fields: JSON) -> None:
    payment = mode == "payment"
    if params.get("payment_intent_data") not in (None, "") and not payment:
        raise invalid("You can not pass `payment_intent_data` in `subscription` mode.",
                      "payment_intent_data")
    if params.get("subscription_data") not in (None, "") and payment:
        raise invalid("You can only pass `subscription_data` in `subscription` mode.",
                      "subscription_data")
    for key in ("customer_creation", "invoice_creation"):
        if params.get(key) not in (None, "") and not payment:
            raise invalid(f"`{key}` can only be used in `payment` mode.", key)
    if params.get("payment_method_collection") not in (None, "") and payment:
        raise invalid("`payment_method_collection` can only be used in `subscription` mode.",
                      "payment_method_collection")
    submit = string(params, "submit_type", choices=("auto", "book", "donate", "pay", "subscribe"))
    if submit and payment and submit == "subscribe":
        raise invalid("`submit_type=subscribe` can only be used in `subscription` mode.",
                      "submit_type")
    if submit and not payment and submit not in ("auto", "subscribe"):
        raise invalid(f"`submit_type={submit}` can only be used in `payment` mode.",
                      "submit_type")
    fields["submit_type"] = submit
    pi = sub_dict(params, "payment_intent_data", PI_DATA_PARAMS)
    string(pi, "capture_method", "payment_intent_data[capture_method]",
           choices=("automatic", "automatic_async"))
    fields["pi_data"] = {
        "metadata": metadata(pi, param="payment_intent_data[metadata]"),
        "description": string(pi, "description", "payment_intent_data[description]"),
        "receipt_email": string(pi, "receipt_email", "payment_intent_data[receipt_email]"),
    }
    sub = sub_dict(params, "subscription_data", SUB_DATA_PARAMS)
    fields["sub_data"] = {
        "metadata": metadata(sub, param="subscription_data[metadata]"),
        "description": string(sub, "description", "subscription_data[description]"),
    }
    fields["customer_creation"] = string(params, "customer_creation",
                                         choices=("always", "if_required")) or "if_required"
    fields["payment_method_collection"] = string(
        params, "payment_method_collection", choices=("always", "if_required")) or "always"
    invoice = sub_dict(params, "invoice_creation", ("enabled", "invoice_data"))
    fields["invoice_creation_enabled"] = bool(boolean(invoice, "enabled",
                                                      "invoice_creation[enabled]"))


def _optional_params(store: Store, params: JSON, fields: JSON, created: int) -> None:
    fields["success_url"] = _url(params, "success_url")
    fields["cancel_url"] = _url(params, "cancel_url")
    ui_mode = string(params, "ui_mode", choices=("hosted_page", "hosted", "embedded_page",
                                                 "embedded", "elements", "form", "custom"))
    if ui_mode not in (None, "hosted_page", "hosted"):
        raise invalid("The emulator only supports `ui_mode=hosted_page`.", "ui_mode")
    if params.get("return_url"):
        raise invalid("`return_url` can only be used with embedded or elements ui_mode.",
                      "return_url")
    fields["client_reference_id"] = string(params, "client_reference_id")
    if len(fields["client_reference_id"] or "") > 200:
        raise invalid("client_reference_id must be at most 200 characters.",
                      "client_reference_id")
    email = string(params, "customer_email")
    if email is not None and "@" not in email:
        raise invalid(f"Invalid email address: {email}", "customer_email", code="email_invalid")
    fields["customer_email"] = email
    cus = string(params, "customer")
    if cus and email:
        raise invalid("You may only specify one of these parameters: customer, customer_email.",
                      "customer", code="parameters_exclusive")
    if cus and store.get(cus, "customer") is None:
        raise no_such("customer", cus, "customer", status=400)
    fields["customer"] = cus
    expires = integer(params, "expires_at")
    if expires is not None and expires < created + 1800:
        raise invalid("The `expires_at` timestamp must be at least 30 minutes from Checkout "
                      "Session creation.", "expires_at")
    if expires is not None and expires > created + 86400:
        raise invalid("The `expires_at` timestamp must be less than 24 hours from Checkout "
                      "Session creation.", "expires_at")
    fields["expires_at"] = expires or created + 86400
    ship = sub_dict(params, "shipping_address_collection", ("allowed_countries",))
    if ship:
        countries = string_list(ship, "allowed_countries",
                                "shipping_address_collection[allowed_countries]")
        if not countries or not all(re.fullmatch(r"[A-Z]{2}", c) for c in countries):
            raise invalid("allowed_countries must be a non-empty list of two-letter country "
                          "codes.", "shipping_address_collection[allowed_countries]")
        fields["allowed_countries"] = countries
    fields["billing_address_collection"] = string(params, "billing_address_collection",
                                                  choices=("auto", "required"))
    phone = sub_dict(params, "phone_number_collection", ("enabled",))
    fields["phone_number_collection"] = boolean(phone, "enabled",
                                                "phone_number_collection[enabled]")
    fields["locale"] = string(params, "locale")
    fields["allow_promotion_codes"] = boolean(params, "allow_promotion_codes")
    for key in ("allowed_payment_method_types", "excluded_payment_method_types",
                "payment_method_types"):
        string_list(params, key)
    after = sub_dict(params, "after_expiration", ("recovery",))
    if after:
        rec = sub_dict(after, "recovery", ("enabled", "allow_promotion_codes"),
                       "after_expiration[recovery]")
        fields["after_expiration"] = {"recovery": {
            "allow_promotion_codes": bool(boolean(rec, "allow_promotion_codes")),
            "enabled": bool(boolean(rec, "enabled")), "expires_at": None, "url": None}}


def create_session(store: Store, params: JSON, base_url: str) -> JSON:
    """Validate `params` like Stripe and store a new open session (nothing is stored on error)."""
    check_keys(params, SESSION_PARAMS)
    mode = string(params, "mode", required=True)
    if mode == "setup":
        raise invalid("The emulator does not support `mode=setup`.", "mode")
    if mode not in ("payment", "subscription"):
        raise invalid("Invalid mode: must be one of payment, setup, or subscription", "mode")
    created = store.now()
    raw_lines = params.get("line_items")
    if raw_lines in (None, "", []):
        raise missing("line_items")
    if not isinstance(raw_lines, list):
        raise invalid("Invalid array: line_items must be a list.", "line_items")
    if len(raw_lines) > 100:
        raise invalid("You can have at most 100 line items.", "line_items")
    lines = [_line(store, raw, i, created) for i, raw in enumerate(raw_lines)]
    currencies = {line["item"]["currency"] for line in lines}
    top = params.get("currency")
    if top not in (None, ""):
        currencies.add(_currency(top, "currency"))
    if len(currencies) > 1:
        raise invalid("All line items must use the same currency.", "line_items")
    currency = currencies.pop()
    _check_modes(mode, lines)
    amount = sum(line["item"]["amount_total"] for line in lines)
    if amount < minimum(currency):
        raise ApiError(400, "The Checkout Session's total amount due must add up to at least "
                       f"{format_amount(minimum(currency), currency)} {currency}",
                       code="amount_too_small", param="line_items")
    if amount > MAXIMUM:
        raise ApiError(400, "The Checkout Session's total amount due must be no more than "
                       f"{format_amount(MAXIMUM, currency)} {currency}",
                       code="amount_too_large", param="line_items")
    fields: JSON = {"mode": mode, "created": created, "currency": currency, "amount": amount,
                    "metadata": metadata(params)}
    _mode_params(params, mode, fields)
    _optional_params(store, params, fields, created)
    string_list(params, "expand")
    session_id = new_id("cs_test_a1", 56)
    fields["id"] = session_id
    fields["url"] = f"{base_url.rstrip('/')}/c/pay/{session_id}"
    session = objects.checkout_session(fields)
    with store.lock:
        for line in lines:
            for extra in (line["product"], line["price"]):
                if extra is not None:
                    store.put(extra)
        store.put(session)
        store.line_items[session_id] = [line["item"] for line in lines]
        store.extra[session_id] = {"pi_data": fields["pi_data"], "sub_data": fields["sub_data"]}
    return session
