"""Webhook endpoints (`/v1/webhook_endpoints`): where events go, which, and in what version.

Each endpoint receives only its `enabled_events` (or every type for `*`), rendered in its
`api_version`, signed with its own secret, which Stripe shows once, on creation. An
endpoint's API version cannot be changed afterwards, only chosen on creation. The
configured `webhook_url` is an endpoint too (the default one, for `make run` and tests),
created and kept in step with the configuration.
"""

from __future__ import annotations

import re
import secrets

from .errors import ApiError, invalid, missing, no_such
from .params import boolean, check_keys, metadata, string, string_list
from .store import JSON, Store, new_id
from .versions import EVENT_TYPES, KNOWN_VERSIONS, sends

MAX_ENDPOINTS = 16
_URL = re.compile(r"^https?://[^\s/]+\S*$")
CREATE_PARAMS = ("url", "enabled_events", "api_version", "description", "metadata", "connect",
                 "expand")
UPDATE_PARAMS = ("url", "enabled_events", "description", "metadata", "disabled", "expand")


def _url(params: JSON, required: bool) -> str | None:
    url = string(params, "url", required=required)
    if url is not None and (len(url) > 5000 or not _URL.match(url)):
        raise invalid(f"Invalid URL: {url}", "url", code="url_invalid")
    return url


def _events(params: JSON, required: bool) -> list[str] | None:
    if params.get("enabled_events") in (None, ""):
        if required:
            raise missing("enabled_events")
        return None
    events = string_list(params, "enabled_events")
    for index, name in enumerate(events):
        if name not in EVENT_TYPES:
            raise invalid(f"Invalid enabled_events[{index}]: {name!r} is not an event type "
                          "a webhook endpoint can be subscribed to.", f"enabled_events[{index}]")
    return sorted(set(events))


def _new(store: Store, url: str, events: list[str], version: str, *, description: str | None,
         meta: JSON, secret: str | None = None) -> JSON:
    endpoint: JSON = {
        "api_version": version, "application": None, "created": store.now(),
        "description": description, "enabled_events": events, "id": new_id("we_1", 24),
        "livemode": False, "metadata": meta, "object": "webhook_endpoint",
        "status": "enabled", "url": url,
    }
    store.put(endpoint)
    store.extra[endpoint["id"]] = {"secret": secret or "whsec_" + secrets.token_hex(16)}
    return endpoint


def with_secret(store: Store, endpoint: JSON) -> JSON:
    """The endpoint as the create call answers it: the only time its secret is shown."""
    return dict(endpoint) | {"secret": store.extra[endpoint["id"]]["secret"]}


def create(store: Store, params: JSON) -> JSON:
    """`POST /v1/webhook_endpoints`."""
    check_keys(params, CREATE_PARAMS)
    url = _url(params, required=True)
    events = _events(params, required=True)
    version = string(params, "api_version")
    if version is not None and version not in KNOWN_VERSIONS:
        raise invalid(f"Invalid api_version: {version}", "api_version")
    if boolean(params, "connect"):
        raise invalid("The emulator has no connected accounts.", "connect")
    description = string(params, "description")
    meta = metadata(params)
    assert url is not None and events is not None
    with store.lock:
        if len(store.all_of("webhook_endpoint")) >= MAX_ENDPOINTS:
            raise invalid(f"You have reached the maximum of {MAX_ENDPOINTS} test webhook "
                          "endpoints.", code="webhook_endpoints_limit_reached")
        return with_secret(store, _new(store, url, events, version or store.config.api_version,
                                       description=description, meta=meta))


def get(store: Store, endpoint_id: str) -> JSON:
    endpoint = store.get(endpoint_id, "webhook_endpoint")
    if endpoint is None:
        raise no_such("webhook_endpoint", endpoint_id, "id")
    return endpoint


def update(store: Store, endpoint_id: str, params: JSON) -> JSON:
    """`POST /v1/webhook_endpoints/{id}`: url, events, description, metadata, disabled."""
    check_keys(params, UPDATE_PARAMS)
    if "api_version" in params:
        raise ApiError(400, "Received unknown parameter: api_version. An endpoint's API "
                       "version is set when it is created.", code="parameter_unknown",
                       param="api_version")
    url = _url(params, required=False)
    events = _events(params, required=False)
    disabled = boolean(params, "disabled")
    description = string(params, "description")
    meta = metadata(params) if "metadata" in params else None
    with store.lock:
        endpoint = get(store, endpoint_id)
        if url is not None:
            endpoint["url"] = url
        if events is not None:
            endpoint["enabled_events"] = events
        if disabled is not None:
            endpoint["status"] = "disabled" if disabled else "enabled"
        if "description" in params:
            endpoint["description"] = description
        if meta is not None:
            endpoint["metadata"] = meta
        return endpoint


def delete(store: Store, endpoint_id: str) -> JSON:
    with store.lock:
        get(store, endpoint_id)
        store.objects.pop(endpoint_id, None)
        store.order.pop(endpoint_id, None)
        store.extra.pop(endpoint_id, None)
        if store.default_endpoint_id == endpoint_id:
            store.default_endpoint_id = None
    return {"deleted": True, "id": endpoint_id, "object": "webhook_endpoint"}


def subscribed(store: Store, event_type: str) -> list[JSON]:
    """The enabled endpoints that are sent events of this type, oldest first."""
    with store.lock:
        found = [e for e in reversed(store.all_of("webhook_endpoint"))
                 if e["status"] == "enabled" and sends(event_type, e["api_version"])
                 and ("*" in e["enabled_events"] or event_type in e["enabled_events"])]
        return found


def secret_of(store: Store, endpoint_id: str) -> str:
    with store.lock:
        return str((store.extra.get(endpoint_id) or {}).get("secret") or "")


def sync_default(store: Store) -> None:
    """Keep the configured default endpoint (webhook_url/secret/events/version) in place."""
    cfg = store.config
    with store.lock:
        current = store.get(store.default_endpoint_id or "", "webhook_endpoint")
        if not cfg.webhook_url:
            if current is not None:
                delete(store, current["id"])
            return
        events = sorted(set(cfg.webhook_events)) or ["*"]
        version = cfg.webhook_api_version or cfg.api_version
        if current is None or current["api_version"] != version:
            if current is not None:
                delete(store, current["id"])
            current = _new(store, cfg.webhook_url, events, version,
                           description="The stand-in's default endpoint", meta={},
                           secret=cfg.webhook_secret or "")
            store.default_endpoint_id = current["id"]
        current.update({"url": cfg.webhook_url, "enabled_events": events})
        store.extra[current["id"]]["secret"] = cfg.webhook_secret or ""
