"""Cookies only where needed: form tokens without a session, `Vary: Cookie` only where read.

Flask-WTF keeps a random token in the session and puts a signed copy in every form,
so merely showing a page with a form used to write a session cookie (and made every
donor page different per visitor). A visitor without a session has no cookie an
attacker could ride on, so their pages carry one token shared by all such visitors,
and their posts are accepted only when the browser says they come from this site
(the `Origin` and `Sec-Fetch-Site` headers; OWASP's CSRF cheat sheet, "Verifying
origin with standard headers"). Once a session exists it gets a random token of its
own at the next page with a form. A donor's session still accepts the shared token
from this site (a second tab opened before the cart existed must keep working, and a
cart is all such a session holds); a staff member's session accepts only its own.

Flask adds `Vary: Cookie` whenever anything looked at the session, and Flask-Login looks
at it after every request; a view whose answer is the same for everyone says so with
`reads_no_cookie()`, so shared caches may keep one copy for all.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Response
from itsdangerous import BadData, URLSafeTimedSerializer

# Flask-WTF's own names: the session key and form field, and the token's signing salt.
FIELD = "csrf_token"
SALT = "wtf-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Flask-Login's key: a session with a staff member logged in takes only its own token.
STAFF_KEY = "_user_id"
_KEPT = "shop_kept_form_value"  # on g: the session's own value while the shared one stands in


def shared_raw_token(secret_key: str) -> str:
    """The session-side value shared by visitors without a session (derived, not stored)."""
    return hashlib.sha256(f"shop-shared-csrf:{secret_key}".encode()).hexdigest()


# The signed token is made again this often, so it stays young for WTF_CSRF_TIME_LIMIT.
RESIGN_EVERY = 60.0


def _shared_tokens(app: Flask) -> tuple[str, str]:
    """(raw, signed) for this app; signed once a minute, so pages can be cached."""
    made: tuple[float, str, str] | None = app.extensions.get("shop_shared_csrf")
    now = time.monotonic()
    if made is None or now - made[0] > RESIGN_EVERY:
        secret = str(app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key)
        raw = shared_raw_token(secret)
        made = (now, raw, URLSafeTimedSerializer(secret, salt=SALT).dumps(raw))
        app.extensions["shop_shared_csrf"] = made
    return made[1], made[2]


def _own_origins() -> set[str]:
    origins = {request.host_url.rstrip("/")}
    public = current_app.config.get("PUBLIC_URL")
    if public:
        parts = urlsplit(public)
        origins.add(f"{parts.scheme}://{parts.netloc}")
    return origins


def from_this_site() -> bool:
    """False when the browser says the request was sent by another site's page."""
    if request.headers.get("Sec-Fetch-Site", "").lower() in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("Origin")
    return origin is None or origin.rstrip("/") in _own_origins()


def _before_request() -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if request.method in SAFE_METHODS:
        # Read the cookie, not the session: touching the session would add `Vary: Cookie`
        # to responses (the JSON endpoints) that do not depend on it.
        if not request.cookies.get(app.config["SESSION_COOKIE_NAME"]):
            setattr(g, FIELD, _shared_tokens(app)[1])  # Flask-WTF's generate_csrf reads g
        return
    raw = _shared_tokens(app)[0]
    if not from_this_site() or STAFF_KEY in session:
        return
    if not _is_shared(app, _submitted_token(), raw):
        return
    # Flask-WTF compares the form's token with the session's: for this request only,
    # the session holds the shared value (its own token is put back afterwards).
    setattr(g, _KEPT, session.get(FIELD))
    session[FIELD] = raw


def _submitted_token() -> str:
    token = request.form.get(FIELD) if request.mimetype in FORM_TYPES else None
    return token or request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token") or ""


def _is_shared(app: Flask, token: str, raw: str) -> bool:
    secret = str(app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key)
    try:
        return bool(token) and URLSafeTimedSerializer(secret, salt=SALT).loads(token) == raw
    except BadData:
        return False


def _after_request(response: Response) -> Response:
    # The shared value never stays in a cookie: the session keeps (or later mints) its own.
    if request.method in SAFE_METHODS or not hasattr(g, _KEPT):
        return response
    own = getattr(g, _KEPT)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if session.get(FIELD) == _shared_tokens(app)[0]:
        if own is None:
            session.pop(FIELD)
        else:
            session[FIELD] = own
    return response


_READS_NO_COOKIE = "shop_reads_no_cookie"


def reads_no_cookie() -> None:
    """This request's response is the same with or without the visitor's cookie."""
    setattr(g, _READS_NO_COOKIE, True)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, without `Vary: Cookie` on answers that ignore it."""

    def save_session(self, app: Flask, session: SessionMixin, response: Any) -> None:
        super().save_session(app, session, response)
        if g.get(_READS_NO_COOKIE) and not session.modified:
            response.vary.discard("cookie")  # lower case: HeaderSet.remove compares so


def init_shared_tokens(app: Flask) -> None:
    """Register the hooks; call before CSRFProtect.init_app so they run before its check."""
    app.session_interface = SessionInterface()
    app.before_request(_before_request)
    app.after_request(_after_request)
