"""The `/_emulator/...` control routes that tests use to configure and drive the emulator."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, request

from . import billing, payments
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
    known = {"webhook_url", "webhook_secret", "delivery_mode", "retry_delays", "max_attempts",
             "delivery_timeout", "public_url"}
    unknown = set(body) - known
    if unknown:
        raise invalid(f"Unknown config keys: {', '.join(sorted(unknown))}")
    if body.get("delivery_mode", cfg.delivery_mode) not in ("auto", "hold"):
        raise invalid("delivery_mode must be `auto` or `hold`.", "delivery_mode")
    leaving_hold = cfg.delivery_mode == "hold" and body.get("delivery_mode") == "auto"
    with emu.store.lock:
        for key in ("webhook_url", "webhook_secret", "public_url"):
            if key in body:
                setattr(cfg, key, _opt_str(body, key))
        if "delivery_mode" in body:
            cfg.delivery_mode = body["delivery_mode"]
        if "retry_delays" in body:
            cfg.retry_delays = [float(d) for d in body["retry_delays"]]
        if "max_attempts" in body:
            cfg.max_attempts = max(1, int(body["max_attempts"]))
        if "delivery_timeout" in body:
            cfg.delivery_timeout = float(body["delivery_timeout"])
    if leaving_hold:
        emu.deliverer.schedule_unattempted()
    return json_response(cfg.to_json())


@bp.post("/reset")
def reset() -> Response:
    emu = current()
    emu.deliverer.clear()
    emu.store.reset()
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
                message=_opt_str(body, "message"))
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


def _event_view(event: JSON) -> JSON:
    store = current().store
    attempts = store.attempts.get(event["id"], [])
    view = dict(event)
    view["_emulator"] = {"delivered": store.delivered(event["id"]),
                         "attempts": [asdict(a) for a in attempts]}
    return view


@bp.get("/events")
def list_events() -> Response:
    store = current().store
    wanted = request.args.get("type")
    undelivered = request.args.get("undelivered") in ("1", "true")
    with store.lock:
        data = [_event_view(e) for e in store.events
                if (not wanted or e["type"] == wanted)
                and not (undelivered and store.delivered(e["id"]))]
    return json_response({"object": "list", "data": data})


def _deliver(event_id: str) -> JSON:
    attempt, text = current().deliverer.deliver(event_id)
    return {"event": event_id, "status": attempt.status, "body": text, "error": attempt.error}


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
    if store.get(event_id, "event") is None:
        raise ApiError(404, f"No such event: '{event_id}'", code="resource_missing")
    if not store.config.webhook_url:
        raise invalid("No webhook_url configured.")
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
        current().store, charge_id, str(body.get("reason", "fraudulent")), amount))


@bp.post("/disputes/<dispute_id>/close")
def close_dispute(dispute_id: str) -> Response:
    outcome = str(_body().get("outcome", "lost"))
    return json_response(payments.close_dispute(current().store, dispute_id, outcome))


@bp.post("/subscriptions/<sub_id>/cycle")
def cycle(sub_id: str) -> Response:
    outcome = str(_body().get("outcome", "paid"))
    return json_response(billing.cycle_subscription(current().store, sub_id, outcome))


@bp.get("/state")
def state() -> Response:
    return json_response(current().store.summary())
