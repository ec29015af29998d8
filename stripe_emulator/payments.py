"""Payment flows: paying/settling/expiring sessions, refunds and disputes."""

from __future__ import annotations

from . import billing, objects
from . import billing_objects as bo
from .errors import ApiError, invalid, missing, no_such
from .params import check_keys, integer, metadata, string
from .store import JSON, Store, new_id

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
DISPUTE_REASONS = ("bank_cannot_process", "check_returned", "credit_not_processed",
                   "customer_initiated", "debit_not_authorized", "duplicate", "fraudulent",
                   "general", "incorrect_account_details", "insufficient_funds",
                   "noncompliant", "product_not_received", "product_unacceptable",
                   "subscription_canceled", "unrecognized")
OPEN_DISPUTE = ("warning_needs_response", "needs_response", "under_review",
                "warning_under_review", "appeal_needs_response", "appeal_under_review")
INQUIRY = ("warning_needs_response", "warning_under_review")
# How an open dispute moves on without closing (charge.dispute.updated) ...
DISPUTE_MOVES = {
    "warning_needs_response": ("warning_under_review", "needs_response"),
    "warning_under_review": ("needs_response",),
    "needs_response": ("under_review",),
    "lost": ("appeal_needs_response",),  # the merchant appeals the decision
    "appeal_needs_response": ("appeal_under_review",),
}
# ... and how it closes (charge.dispute.closed). `prevented`: a chargeback stopped before
# it was filed (Visa RDR) by refunding the cardholder.
DISPUTE_ENDS = {
    "warning_closed": INQUIRY,
    "prevented": ("warning_needs_response", "warning_under_review", "needs_response"),
    "won": ("needs_response", "under_review", "appeal_needs_response", "appeal_under_review"),
    "lost": ("needs_response", "under_review", "appeal_needs_response", "appeal_under_review"),
}
# A refund's later fate (control API): refunds normally settle at once, some wait.
REFUND_MOVES = {
    "pending": ("succeeded", "failed", "canceled"),
    "requires_action": ("succeeded", "failed", "canceled"),
    "succeeded": ("failed",),
}
REFUND_FAILURES = ("lost_or_stolen_card", "expired_or_canceled_card",
                   "charge_for_pending_refund_disputed", "insufficient_funds", "declined",
                   "merchant_request", "unknown")


def _session(store: Store, session_id: str) -> JSON:
    session = store.get(session_id, "checkout.session")
    if session is None:
        raise no_such("checkout.session", session_id)
    return session


def shipping_address(form: JSON) -> JSON:
    """An address dict from `line1`, `city`, `postal_code`, `state`, `country` inputs."""
    keys = ("line1", "line2", "city", "postal_code", "state", "country")
    return objects.address(**{k: (str(form[k]) if form.get(k) else None) for k in keys})


def pay_session(store: Store, session_id: str, outcome: str, email: str | None,
                name: str | None, addr: JSON | None = None) -> JSON:
    """Complete an open session as the customer would; outcome `paid` or `delayed`."""
    if outcome not in ("paid", "delayed"):
        raise invalid("outcome must be `paid` or `delayed`.", "outcome")
    with store.lock:
        session = _session(store, session_id)
        if session["status"] != "open":
            raise invalid(f"This Checkout Session is no longer open (status "
                          f"{session['status']}).", code="checkout_session_not_open")
        if outcome == "delayed" and session["mode"] != "payment":
            raise invalid("Delayed payment methods are only emulated in `payment` mode.",
                          "outcome")
        email = email or session["customer_email"]
        addr = addr or objects.address()
        now = store.now()
        events: list[tuple[str, JSON]] = []
        if session["mode"] == "subscription":
            events += billing.start_subscription(store, session, email, name, addr)
        else:
            cus = store.get(session["customer"] or "", "customer")
            if cus is None and session["customer_creation"] == "always":
                cus = store.put(bo.customer(now, email, name))
                cus["address"] = addr
            pi_data = store.extra.get(session_id, {}).get("pi_data", {})
            pi = objects.payment_intent(
                now, session["amount_total"], session["currency"],
                status="succeeded" if outcome == "paid" else "processing",
                metadata=dict(pi_data.get("metadata") or {}),
                customer=cus["id"] if cus else None, description=pi_data.get("description"),
                receipt_email=pi_data.get("receipt_email"))
            store.put(pi)
            session.update({"payment_intent": pi["id"], "customer": pi["customer"]})
            if outcome == "paid":
                ch = store.put(objects.charge(now, pi, objects.billing_details(email, name,
                                                                               addr)))
                pi["latest_charge"] = ch["id"]
                events += [("payment_intent.succeeded", pi), ("charge.succeeded", ch)]
        shipping = ({"address": addr, "name": name}
                    if session["shipping_address_collection"] else None)
        session.update({
            "status": "complete", "url": None,
            "payment_status": "paid" if outcome == "paid" else "unpaid",
            "customer_details": objects.customer_details(email, name, addr),
            "collected_information": {"shipping_details": shipping, "business_name": None,
                                      "individual_name": None},
        })
        events.append(("checkout.session.completed", session))
        for event_type, obj in events:
            store.add_event(event_type, obj)
        return session


def settle_session(store: Store, session_id: str, outcome: str) -> JSON:
    """Finish a delayed payment: `succeeded` or `failed`."""
    if outcome not in ("succeeded", "failed"):
        raise invalid("outcome must be `succeeded` or `failed`.", "outcome")
    with store.lock:
        session = _session(store, session_id)
        pi = store.get(session["payment_intent"] or "", "payment_intent")
        if session["status"] != "complete" or pi is None or pi["status"] != "processing":
            raise invalid("Only completed sessions with a processing (delayed) payment can be "
                          "settled.")
        if outcome == "succeeded":
            details = session["customer_details"] or {}
            ch = store.put(objects.charge(store.now(), pi, objects.billing_details(
                details.get("email"), details.get("name"), details.get("address"))))
            pi.update({"status": "succeeded", "amount_received": pi["amount"],
                       "latest_charge": ch["id"]})
            session["payment_status"] = "paid"
            store.add_event("payment_intent.succeeded", pi)
            store.add_event("charge.succeeded", ch)
            store.add_event("checkout.session.async_payment_succeeded", session)
        else:
            pi.update({"status": "requires_payment_method", "last_payment_error": {
                "code": "payment_method_provider_decline", "decline_code": None,
                "message": "The bank transfer could not be completed.",
                "type": "invalid_request_error"}})
            store.add_event("payment_intent.payment_failed", pi)
            store.add_event("checkout.session.async_payment_failed", session)
        return session


def expire_session(store: Store, session_id: str, request: JSON | None = None) -> JSON:
    with store.lock:
        session = _session(store, session_id)
        if session["status"] != "open":
            raise invalid(f"Only Checkout Sessions with a status in [\"open\"] can be expired. "
                          f"This Checkout Session has a status of \"{session['status']}\".",
                          code="checkout_session_not_open")
        session.update({"status": "expired", "url": None})
        store.add_event("checkout.session.expired", session, request)
        return session


def _refundable_charge(store: Store, params: JSON) -> JSON:
    pi_id = string(params, "payment_intent")
    ch_id = string(params, "charge")
    if not pi_id and not ch_id:
        raise missing("charge")
    if pi_id:
        pi = store.get(pi_id, "payment_intent")
        if pi is None:
            raise no_such("payment_intent", pi_id, "payment_intent", status=400)
        if not pi["latest_charge"] or pi["status"] != "succeeded":
            raise invalid(f"This PaymentIntent ({pi_id}) does not have a successful charge to "
                          "refund.", "payment_intent", code="payment_intent_unexpected_state")
        if ch_id and ch_id != pi["latest_charge"]:
            raise invalid(f"Charge {ch_id} does not belong to PaymentIntent {pi_id}.", "charge")
        ch_id = pi["latest_charge"]
    assert ch_id is not None
    ch = store.get(ch_id, "charge")
    if ch is None:
        raise no_such("charge", ch_id, "charge", status=400)
    return ch


def create_refund(store: Store, params: JSON, request: JSON) -> JSON:
    """`POST /v1/refunds`: refund all that remains, or `amount`, of a charge."""
    check_keys(params, ("payment_intent", "charge", "amount", "reason", "metadata", "expand"))
    amount = integer(params, "amount", minimum=1)
    reason = string(params, "reason", choices=REFUND_REASONS)
    meta = metadata(params)
    with store.lock:
        ch = _refundable_charge(store, params)
        for dp in store.all_of("dispute"):
            if dp["charge"] == ch["id"] and dp["status"] != "won" and \
                    not dp["is_charge_refundable"]:
                raise invalid(f"Charge {ch['id']} has been charged back; cannot issue a refund.",
                              code="charge_disputed")
        remaining = ch["amount"] - ch["amount_refunded"]
        if remaining <= 0:
            raise invalid(f"Charge {ch['id']} has already been refunded.",
                          code="charge_already_refunded")
        if amount is None:
            amount = remaining
        if amount > remaining:
            raise ApiError(400, f"Refund amount ({amount}) is greater than unrefunded amount on "
                           f"charge ({remaining})", code="amount_too_large", param="amount")
        return _refund_charge(store, ch, amount, reason, meta, request)


def _refund_charge(store: Store, ch: JSON, amount: int, reason: str | None, meta: JSON,
                   request: JSON) -> JSON:
    refund = store.put(objects.refund(store.now(), ch, amount, reason, meta))
    if store.pending_refunds > 0:  # e.g. the balance does not cover it yet
        store.pending_refunds -= 1
        refund["status"] = "pending"
    previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
    ch["refunds"]["data"].insert(0, refund)
    store.add_event("refund.created", refund, request)
    store.add_event("charge.refunded", ch, request, previous=previous)
    return refund


def create_dispute(store: Store, charge_id: str, reason: str, amount: int | None,
                   status: str = "needs_response") -> JSON:
    """A chargeback (`needs_response`) or an inquiry before one (`warning_needs_response`)."""
    if reason not in DISPUTE_REASONS:
        raise invalid(f"reason must be one of {', '.join(DISPUTE_REASONS)}", "reason")
    if status not in ("needs_response", "warning_needs_response"):
        raise invalid("status must be `needs_response` or `warning_needs_response`.", "status")
    with store.lock:
        ch = store.get(charge_id, "charge")
        if ch is None:
            raise no_such("charge", charge_id)
        if any(dp["charge"] == charge_id and dp["status"] in OPEN_DISPUTE
               for dp in store.all_of("dispute")):
            raise invalid(f"Charge {charge_id} already has an open dispute.")
        amount = ch["amount"] if amount is None else amount
        if not 1 <= amount <= ch["amount"]:
            raise invalid("amount must be between 1 and the charge amount.", "amount")
        now = store.now()
        dp = store.put(objects.dispute(now, ch, amount, reason, now + 7 * 86400))
        dp["status"] = status
        dp["is_charge_refundable"] = status in INQUIRY
        ch["disputed"] = True
        store.add_event("charge.dispute.created", dp)
        return dp


def _dispute(store: Store, dispute_id: str) -> JSON:
    dp = store.get(dispute_id, "dispute")
    if dp is None:
        raise no_such("dispute", dispute_id)
    return dp


def update_dispute(store: Store, dispute_id: str, status: str) -> JSON:
    """Move a dispute on without closing it; emits `charge.dispute.updated`."""
    with store.lock:
        dp = _dispute(store, dispute_id)
        if status not in DISPUTE_MOVES.get(dp["status"], ()):
            raise invalid(f"Dispute {dispute_id} is {dp['status']} and cannot become "
                          f"{status!r}.", "status")
        previous = {"status": dp["status"]}
        dp["status"] = status
        dp["is_charge_refundable"] = status in INQUIRY
        store.add_event("charge.dispute.updated", dp, previous=previous)
        return dp


def close_dispute(store: Store, dispute_id: str, outcome: str) -> JSON:
    """Close a dispute: `won`, `lost`, `warning_closed` (an inquiry that went no further)
    or `prevented` (the cardholder was refunded instead); emits `charge.dispute.closed`."""
    if outcome not in DISPUTE_ENDS:
        raise invalid(f"outcome must be one of {', '.join(DISPUTE_ENDS)}.", "outcome")
    with store.lock:
        dp = _dispute(store, dispute_id)
        if dp["status"] not in DISPUTE_ENDS[outcome]:
            raise invalid(f"Dispute {dispute_id} is {dp['status']} and cannot end "
                          f"{outcome!r}.")
        previous = {"status": dp["status"]}
        dp["status"] = outcome
        dp["is_charge_refundable"] = False
        if outcome == "prevented":
            ch = store.get(dp["charge"], "charge")
            assert ch is not None
            _refund_charge(store, ch, min(dp["amount"], ch["amount"] - ch["amount_refunded"]),
                           None, {}, {"id": None, "idempotency_key": None})
        store.add_event("charge.dispute.closed", dp, previous=previous)
        return dp


def move_refund(store: Store, refund_id: str, status: str, failure_reason: str) -> JSON:
    """A refund settles later: emits `refund.updated` and `charge.refund.updated`, and
    `refund.failed` when it fails; a failed or canceled refund no longer counts on the
    charge's `amount_refunded`."""
    if failure_reason not in REFUND_FAILURES:
        raise invalid(f"failure_reason must be one of {', '.join(REFUND_FAILURES)}.",
                      "failure_reason")
    with store.lock:
        refund = store.get(refund_id, "refund")
        if refund is None:
            raise no_such("refund", refund_id)
        if status not in REFUND_MOVES.get(refund["status"], ()):
            raise invalid(f"Refund {refund_id} is {refund['status']} and cannot become "
                          f"{status!r}.", "status")
        previous = {"status": refund["status"]}
        refund["status"] = status
        ch = store.get(refund["charge"], "charge")
        assert ch is not None
        if status in ("failed", "canceled"):
            ch["amount_refunded"] -= refund["amount"]
            ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
        if status == "failed":
            refund["failure_reason"] = failure_reason
            refund["failure_balance_transaction"] = new_id("txn_3", 24)
        if status == "failed":
            store.add_event("refund.failed", refund)
        store.add_event("refund.updated", refund, previous=previous)
        store.add_event("charge.refund.updated", refund, previous=previous)
        return refund
