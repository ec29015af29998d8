"""The `/_emulator/...` control routes that tests use to configure and drive the emulator."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, request

from . import billing, endpoints, payments, versions
from .errors import ApiError, invalid
from .runtime import current, json_response
from .store import JSON, Fault

bp = Blueprint("stripe_emulator_control", __name__, url_prefix="/_emulator")


def _body() -> JSON:
    data = request.get_json(silent=True)
    if data is None and request.form:
        data = dict(request.form)
    return data if isinstance(data, dict) else {}


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return json_response(exc.body, exc.status)


@bp.errorhandler(ValueError)
@bp.errorhandler(TypeError)
def _bad_value(exc: Exception) -> Response:
    return json_response(invalid(f"Invalid control request: {exc}").body, 400)


def _opt_str(body: JSON, key: str) -> str | None:
    value = body.get(key)
    return str(value) if value not in (None, "") else None


@bp.get("/config")
def get_config() -> Response:
    return json_response(current().store.config.to_json())


@bp.post("/config")
def set_config() -> Response:
    body = _body()
    emu = current()
    cfg = emu.store.config
    endpoint_keys = {"webhook_url", "webhook_secret", "webhook_events", "webhook_api_version"}
    known = endpoint_keys | {"delivery_mode", "retry_delays", "max_attempts",
                             "delivery_timeout", "public_url"}
    unknown = set(body) - known
    if unknown:
        raise invalid(f"Unknown config keys: {', '.join(sorted(unknown))}")
    if body.get("delivery_mode", cfg.delivery_mode) not in ("auto", "hold"):
        raise invalid("delivery_mode must be `auto` or `hold`.", "delivery_mode")
    events = body.get("webhook_events", cfg.webhook_events)
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise invalid("webhook_events must be a list of event types.", "webhook_events")
    version = _opt_str(body, "webhook_api_version")
    if version is not None and version not in versions.KNOWN_VERSIONS:
        raise invalid(f"Unknown API version {version}.", "webhook_api_version")
    leaving_hold = cfg.delivery_mode == "hold" and body.get("delivery_mode") == "auto"
    with emu.store.lock:
        for key in ("webhook_url", "webhook_secret", "public_url", "webhook_api_version"):
            if key in body:
                setattr(cfg, key, _opt_str(body, key))
        if "webhook_events" in body:
            cfg.webhook_events = list(events)
        if "delivery_mode" in body:
            cfg.delivery_mode = body["delivery_mode"]
        if "retry_delays" in body:
            cfg.retry_delays = [float(d) for d in body["retry_delays"]]
        if "max_attempts" in body:
            cfg.max_attempts = max(1, int(body["max_attempts"]))
        if "delivery_timeout" in body:
            cfg.delivery_timeout = float(body["delivery_timeout"])
        if endpoint_keys & set(body):
            endpoints.sync_default(emu.store)
    if leaving_hold:
        emu.deliverer.schedule_unattempted()
    return json_response(cfg.to_json())


@bp.post("/reset")
def reset() -> Response:
    emu = current()
    emu.deliverer.clear()
    emu.store.reset()
    endpoints.sync_default(emu.store)
    return json_response({"reset": True})


@bp.post("/faults")
def add_fault() -> Response:
    body = _body()
    store = current().store
    with store.lock:
        if "webhook_drop" in body:
            store.webhook_drop = int(body["webhook_drop"])
        if "method" in body or "path_prefix" in body or "status" in body or "delay" in body:
            fault = Fault(
                method=str(body.get("method", "*")).upper(),
                path_prefix=str(body.get("path_prefix", "/v1/")),
                status=int(body["status"]) if body.get("status") else None,
                count=int(body.get("count", 1)), delay=float(body.get("delay", 0.0)),
                error_type=str(body.get("error_type", "api_error")),
                message=_opt_str(body, "message"), code=_opt_str(body, "code"),
                param=_opt_str(body, "param"))
            store.faults.append(fault)
        return json_response({"faults": [asdict(f) for f in store.faults],
                              "webhook_drop": store.webhook_drop})


@bp.delete("/faults")
def clear_faults() -> Response:
    store = current().store
    with store.lock:
        store.faults.clear()
        store.webhook_drop = 0
    return json_response({"faults": [], "webhook_drop": 0})


def _event_view(event: JSON, version: str | None = None) -> JSON:
    store = current().store
    attempts = store.attempts.get(event["id"], [])
    view = versions.render(dict(event, api_version=version), version, store) if version \
        else dict(event)
    view["_emulator"] = {"delivered": store.delivered(event["id"]),
                         "attempts": [asdict(a) for a in attempts]}
    return view


@bp.get("/events")
def list_events() -> Response:
    store = current().store
    wanted = request.args.get("type")
    undelivered = request.args.get("undelivered") in ("1", "true")
    # ?api_version=2024-06-20 shows each event as an endpoint on that version is sent it.
    version = request.args.get("api_version") or None
    if version is not None and version not in versions.KNOWN_VERSIONS:
        raise invalid(f"Unknown API version {version}.", "api_version")
    with store.lock:
        data = [_event_view(e, version) for e in store.events
                if (not wanted or e["type"] == wanted)
                and not (undelivered and store.delivered(e["id"]))]
    return json_response({"object": "list", "data": data})


def _deliver(event_id: str) -> JSON:
    """Send the event to every endpoint subscribed to it; the first (default) one's answer
    is at the top level, every endpoint's under `deliveries`."""
    results = [{"endpoint": attempt.endpoint, "status": attempt.status, "body": text,
                "error": attempt.error}
               for attempt, text in current().deliverer.deliver(event_id)]
    first = results[0] if results else {"status": None, "body": "",
                                        "error": "no endpoint is subscribed to this event"}
    return {"event": event_id, "status": first["status"], "body": first["body"],
            "error": first["error"], "deliveries": results}


@bp.post("/events/deliver_pending")
def deliver_pending() -> Response:
    store = current().store
    with store.lock:
        pending = [e["id"] for e in store.events if not store.delivered(e["id"])]
    results = [_deliver(event_id) for event_id in pending]
    return json_response({"delivered": results, "statuses": [r["status"] for r in results]})


@bp.post("/events/<event_id>/deliver")
def deliver_one(event_id: str) -> Response:
    store = current().store
    event = store.get(event_id, "event")
    if event is None:
        raise ApiError(404, f"No such event: '{event_id}'", code="resource_missing")
    if not endpoints.subscribed(store, event["type"]):
        raise invalid("No webhook endpoint is subscribed to this event.")
    return json_response(_deliver(event_id))


def _shipping(body: JSON) -> JSON | None:
    raw: Any = body.get("shipping") or body.get("address")
    return payments.shipping_address(raw) if isinstance(raw, dict) else None


@bp.post("/checkout/sessions/<session_id>/pay")
def pay(session_id: str) -> Response:
    body = _body()
    session = payments.pay_session(current().store, session_id, str(body.get("outcome", "paid")),
                                   _opt_str(body, "email"), _opt_str(body, "name"),
                                   _shipping(body))
    return json_response(session)


@bp.post("/checkout/sessions/<session_id>/settle")
def settle(session_id: str) -> Response:
    outcome = str(_body().get("outcome", "succeeded"))
    return json_response(payments.settle_session(current().store, session_id, outcome))


@bp.post("/checkout/sessions/<session_id>/expire")
def expire(session_id: str) -> Response:
    return json_response(payments.expire_session(current().store, session_id))


@bp.post("/charges/<charge_id>/dispute")
def dispute(charge_id: str) -> Response:
    body = _body()
    amount = int(body["amount"]) if body.get("amount") is not None else None
    return json_response(payments.create_dispute(
        current().store, charge_id, str(body.get("reason", "fraudulent")), amount,
        str(body.get("status", "needs_response"))))


@bp.post("/disputes/<dispute_id>/close")
def close_dispute(dispute_id: str) -> Response:
    """Close with `won`, `lost`, `warning_closed` or `prevented` (the cardholder refunded)."""
    outcome = str(_body().get("outcome", "lost"))
    return json_response(payments.close_dispute(current().store, dispute_id, outcome))


@bp.post("/disputes/<dispute_id>/update")
def update_dispute(dispute_id: str) -> Response:
    """Move an open dispute on (e.g. `under_review`, or `appeal_needs_response` after a loss)."""
    status = str(_body().get("status", ""))
    return json_response(payments.update_dispute(current().store, dispute_id, status))


@bp.post("/refunds/pending_next")
def pending_refunds() -> Response:
    """The next `count` refunds created through the API stay `pending` (e.g. no balance)."""
    store = current().store
    with store.lock:
        store.pending_refunds = max(0, int(_body().get("count", 1)))
        return json_response({"pending_refunds": store.pending_refunds})


@bp.post("/refunds/<refund_id>/status")
def refund_status(refund_id: str) -> Response:
    """A refund's later fate: a pending one succeeds, fails or is canceled; a succeeded
    one can still fail (a closed card)."""
    body = _body()
    return json_response(payments.move_refund(
        current().store, refund_id, str(body.get("status", "")),
        str(body.get("failure_reason") or "expired_or_canceled_card")))


@bp.post("/subscriptions/<sub_id>/cycle")
def cycle(sub_id: str) -> Response:
    outcome = str(_body().get("outcome", "paid"))
    return json_response(billing.cycle_subscription(current().store, sub_id, outcome))


@bp.post("/subscriptions/<sub_id>/end")
def end_subscription(sub_id: str) -> Response:
    """Stripe ends the subscription itself (default: its payments failed); open invoices
    stay open and can still be paid."""
    reason = str(_body().get("reason", "payment_failed"))
    return json_response(billing.end_subscription(current().store, sub_id, reason))


@bp.post("/invoices/<invoice_id>/pay")
def pay_invoice(invoice_id: str) -> Response:
    """The customer pays an open invoice (e.g. on its hosted page), even after its
    subscription ended."""
    return json_response(billing.pay_open_invoice(current().store, invoice_id))


@bp.get("/state")
def state() -> Response:
    return json_response(current().store.summary())
