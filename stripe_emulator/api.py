"""The Stripe-compatible `/v1/...` routes: auth, idempotency, injected faults, resources."""

from __future__ import annotations

import base64
import binascii
import copy
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, g, request

from . import billing, checkout, endpoints, payments, versions
from .encoding import EncodingError, parse_qs
from .errors import ApiError, invalid, no_such
from .listing import PAGE_PARAMS, created_filter, expand, line_items_list, paginate
from .objects import error_body
from .params import boolean, check_keys, string, string_list
from .runtime import current, json_response
from .store import JSON, IdempotencyRecord, Store

log = logging.getLogger(__name__)
bp = Blueprint("stripe_emulator_api", __name__)


@dataclass
class Ctx:
    """One /v1 request as the handlers see it."""

    store: Store
    params: JSON
    base_url: str
    request_info: JSON  # {"id": req_..., "idempotency_key": ...} for events


Handler = Callable[..., JSON]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    regex = re.compile("^/v1/" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

    def register(fn: Handler) -> Handler:
        ROUTES.append((method, regex, fn))
        return fn

    return register


def _api_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().split(":", 1)[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def _auth_error(key: str | None) -> ApiError:
    if not key:
        return ApiError(401, "You did not provide an API key. You need to provide your API key "
                        "in the Authorization header, using Bearer auth (e.g. 'Authorization: "
                        "Bearer YOUR_SECRET_KEY').")
    shown = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else key
    return ApiError(401, f"Invalid API Key provided: {shown}", code="api_key_invalid")


def _respond(status: int, body: JSON, replayed: bool = False) -> Response:
    resp = json_response(body, status)
    if 400 <= status < 500 and status not in (409, 429):
        resp.headers["Stripe-Should-Retry"] = "false"
    if replayed:
        resp.headers["Idempotent-Replayed"] = "true"
    return resp


def _execute(ctx: Ctx, method: str, path: str, handler: Handler,
             kwargs: dict[str, str]) -> tuple[int, JSON]:
    fault = ctx.store.take_fault(method, path)
    if fault is not None:
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status:
            message = fault.message or "An unknown error occurred (injected by the emulator)."
            return fault.status, error_body(message, type_=fault.error_type, code=fault.code,
                                            param=fault.param)
    try:
        return 200, handler(ctx, **kwargs)
    except ApiError as exc:
        return exc.status, exc.body
    except Exception:
        log.exception("stripe emulator: %s %s crashed", method, path)
        return 500, error_body("An unknown error occurred.", type_="api_error")


@bp.route("/v1/<path:subpath>", methods=["GET", "POST", "DELETE", "PUT", "PATCH"])
def dispatch(subpath: str) -> Response:
    store = current().store
    method, path = request.method, "/v1/" + subpath
    key = _api_key()
    if not key or not key.startswith("sk_test_"):
        err = _auth_error(key)
        return _respond(err.status, err.body)
    try:
        params = parse_qs(request.query_string)
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            params.update(parse_qs(request.get_data()))
    except EncodingError as exc:
        return _respond(400, error_body(str(exc), param=exc.key))
    version = request.headers.get("Stripe-Version") or store.config.api_version
    if version not in versions.KNOWN_VERSIONS:
        return _respond(400, error_body(f"Invalid Stripe API version: {version}",
                                        code="invalid_api_version"))
    for m, regex, fn in ROUTES:
        match = regex.match(path)
        if match and m == method:
            handler, kwargs = fn, match.groupdict()
            break
    else:
        return _respond(404, error_body(
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/."))
    idem = request.headers.get("Idempotency-Key") if method == "POST" else None
    ctx = Ctx(store, params, current().store.config.public_url or request.host_url.rstrip("/"),
              {"id": g.request_id, "idempotency_key": idem})
    if not idem:
        return _respond(*_rendered(store, version, *_execute(ctx, method, path, handler,
                                                             kwargs)))
    if len(idem) > 255:
        return _respond(400, error_body("Idempotency-Key must be at most 255 characters.",
                                        type_="idempotency_error"))
    slot = (key, idem)
    with store.lock:
        rec = store.idempotency.get(slot)
        if rec is not None and rec.status is None:
            return _respond(409, error_body(
                "There is currently another in-progress request using this Stripe API "
                "Idempotency-Key. Try again later.", type_="idempotency_error"))
        if rec is not None:
            if (rec.method, rec.path, rec.params) != (method, path, params):
                return _respond(400, error_body(
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{idem}' if you "
                    "meant to execute a different request.", type_="idempotency_error"))
            assert rec.body is not None and rec.status is not None
            return _respond(*_rendered(store, version, rec.status, rec.body), replayed=True)
        rec = IdempotencyRecord(method, path, copy.deepcopy(params))
        store.idempotency[slot] = rec
    status, body = _execute(ctx, method, path, handler, kwargs)
    with store.lock:
        if store.idempotency.get(slot) is rec:
            if 200 <= status < 300 or status >= 500:
                rec.status, rec.body = status, copy.deepcopy(body)
            else:
                del store.idempotency[slot]
    return _respond(*_rendered(store, version, status, body))


def _rendered(store: Store, version: str, status: int, body: JSON) -> tuple[int, JSON]:
    """A success answered in the request's API version; events keep their own."""
    if 200 <= status < 300:
        return status, versions.render(body, version, store)
    return status, copy.deepcopy(body)


# helpers -------------------------------------------------------------------------
def _retrieve(ctx: Ctx, kind: str, obj_id: str) -> JSON:
    check_keys(ctx.params, ("expand",))
    obj = ctx.store.snapshot(obj_id)
    if obj is None or obj.get("object") != kind:
        raise no_such(kind, obj_id, "id")
    return expand(ctx.store, obj, ctx.params)


def _list(ctx: Ctx, kind: str, url: str, filters: dict[str, Callable[[JSON, str], bool]],
          extra: Callable[[JSON], bool] | None = None, extra_params: tuple[str, ...] = ()) -> JSON:
    check_keys(ctx.params, (*PAGE_PARAMS, *filters, *extra_params))
    active = {k: string(ctx.params, k) for k in filters}
    in_range = created_filter(ctx.params)
    with ctx.store.lock:  # copy a consistent page while other requests may mutate objects
        items = [o for o in ctx.store.all_of(kind)
                 if in_range(o) and (extra is None or extra(o))
                 and all(v is None or filters[k](o, v) for k, v in active.items())]
        envelope = paginate(ctx.store, items, ctx.params, url)
        return expand(ctx.store, envelope, ctx.params)


def _eq(field: str) -> Callable[[JSON, str], bool]:
    return lambda obj, value: obj.get(field) == value


# checkout sessions ------------------------------------------------------------
@route("POST", "checkout/sessions")
def create_session(ctx: Ctx) -> JSON:
    session = checkout.create_session(ctx.store, ctx.params, ctx.base_url)
    return expand(ctx.store, copy.deepcopy(session), ctx.params)


@route("GET", "checkout/sessions/{sid}")
def get_session(ctx: Ctx, sid: str) -> JSON:
    return _retrieve(ctx, "checkout.session", sid)


@route("GET", "checkout/sessions")
def list_sessions(ctx: Ctx) -> JSON:
    details = ctx.params.get("customer_details")
    email = None
    if details not in (None, ""):
        email = string(check_keys(details, ("email",), "customer_details"), "email",
                       "customer_details[email]")

    def by_email(obj: JSON) -> bool:
        return email is None or (obj.get("customer_details") or {}).get("email") == email

    filters = {k: _eq(k) for k in ("payment_intent", "subscription", "customer", "status",
                                   "payment_link")}
    return _list(ctx, "checkout.session", "/v1/checkout/sessions", filters, by_email,
                 ("customer_details",))


@route("GET", "checkout/sessions/{sid}/line_items")
def session_line_items(ctx: Ctx, sid: str) -> JSON:
    check_keys(ctx.params, ("limit", "starting_after", "ending_before", "expand"))
    if ctx.store.get(sid, "checkout.session") is None:
        raise no_such("checkout.session", sid, "session")
    return expand(ctx.store, line_items_list(ctx.store, sid, ctx.params), ctx.params)


@route("POST", "checkout/sessions/{sid}/expire")
def expire_session(ctx: Ctx, sid: str) -> JSON:
    check_keys(ctx.params, ("expand",))
    session = payments.expire_session(ctx.store, sid, ctx.request_info)
    return expand(ctx.store, copy.deepcopy(session), ctx.params)


# payments -----------------------------------------------------------------------
SIMPLE = {"payment_intents": "payment_intent", "charges": "charge", "customers": "customer",
          "refunds": "refund", "disputes": "dispute", "subscriptions": "subscription",
          "invoices": "invoice", "prices": "price", "products": "product", "events": "event",
          "invoice_payments": "invoice_payment"}


def _make_get(kind: str) -> Handler:
    return lambda ctx, oid: _retrieve(ctx, kind, oid)


for _segment, _kind in SIMPLE.items():
    route("GET", _segment + "/{oid}")(_make_get(_kind))


@route("GET", "payment_intents")
def list_payment_intents(ctx: Ctx) -> JSON:
    return _list(ctx, "payment_intent", "/v1/payment_intents", {"customer": _eq("customer")})


@route("GET", "charges")
def list_charges(ctx: Ctx) -> JSON:
    return _list(ctx, "charge", "/v1/charges",
                 {"payment_intent": _eq("payment_intent"), "customer": _eq("customer")})


@route("GET", "customers")
def list_customers(ctx: Ctx) -> JSON:
    return _list(ctx, "customer", "/v1/customers", {"email": _eq("email")})


@route("POST", "refunds")
def create_refund(ctx: Ctx) -> JSON:
    refund = payments.create_refund(ctx.store, ctx.params, ctx.request_info)
    return expand(ctx.store, copy.deepcopy(refund), ctx.params)


@route("GET", "refunds")
def list_refunds(ctx: Ctx) -> JSON:
    return _list(ctx, "refund", "/v1/refunds",
                 {"charge": _eq("charge"), "payment_intent": _eq("payment_intent")})


@route("GET", "disputes")
def list_disputes(ctx: Ctx) -> JSON:
    return _list(ctx, "dispute", "/v1/disputes",
                 {"charge": _eq("charge"), "payment_intent": _eq("payment_intent")})


# billing ------------------------------------------------------------------------
@route("DELETE", "subscriptions/{oid}")
def cancel_subscription(ctx: Ctx, oid: str) -> JSON:
    sub = billing.cancel_subscription(ctx.store, oid, ctx.params, ctx.request_info)
    return expand(ctx.store, copy.deepcopy(sub), ctx.params)


@route("GET", "subscriptions")
def list_subscriptions(ctx: Ctx) -> JSON:
    status = string(ctx.params, "status")

    def by_status(obj: JSON) -> bool:
        if status in (None, "all"):
            return status == "all" or obj["status"] not in ("canceled", "incomplete_expired")
        return bool(obj["status"] == status)

    return _list(ctx, "subscription", "/v1/subscriptions", {"customer": _eq("customer")},
                 by_status, ("status",))


@route("GET", "invoices")
def list_invoices(ctx: Ctx) -> JSON:
    def by_subscription(obj: JSON, value: str) -> bool:
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        return bool(details.get("subscription") == value)

    return _list(ctx, "invoice", "/v1/invoices",
                 {"subscription": by_subscription, "customer": _eq("customer"),
                  "status": _eq("status")})


@route("GET", "invoice_payments")
def list_invoice_payments(ctx: Ctx) -> JSON:
    payment = ctx.params.get("payment")
    wanted_intent = payment.get("payment_intent") if isinstance(payment, dict) else None

    def by_payment(obj: JSON) -> bool:
        return wanted_intent is None or obj["payment"].get("payment_intent") == wanted_intent

    return _list(ctx, "invoice_payment", "/v1/invoice_payments",
                 {"invoice": _eq("invoice"), "status": _eq("status")}, by_payment, ("payment",))


# webhook endpoints ---------------------------------------------------------------
@route("POST", "webhook_endpoints")
def create_webhook_endpoint(ctx: Ctx) -> JSON:
    return endpoints.create(ctx.store, ctx.params)


@route("GET", "webhook_endpoints")
def list_webhook_endpoints(ctx: Ctx) -> JSON:
    return _list(ctx, "webhook_endpoint", "/v1/webhook_endpoints", {})


@route("GET", "webhook_endpoints/{oid}")
def get_webhook_endpoint(ctx: Ctx, oid: str) -> JSON:
    return _retrieve(ctx, "webhook_endpoint", oid)


@route("POST", "webhook_endpoints/{oid}")
def update_webhook_endpoint(ctx: Ctx, oid: str) -> JSON:
    return copy.deepcopy(endpoints.update(ctx.store, oid, ctx.params))


@route("DELETE", "webhook_endpoints/{oid}")
def delete_webhook_endpoint(ctx: Ctx, oid: str) -> JSON:
    check_keys(ctx.params, ())
    return endpoints.delete(ctx.store, oid)


# events -------------------------------------------------------------------------
@route("GET", "events")
def list_events(ctx: Ctx) -> JSON:
    types = string_list(ctx.params, "types")
    single = string(ctx.params, "type")
    if single and types:
        raise invalid("You may only specify one of these parameters: type, types.", "types",
                      code="parameters_exclusive")
    wanted = types or ([single] if single else [])
    success = boolean(ctx.params, "delivery_success")
    store = ctx.store

    def matches(obj: JSON) -> bool:
        if wanted and not any(t == obj["type"] or (t.endswith("*") and
                                                   obj["type"].startswith(t[:-1]))
                              for t in wanted):
            return False
        return success is None or store.delivered(obj["id"]) == success

    return _list(ctx, "event", "/v1/events", {}, matches,
                 ("type", "types", "delivery_success"))
