"""The shop's webhook endpoint at Stripe: set up from the shop's own list, and checked for drift.

Stripe sends an endpoint only the event types it is subscribed to, rendered in the API
version chosen when it was created (an endpoint's version cannot be changed; a new
endpoint must replace it). `setup` makes the endpoint match the code; `check` reports
where it does not (the CLI's `stripe-check`, and /readyz as a warning).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from shop.payments import client
from shop.payments.handlers import HANDLERS
from shop.payments.values import WebhookEndpoint

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/stripe/webhook"
DESCRIPTION = "Care-package shop: orders, monthly gifts, refunds and disputes"
# Set on the endpoints the shop made, so a check finds them even at another URL.
MANAGED = {"managed_by": "care-package-shop"}
SETUP = "flask --app shop stripe-webhook-setup --url {url}"


def needed_events() -> list[str]:
    """Exactly the event types the shop acts on: its handlers' keys."""
    return sorted(HANDLERS)


def expected_url(public_url: str) -> str:
    return public_url.rstrip("/") + WEBHOOK_PATH


def _ours(endpoint: WebhookEndpoint, url: str) -> bool:
    return endpoint.url == url or endpoint.metadata.get("managed_by") == MANAGED["managed_by"]


@dataclass
class Drift:
    """What `stripe-check` found: problems make it exit non-zero; warnings do not."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)  # the ids checked

    @property
    def ok(self) -> bool:
        return not self.problems


def compare(endpoints: list[WebhookEndpoint], *, url: str, version: str,
            events: list[str]) -> Drift:
    """Compare Stripe's endpoints with what the shop needs (no calls; see `check`)."""
    drift = Drift()
    ours = [e for e in endpoints if _ours(e, url)]
    drift.endpoints = [e.id for e in ours]
    at_url = [e for e in ours if e.url == url and e.status == "enabled"]
    if not at_url:
        drift.problems.append(f"No enabled webhook endpoint sends events to {url} (PUBLIC_URL); "
                              f"run: {SETUP.format(url=url)}")
    if len(at_url) > 1:
        drift.problems.append(
            f"{len(at_url)} endpoints send to {url} ({', '.join(e.id for e in at_url)}): "
            "each event comes once per endpoint and only one signing secret is set; "
            "delete all but one")
    for endpoint in ours:
        name = f"Endpoint {endpoint.id}"
        if endpoint.url != url:
            # Another of the shop's endpoints (an old address, another instance): only a
            # warning while one does send here, a problem otherwise (above).
            drift.warnings.append(f"{name}, made by the shop, sends to {endpoint.url}, not to "
                                  f"{url} (PUBLIC_URL)")
            continue
        if endpoint.status != "enabled":
            drift.problems.append(f"{name} is {endpoint.status}")
        if endpoint.api_version != version:
            shown = endpoint.api_version or "the account's default version"
            drift.problems.append(
                f"{name} renders events in API version {shown}; the shop pins {version} "
                f"(STRIPE_API_VERSION); replace it: {SETUP.format(url=url)} --recreate")
        enabled = set(endpoint.enabled_events)
        if "*" not in enabled:
            missing = [e for e in events if e not in enabled]
            if missing:
                drift.problems.append(f"{name} does not send {', '.join(missing)}")
        extra = sorted(enabled - set(events))
        if extra:
            drift.warnings.append(f"{name} also sends events the shop does not use: "
                                  f"{', '.join(extra)}")
    return drift


def check() -> Drift:
    """Read the endpoints back from Stripe and compare. Raises PaymentError."""
    config = current_app.config
    return compare(client.list_webhook_endpoints(), url=expected_url(config["PUBLIC_URL"]),
                   version=config["STRIPE_API_VERSION"], events=needed_events())


class SetupRefused(Exception):
    """The endpoint cannot be made to match without an explicit choice; says which."""


@dataclass
class SetupResult:
    lines: list[str]
    secret: str | None = None  # only when an endpoint was created


def setup(url: str, *, recreate: bool = False) -> SetupResult:
    """Create the endpoint for `url`, or update the one there, to exactly the shop's events
    and pinned API version. An endpoint on another version is replaced only with
    `recreate` (its replacement has a new signing secret). Raises PaymentError."""
    version = current_app.config["STRIPE_API_VERSION"]
    events = needed_events()
    at_url = [e for e in client.list_webhook_endpoints() if e.url == url]
    keep = next((e for e in at_url if e.api_version == version), None)
    others = [e for e in at_url if keep is None or e.id != keep.id]
    if others and not recreate:
        versions = ", ".join(f"{e.id} on {e.api_version or 'the account default'}"
                             for e in others)
        if keep is None:
            raise SetupRefused(
                f"The endpoint for {url} renders events in another API version ({versions}); "
                f"Stripe cannot change an endpoint's version. Run again with --recreate to "
                f"replace it with one on {version}: it gets a new signing secret, so set "
                "STRIPE_WEBHOOK_SECRET to the one printed (Stripe retries what fails "
                "meanwhile).")
        raise SetupRefused(f"Other endpoints also send to {url} ({versions}); run again with "
                           "--recreate to delete them.")
    lines: list[str] = []
    secret = None
    if keep is None:
        keep, secret = client.create_webhook_endpoint(
            url=url, events=events, version=version, description=DESCRIPTION, metadata=MANAGED)
        lines.append(f"Created webhook endpoint {keep.id} for {url}: {len(events)} event "
                     f"types, API version {version}.")
    else:
        lines.extend(_update(keep, events))
    for old in others:
        client.delete_webhook_endpoint(old.id)
        lines.append(f"Deleted endpoint {old.id} (API version {old.api_version}).")
    public = expected_url(current_app.config["PUBLIC_URL"])
    if url != public:
        lines.append(f"Note: PUBLIC_URL makes the webhook address {public}, not {url}; "
                     "stripe-check compares with PUBLIC_URL.")
    return SetupResult(lines=lines, secret=secret)


def _update(endpoint: WebhookEndpoint, events: list[str]) -> list[str]:
    changes: dict[str, Any] = {}
    lines = []
    enabled = set(endpoint.enabled_events)
    if enabled != set(events):
        changes["enabled_events"] = events
        added = [e for e in events if e not in enabled]
        removed = sorted(enabled - set(events))
        if added:
            lines.append(f"Now sends: {', '.join(added)}.")
        if removed:
            lines.append(f"No longer sends: {', '.join(removed)}.")
    if endpoint.status != "enabled":
        changes["disabled"] = False
        lines.append("Enabled again.")
    if endpoint.metadata.get("managed_by") != MANAGED["managed_by"]:
        changes["metadata"] = MANAGED
    if not changes:
        return [f"Endpoint {endpoint.id} for {endpoint.url} is up to date: "
                f"{len(events)} event types, API version {endpoint.api_version}."]
    client.update_webhook_endpoint(endpoint.id, **changes)
    return [f"Updated endpoint {endpoint.id} for {endpoint.url}:", *lines]


class CachedCheck:
    """The drift check for /readyz: refreshed in the background at most every `ttl`
    seconds, so a probe never waits on Stripe and Stripe is not asked on every probe."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.result: Drift | None = None
        self.error: str | None = None
        self.checked_at = float("-inf")
        self._running = False
        self._lock = threading.Lock()

    def read(self, app: Flask) -> tuple[str, list[str]]:
        """(`ok` | `drift` | `unknown` | `checking`, warnings) as last found."""
        with self._lock:
            stale = time.monotonic() - self.checked_at >= self.ttl
            if stale and not self._running:
                self._running = True
                threading.Thread(target=self._refresh, args=(app,), daemon=True,
                                 name="stripe-endpoint-check").start()
            result, error = self.result, self.error
        if error is not None:
            return "unknown", [f"Stripe's webhook endpoints could not be read: {error}"]
        if result is None:
            return "checking", []
        return ("ok" if result.ok else "drift"), [*result.problems, *result.warnings]

    def _refresh(self, app: Flask) -> None:
        result: Drift | None = None
        error: str | None = None
        try:
            with app.app_context():
                result = check()
        except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
            error = str(exc)[:300] or type(exc).__name__
        if result is not None and not result.ok:
            log.warning("stripe webhook endpoint drift: %s", "; ".join(result.problems))
        with self._lock:
            self.result, self.error = result, error
            self.checked_at = time.monotonic()
            self._running = False


def cached_check(app: Flask) -> CachedCheck:
    found = app.extensions.setdefault(
        "stripe_endpoint_check", CachedCheck(float(app.config["STRIPE_CHECK_INTERVAL"])))
    assert isinstance(found, CachedCheck)
    return found
