"""API versions: which exist, and rendering objects in an older version's shape.

Stripe renders every object in one API version: a request's `Stripe-Version` (or the
account's default), a webhook endpoint's `api_version` for what it is sent. Stored objects
here are in the current shape; `render` turns a copy into an older version's shape where
that matters to a Checkout shop:

- 2025-03-31.basil moved an invoice's `subscription` and `subscription_details` under
  `parent.subscription_details`, and removed its `charge`, `payment_intent`, `paid` and
  `paid_out_of_band` (a payment is found through invoice payments instead); charges and
  payment intents lost their `invoice`.
- 2024-10-28.acacia started sending `refund.created`, `refund.updated` and `refund.failed`
  for card refunds; before it, only `charge.refund.updated` told of a refund's change.

The lists of versions and event types are Stripe's own, as enumerated by the official
library's webhook endpoint parameters.
"""

from __future__ import annotations

import copy
import typing
from typing import Any

from stripe.params import WebhookEndpointCreateParams

from .store import JSON, Store

# The version stripe-python 16.1.0 pins: the account default of the stand-in.
DEFAULT_VERSION = "2026-10-28.endive"
BASIL = "2025-03-31"
ACACIA_REFUND_EVENTS = "2024-10-28"
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})


def _literal(name: str) -> tuple[str, ...]:
    hint = WebhookEndpointCreateParams.__annotations__[name]
    return tuple(typing.get_args(typing.get_args(hint)[0]))


KNOWN_VERSIONS: frozenset[str] = frozenset(_literal("api_version"))
EVENT_TYPES: frozenset[str] = frozenset(_literal("enabled_events"))


def before(version: str, date: str) -> bool:
    """True when `version` (e.g. `2024-06-20` or `2025-03-31.basil`) predates `date`."""
    return version.split(".", 1)[0] < date


def sends(event_type: str, version: str) -> bool:
    """Whether an endpoint on `version` is sent events of this type at all."""
    return not (event_type in REFUND_EVENTS and before(version, ACACIA_REFUND_EVENTS))


def render(obj: Any, version: str, store: Store) -> Any:
    """A deep copy of `obj` (an object, a list envelope, an event) in `version`'s shape.

    An event keeps the version it was created in: its data is rendered in that version.
    """
    return _render(copy.deepcopy(obj), version, store)


def _render(obj: Any, version: str, store: Store) -> Any:
    if isinstance(obj, list):
        return [_render(item, version, store) for item in obj]
    if not isinstance(obj, dict):
        return obj
    if obj.get("object") == "event":
        own = str(obj.get("api_version") or version)
        data = obj.get("data") or {}
        for key in ("object", "previous_attributes"):
            if isinstance(data.get(key), dict):
                data[key] = _render(data[key], own, store)
        return obj
    for key, value in list(obj.items()):
        if isinstance(value, dict | list):
            obj[key] = _render(value, version, store)
    if before(version, BASIL):
        kind = obj.get("object")
        if kind == "invoice":
            _old_invoice(obj, store)
        elif kind == "line_item" and "parent" in obj:
            _old_invoice_line(obj)
        elif kind in ("charge", "payment_intent") and "id" in obj:
            intent = obj["id"] if kind == "payment_intent" else obj.get("payment_intent")
            obj["invoice"] = _invoice_paid_by(store, intent)
    return obj


def _invoice_paid_by(store: Store, payment_intent: Any) -> str | None:
    if not isinstance(payment_intent, str):
        return None
    with store.lock:
        for payment in store.all_of("invoice_payment"):
            if payment["payment"].get("payment_intent") == payment_intent:
                return str(payment["invoice"])
    return None


def _payment_of(store: Store, invoice_id: str) -> tuple[str | None, str | None]:
    with store.lock:
        for payment in store.all_of("invoice_payment"):
            if payment["invoice"] == invoice_id and payment["status"] == "paid":
                intent = payment["payment"].get("payment_intent")
                found = store.get(intent or "", "payment_intent") or {}
                return intent, found.get("latest_charge")
    return None, None


def _old_invoice(invoice: JSON, store: Store) -> None:
    parent = invoice.pop("parent", None) or {}
    details = parent.get("subscription_details") or None
    invoice["subscription"] = details["subscription"] if details else None
    invoice["subscription_details"] = {"metadata": details.get("metadata")} if details else None
    invoice["quote"] = (parent.get("quote_details") or {}).get("quote")
    invoice["subscription_proration_date"] = None
    intent, charge = _payment_of(store, str(invoice["id"]))
    invoice["payment_intent"], invoice["charge"] = intent, charge
    invoice["paid"] = invoice.get("status") == "paid"
    invoice["paid_out_of_band"] = False
    invoice.pop("amount_overpaid", None)


def _old_invoice_line(line: JSON) -> None:
    parent = line.pop("parent", None) or {}
    item = parent.get("subscription_item_details") or {}
    line["type"] = "subscription" if item else "invoiceitem"
    line["subscription_item"] = item.get("subscription_item")
    line["proration"] = bool(item.get("proration"))
    line["proration_details"] = item.get("proration_details") or {"credited_items": None}
    line["invoice_item"] = item.get("invoice_item")
