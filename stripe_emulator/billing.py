"""Subscription lifecycle: start from a paid session, renewal cycles, cancellation."""

from __future__ import annotations

from . import billing_objects as bo
from . import objects
from .errors import invalid, no_such
from .params import boolean, check_keys, string, sub_dict
from .store import JSON, Store, new_id

FEEDBACK = ("customer_service", "low_quality", "missing_features", "other", "switched_service",
            "too_complex", "too_expensive", "unused")


def _charge_invoice(store: Store, inv: JSON, cus: JSON, billing: JSON, description: str) -> None:
    """Pay an invoice by card: payment_intent + charge, invoice -> paid."""
    now = store.now()
    pi = objects.payment_intent(now, inv["amount_due"], inv["currency"], status="succeeded",
                                metadata={}, customer=cus["id"], description=description)
    ch = objects.charge(now, pi, billing)
    pi["latest_charge"] = ch["id"]
    store.put(pi)
    store.put(ch)
    inv.update({"amount_paid": inv["amount_due"], "amount_remaining": 0, "attempted": True,
                "attempt_count": inv["attempt_count"] + 1, "status": "paid",
                "next_payment_attempt": None, "auto_advance": False})
    inv["status_transitions"]["paid_at"] = now
    # How Stripe links an invoice to the PaymentIntent that paid it (API 2025-03-31 on).
    store.put({
        "amount_paid": inv["amount_due"], "amount_requested": inv["amount_due"],
        "created": now, "currency": inv["currency"], "id": new_id("inpay_1", 24),
        "invoice": inv["id"], "is_default": True, "livemode": False,
        "object": "invoice_payment",
        "payment": {"type": "payment_intent", "payment_intent": pi["id"]},
        "status": "paid", "status_transitions": {"canceled_at": None, "paid_at": now},
    })


def _product_name(store: Store, price: JSON) -> str:
    product = store.get(price["product"]) or {}
    return str(product.get("name") or "Subscription")


def _new_invoice(store: Store, sub: JSON, cus: JSON, reason: str, period: tuple[int, int],
                 line_period: tuple[int, int]) -> JSON:
    inv_id = new_id("in_1", 24)
    lines = [bo.invoice_line(inv_id, sub, item, _product_name(store, item["price"]),
                             *line_period) for item in sub["items"]["data"]]
    inv = bo.invoice(store.now(), inv_id, cus, sub, lines, reason, *period)
    store.put(inv)
    sub["latest_invoice"] = inv_id
    return inv


def start_subscription(store: Store, session: JSON, email: str | None, name: str | None,
                       addr: JSON) -> list[tuple[str, JSON]]:
    """Create customer, subscription and its paid first invoice; returns events to emit."""
    now = store.now()
    cus = store.get(session["customer"] or "", "customer")
    if cus is None:
        cus = bo.customer(now, email, name)
        cus["address"] = addr
        store.put(cus)
    extra = store.extra.get(session["id"], {})
    sub_data = extra.get("sub_data", {"metadata": {}, "description": None})
    sub_id = new_id("sub_1", 24)
    items = []
    for line in store.line_items[session["id"]]:
        rec = line["price"]["recurring"]
        end = bo.add_interval(now, rec["interval"], rec["interval_count"])
        items.append(bo.subscription_item(now, sub_id, line["price"], line["quantity"], now, end))
    sub = bo.subscription(now, sub_id, cus, session["currency"], items,
                          dict(sub_data["metadata"]), sub_data["description"],
                          new_id("pm_1", 24))
    store.put(sub)
    inv = _new_invoice(store, sub, cus, "subscription_create", (now, now),
                       (now, items[0]["current_period_end"]))
    _charge_invoice(store, inv, cus, objects.billing_details(email, name, addr),
                    "Subscription creation")
    session.update({"customer": cus["id"], "subscription": sub_id, "invoice": inv["id"]})
    return [("customer.subscription.created", sub), ("invoice.paid", inv)]


def cycle_subscription(store: Store, sub_id: str, outcome: str) -> JSON:
    """Bill the next period (control API); `outcome` is `paid` or `failed`. Returns the invoice."""
    if outcome not in ("paid", "failed"):
        raise invalid("outcome must be `paid` or `failed`.", "outcome")
    with store.lock:
        sub = store.get(sub_id, "subscription")
        if sub is None:
            raise no_such("subscription", sub_id)
        if sub["status"] not in ("active", "past_due"):
            raise invalid(f"Subscription {sub_id} has status {sub['status']} and cannot renew.")
        cus = store.get(sub["customer"], "customer")
        assert cus is not None
        first = sub["items"]["data"][0]
        old = (first["current_period_start"], first["current_period_end"])
        for item in sub["items"]["data"]:
            rec = item["price"]["recurring"]
            start = item["current_period_end"]
            item["current_period_start"] = start
            item["current_period_end"] = bo.add_interval(start, rec["interval"],
                                                         rec["interval_count"])
        inv = _new_invoice(store, sub, cus, "subscription_cycle", old,
                           (first["current_period_start"], first["current_period_end"]))
        previous_status = sub["status"]
        if outcome == "paid":
            billing = objects.billing_details(cus["email"], cus["name"], cus["address"])
            _charge_invoice(store, inv, cus, billing, "Subscription update")
            sub["status"] = "active"
            store.add_event("invoice.paid", inv)
        else:
            inv.update({"attempted": True, "attempt_count": 1,
                        "next_payment_attempt": store.now() + 3 * 86400})
            sub["status"] = "past_due"
            store.add_event("invoice.payment_failed", inv)
        if sub["status"] != previous_status:
            store.add_event("customer.subscription.updated", sub,
                            previous={"status": previous_status})
        return inv


def cancel_subscription(store: Store, sub_id: str, params: JSON, request: JSON) -> JSON:
    """`DELETE /v1/subscriptions/{id}`: cancel now and emit `customer.subscription.deleted`."""
    check_keys(params, ("cancellation_details", "invoice_now", "prorate", "expand"))
    details = sub_dict(params, "cancellation_details", ("comment", "feedback"))
    comment = string(details, "comment", "cancellation_details[comment]")
    feedback = string(details, "feedback", "cancellation_details[feedback]", choices=FEEDBACK)
    boolean(params, "invoice_now")
    boolean(params, "prorate")
    with store.lock:
        sub = store.get(sub_id, "subscription")
        if sub is None:
            raise no_such("subscription", sub_id)
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise invalid(f"Subscription {sub_id} has already been canceled; a canceled "
                          "subscription can't be canceled again.")
        now = store.now()
        sub.update({"status": "canceled", "canceled_at": now, "ended_at": now})
        sub["cancellation_details"] = {"comment": comment, "feedback": feedback,
                                       "reason": "cancellation_requested"}
        store.add_event("customer.subscription.deleted", sub, request)
        return sub


END_REASONS = ("payment_failed", "payment_disputed", "cancellation_requested")


def end_subscription(store: Store, sub_id: str, reason: str) -> JSON:
    """Stripe cancels a subscription on its own (control API): after its retries failed by
    default. Its open invoices stay open: the customer can still pay them."""
    if reason not in END_REASONS:
        raise invalid(f"reason must be one of {', '.join(END_REASONS)}.", "reason")
    with store.lock:
        sub = store.get(sub_id, "subscription")
        if sub is None:
            raise no_such("subscription", sub_id)
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise invalid(f"Subscription {sub_id} has already been canceled.")
        now = store.now()
        sub.update({"status": "canceled", "canceled_at": now, "ended_at": now})
        sub["cancellation_details"] = {"comment": None, "feedback": None, "reason": reason}
        store.add_event("customer.subscription.deleted", sub)
        return sub


def pay_open_invoice(store: Store, invoice_id: str) -> JSON:
    """The customer pays an open invoice (its hosted page), whatever became of its
    subscription since; a past-due subscription is active again. Returns the invoice."""
    with store.lock:
        inv = store.get(invoice_id, "invoice")
        if inv is None:
            raise no_such("invoice", invoice_id)
        if inv["status"] != "open":
            raise invalid(f"Invoice {invoice_id} is {inv['status']}; only an open invoice "
                          "can be paid.", code="invoice_not_open")
        cus = store.get(inv["customer"], "customer")
        assert cus is not None
        billing = objects.billing_details(cus["email"], cus["name"], cus["address"])
        _charge_invoice(store, inv, cus, billing, "Payment for Invoice")
        store.add_event("invoice.paid", inv)
        details = (inv.get("parent") or {}).get("subscription_details") or {}
        sub = store.get(details.get("subscription") or "", "subscription")
        if sub is not None and sub["status"] == "past_due":
            sub["status"] = "active"
            store.add_event("customer.subscription.updated", sub,
                            previous={"status": "past_due"})
        return inv
