"""Security headers on every response (Flask-Talisman), and `no_store` for private pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, make_response
from flask_talisman import Talisman

# Stripe's hosted Checkout: POST /checkout and /donate answer with a 303 to it, and browsers
# apply form-action to where a form's redirect leads.
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"

F = TypeVar("F", bound=Callable[..., Any])


def content_security_policy(stripe_api_base: str | None) -> dict[str, str]:
    """The policy: everything from the shop itself, no inline script or style, no framing.

    Pages have no inline script, style attribute or <style> (tests/unit/test_templates.py
    checks the templates), so nothing needs 'unsafe-inline', a hash or a nonce. Catalog
    pictures may be https addresses staff gave (shop.assets.image_url).
    """
    form_action = ["'self'", STRIPE_CHECKOUT_ORIGIN]
    if stripe_api_base:
        # The local Stripe stand-in serves its checkout page from its own address.
        parts = urlsplit(stripe_api_base)
        form_action.append(f"{parts.scheme}://{parts.netloc}")
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data: https:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": " ".join(form_action),
        "frame-ancestors": "'none'",
    }


def init_security_headers(app: Flask) -> None:
    """CSP, frame-ancestors, nosniff, Referrer-Policy on every response; HSTS over https.

    HTTPS itself is the proxy's job (deploy/nginx.conf redirects plain HTTP), so Talisman
    does not redirect; HSTS is sent on a request that arrived over https (through
    ProxyFix, with TRUSTED_PROXY_HOPS), and also, since Talisman reads the header itself,
    on one claiming `X-Forwarded-Proto: https`: harmless, as browsers ignore HSTS
    received over plain http (RFC 6797, section 8.1). Talisman keeps its options on
    itself, so each app gets its own instance.
    """
    app.extensions["talisman"] = Talisman(
        app,
        force_https=False,
        strict_transport_security=True,
        strict_transport_security_include_subdomains=False,
        content_security_policy=content_security_policy(app.config.get("STRIPE_API_BASE")),
        frame_options="DENY",
        referrer_policy="same-origin",
        session_cookie_secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
        session_cookie_http_only=True,
        x_content_type_options=True,
    )


def no_store(view: F) -> F:
    """A page or JSON with a donor's data: no browser or shared cache keeps it."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapper  # type: ignore[return-value]
