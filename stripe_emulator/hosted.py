"""The hosted checkout page `/c/pay/<session id>` that stands in for checkout.stripe.com."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, redirect, render_template_string, request
from werkzeug.wrappers import Response as BaseResponse

from . import payments
from .errors import ApiError
from .hosted_template import PAGE
from .money import format_amount
from .runtime import current
from .store import JSON

bp = Blueprint("stripe_emulator_hosted", __name__)
DECLINED = "Your card was declined."
# The buttons a processing bank transfer offers, and the outcome each one settles with.
SETTLE_ACTIONS = {"settle": "succeeded", "settle_fail": "failed"}
log = logging.getLogger(__name__)


def _interval(session: JSON, lines: list[JSON]) -> str | None:
    if session["mode"] != "subscription" or not lines:
        return None
    rec = lines[0]["price"]["recurring"] or {}
    count, unit = rec.get("interval_count", 1), rec.get("interval", "month")
    return f"per {unit}" if count == 1 else f"every {count} {unit}s"


def _pay_label(session: JSON, total: str) -> str:
    if session["mode"] == "subscription":
        return "Subscribe"
    return {"donate": f"Donate {total}", "book": f"Book {total}"}.get(
        session["submit_type"] or "", f"Pay {total}")


def _render(session: JSON, status: int = 200, error: str | None = None,
            form: dict[str, str] | None = None) -> Response:
    store = current().store
    with store.lock:
        raw = list(store.line_items.get(session["id"], []))
    lines = [{"name": li["description"], "quantity": li["quantity"],
              "amount": format_amount(li["amount_total"], li["currency"]),
              "description": ((store.get(li["price"]["product"]) or {}).get("description"))}
             for li in raw]
    total = format_amount(session["amount_total"], session["currency"])
    message = None
    settling = _settling(session)
    if settling:
        message = ("The bank transfer has not arrived yet. In this stand-in you can settle "
                   "it now, as the bank would in a few days, or make it fail.")
    elif session["status"] == "complete":
        message = "This payment has already been completed. Thank you!"
    elif session["status"] == "expired":
        message = "This Checkout Session has expired. Please return to the shop and start again."
    form = form or {}
    countries = (session["shipping_address_collection"] or {}).get("allowed_countries") or []
    html = render_template_string(
        PAGE, title="Subscribe" if session["mode"] == "subscription" else "Checkout",
        state=session["status"], message=message, lines=lines, total=total,
        interval=_interval(session, raw), pay_label=_pay_label(session, total), error=error,
        email=form.get("email", session["customer_email"] or ""), name=form.get("name", ""),
        cancel_url=session["cancel_url"], countries=countries, settling=settling,
        form={"line1": form.get("line1", ""), "city": form.get("city", ""),
              "postal_code": form.get("postal_code", ""),
              "country": form.get("country", countries[0] if countries else "")})
    return Response(html, status=status, mimetype="text/html")


def _settling(session: JSON) -> bool:
    """A completed session whose bank transfer is still processing: it can be settled."""
    if session["status"] != "complete" or session["payment_status"] != "unpaid":
        return False
    pi = current().store.snapshot(session["payment_intent"] or "")
    return pi is not None and pi.get("status") == "processing"


def _not_found(session_id: str) -> Response:
    del session_id
    return Response("<!doctype html><title>Not found</title><p>No such Checkout Session.</p>",
                    status=404, mimetype="text/html")


def success_redirect(session: JSON) -> BaseResponse:
    url = session["success_url"]
    if not url:
        return Response("<!doctype html><title>Paid</title><p>Payment complete.</p>",
                        mimetype="text/html")
    return redirect(url.replace("{CHECKOUT_SESSION_ID}", session["id"]), code=303)


@bp.get("/c/pay/<session_id>")
def show(session_id: str) -> Response:
    session = current().store.snapshot(session_id)
    if session is None or session.get("object") != "checkout.session":
        return _not_found(session_id)
    return _render(session, 410 if session["status"] == "expired" else 200)


@bp.post("/c/pay/<session_id>")
def submit(session_id: str) -> BaseResponse:
    store = current().store
    session = store.snapshot(session_id)
    if session is None or session.get("object") != "checkout.session":
        return _not_found(session_id)
    form = {k: v.strip() for k, v in request.form.items()}
    action = form.get("action", "pay")
    if action in SETTLE_ACTIONS and _settling(session):
        try:
            settled = payments.settle_session(store, session_id, SETTLE_ACTIONS[action])
        except ApiError:
            settled = store.snapshot(session_id) or session  # settled meanwhile
        return success_redirect(settled)
    if session["status"] == "complete":
        return success_redirect(session)  # double submit: no second payment
    if session["status"] != "open":
        return _render(session, 410)
    if action == "decline":
        return _render(session, 402, DECLINED, form)
    if action not in ("pay", "delayed"):
        return _render(session, 400, f"Unknown action {action!r}.", form)
    addr = payments.shipping_address(form) if form.get("line1") else None
    try:
        paid = payments.pay_session(store, session_id, "paid" if action == "pay" else "delayed",
                                    form.get("email") or None, form.get("name") or None, addr)
    except ApiError as exc:
        latest = store.snapshot(session_id) or session
        if latest["status"] == "complete":
            return success_redirect(latest)
        return _render(latest, 400, exc.body["error"]["message"], form)
    if action == "delayed":
        log.info("bank transfer for %s is processing: settle it (or make it fail) at %s",
                 session_id, request.url)
    return success_redirect(paid)
