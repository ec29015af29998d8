"""List pagination, `created[...]` filters and `expand[]` handling shared by the /v1 routes."""

from __future__ import annotations

import copy
from collections.abc import Callable

from .errors import invalid, no_such
from .objects import list_envelope
from .params import check_keys, integer, string, string_list
from .store import JSON, Store

PAGE_PARAMS = ("limit", "starting_after", "ending_before", "expand", "created")


def created_filter(params: JSON) -> Callable[[JSON], bool]:
    raw = params.get("created")
    if raw in (None, ""):
        return lambda obj: True
    if isinstance(raw, str):
        exact = integer(params, "created")
        return lambda obj: obj["created"] == exact
    check_keys(raw, ("gt", "gte", "lt", "lte"), "created")
    bounds = {op: integer(raw, op, f"created[{op}]") for op in raw}

    def keep(obj: JSON) -> bool:
        c = obj["created"]
        checks = {"gt": lambda v: c > v, "gte": lambda v: c >= v,
                  "lt": lambda v: c < v, "lte": lambda v: c <= v}
        return all(checks[op](v) for op, v in bounds.items() if v is not None)

    return keep


def _after(store: Store, items: list[JSON], cursor: str, param: str, newer: bool) -> list[JSON]:
    ids = [item["id"] for item in items]
    if cursor in ids:
        idx = ids.index(cursor)
        return items[:idx] if newer else items[idx + 1:]
    seq = store.order.get(cursor)
    if seq is None:
        raise no_such("object", cursor, param, status=400)
    if newer:
        return [i for i in items if store.order.get(i["id"], 0) > seq]
    return [i for i in items if store.order.get(i["id"], 0) < seq]


def paginate(store: Store, items: list[JSON], params: JSON, url: str) -> JSON:
    """A list envelope for `items` (already filtered and ordered) honouring the cursors."""
    limit = integer(params, "limit", minimum=1, maximum=100) or 10
    after = string(params, "starting_after")
    before = string(params, "ending_before")
    if after and before:
        raise invalid("You may only specify one of these parameters: ending_before, "
                      "starting_after.", "ending_before", code="parameters_exclusive")
    if after:
        rest = _after(store, items, after, "starting_after", newer=False)
        page, more = rest[:limit], len(rest) > limit
    elif before:
        rest = _after(store, items, before, "ending_before", newer=True)
        page, more = rest[-limit:], len(rest) > limit
    else:
        page, more = items[:limit], len(items) > limit
    return list_envelope([copy.deepcopy(o) for o in page], url, more)


def line_items_list(store: Store, session_id: str, params: JSON) -> JSON:
    with store.lock:
        items = list(store.line_items.get(session_id, []))
    return paginate(store, items, params, f"/v1/checkout/sessions/{session_id}/line_items")


def expand(store: Store, obj: JSON, params: JSON) -> JSON:
    """Apply `expand[]` paths such as `line_items`, `payment_intent.latest_charge`,
    `data.subscription` to a deep copy of `obj`."""
    paths = string_list(params, "expand")
    for path in paths:
        _expand(store, obj, path.split("."), path)
    return obj


def _expand(store: Store, obj: object, parts: list[str], full: str) -> None:
    if not isinstance(obj, dict) or not parts:
        return
    key, rest = parts[0], parts[1:]
    if obj.get("object") == "list" and key == "data":
        for item in obj["data"]:
            _expand(store, item, rest, full)
        return
    if key == "line_items" and obj.get("object") == "checkout.session":
        if not isinstance(obj.get("line_items"), dict):
            obj["line_items"] = line_items_list(store, obj["id"], {})
    elif key in obj:
        value = obj[key]
        if isinstance(value, str):
            found = store.snapshot(value)
            if found is None:
                raise invalid(f"This property cannot be expanded ({full}).", "expand")
            obj[key] = found
        elif value is not None and not (isinstance(value, dict) and "object" in value):
            raise invalid(f"This property cannot be expanded ({full}).", "expand")
    else:
        raise invalid(f"This property cannot be expanded ({full}).", "expand")
    _expand(store, obj.get(key), rest, full)
