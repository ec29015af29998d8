"""What donor pages show (catalog, campaign and unit progress): cached briefly, busted on change.

The cache is Flask-Caching's: Redis when REDIS_URL is set (shared by every worker, so a
bust reaches them all), a dictionary in each process otherwise (a bust reaches that
process; the others catch up within STOREFRONT_CACHE_SECONDS). Values are plain frozen
dataclasses, never ORM objects, so they survive pickling and outlive the session.

A change to the catalog, the campaign's settings or totals, or a unit busts the cache
by itself: any flush of those rows, or an UPDATE/DELETE statement on their tables,
marks the session, and right after the commit the cache's generation is counted up;
every value is kept under the generation it was built in, so nothing built before (or
from rows read before the commit) is read again. `bust()` does the same for a change
the ORM cannot see (raw SQL). A donor's cart page is kept too, in
each process, under the browser's session cookie (`page_per_cart`).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from cachelib import SimpleCache
from flask import current_app, has_app_context, jsonify, request, session
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from werkzeug.wrappers import Response

from shop.cookies import reads_no_cookie
from shop.extensions import cache, db

log = logging.getLogger(__name__)

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

# The values this module keeps, each stored under its key and the generation it was
# built in (they change together rarely enough that being precise would cost more
# than it saves).
CATALOG = "storefront:catalog"
PROGRESS = "storefront:progress"
STOREFRONT_UNITS = "storefront:units"
VISIBLE_UNITS = "storefront:visible-units"
CAMPAIGN = "storefront:campaign"
# Whole pages as a visitor without a session sees them (the same for all such visitors).
PAGE = "storefront:page:"

# The tables whose rows the cached values are made of.
WATCHED_TABLES = frozenset({
    "products", "bundles", "campaign_settings", "campaign_totals", "units", "unit_places",
})

# Counted up by every bust, after the commit: a value built in an older generation is
# never read again, and one built from rows read before the commit was made in it.
GENERATION = "storefront:generation"
_OWN_GENERATION = "shop_storefront_generation"  # without Redis: this process's count
# How many cart pages each process keeps (about 8 KB each).
CART_PAGES_KEPT = 500
_CART_PAGES = "shop_storefront_cart_pages"

_BUST = "shop_storefront_cache_bust"
UNREACHABLE = (RedisError, OSError)


# With Redis, each process also keeps what it read for this long (at most), so a busy
# page is not one network round trip per view; another process's bust reaches it then.
LOCAL_SECONDS = 1.0
_LOCAL = "shop_storefront_local"


def _local() -> dict[str, tuple[float, Any]] | None:
    """This process's copy of the shared cache, or None when the cache is local already."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("CACHE_TYPE") != "RedisCache":
        return None
    local: dict[str, tuple[float, Any]] = app.extensions.setdefault(_LOCAL, {})
    return local


def cached(key: str, build: Callable[[], T], keep: Callable[[T], bool] | None = None) -> T:
    """The value under `key` in the current generation, built and stored for
    STOREFRONT_CACHE_SECONDS on a miss.

    `keep` may refuse to store a value (it is still returned). A cache that cannot be
    reached (Redis down) is skipped: the page is built from the database, slower but right.
    """
    try:
        key = f"{key}@{_generation()}"
    except UNREACHABLE:  # pragma: no cover - a Redis outage
        log.warning("storefront cache unreachable; building %s from the database", key)
        return build()
    local = _local()
    now = time.monotonic()
    if local is not None and key in local and local[key][0] > now:
        return cast(T, local[key][1])
    try:
        value = cache.get(key)
    except UNREACHABLE:  # pragma: no cover - a Redis outage
        log.warning("storefront cache unreachable; building %s from the database", key)
        value = None
    if value is None:
        value = build()
        if keep is not None and not keep(value):
            return value
        try:
            cache.set(key, value)
        except UNREACHABLE:  # pragma: no cover - as above
            log.warning("storefront cache unreachable; %s not stored", key)
    if local is not None:
        local[key] = (now + LOCAL_SECONDS, value)
    return cast(T, value)


def _not_for_everyone() -> bool:
    """A request whose page may differ from the one every newcomer sees."""
    return (request.method not in ("GET", "HEAD") or bool(request.args)
            or bool(request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])))


def _same_for_everyone(rv: Any) -> bool:
    status = rv[1] if isinstance(rv, tuple) and len(rv) > 1 else 200
    return isinstance(rv, str | tuple) and status == 200 and not session.modified


def page_for_newcomers(view: F) -> F:
    """Keep the page a visitor without a session gets, for STOREFRONT_CACHE_SECONDS.

    Such a visitor has no cart, no messages and the shared form token, so every one of
    them sees the same page: it is rendered once and then served from the cache.
    """

    @functools.wraps(view)
    def page(*args: Any, **kwargs: Any) -> Any:
        if _not_for_everyone():
            return view(*args, **kwargs)
        return cached(PAGE + request.path, lambda: view(*args, **kwargs),
                      keep=_same_for_everyone)

    return cast(F, page)


def _generation() -> Any:
    """The storefront's generation: with Redis, this process's copy of it for up to
    LOCAL_SECONDS (so another process's bust reaches it within that), otherwise the
    process's own. Raises RedisError or OSError when Redis cannot be reached."""
    local = _local()
    now = time.monotonic()
    if local is None:
        return current_app.extensions.get(_OWN_GENERATION, 0)
    if GENERATION in local and local[GENERATION][0] > now:
        return local[GENERATION][1]
    value = cache.get(GENERATION) or 0
    if GENERATION in local and local[GENERATION][1] != value:
        local.clear()  # what this process kept is of an older generation
    local[GENERATION] = (now + LOCAL_SECONDS, value)
    return value


def _cart_pages() -> SimpleCache:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pages: SimpleCache | None = app.extensions.get(_CART_PAGES)
    if pages is None:
        pages = app.extensions[_CART_PAGES] = SimpleCache(
            threshold=CART_PAGES_KEPT,
            default_timeout=int(app.config.get("STOREFRONT_CACHE_SECONDS", 5)))
    return pages


def page_per_cart(keepable: Callable[[], bool]) -> Callable[[F], F]:
    """Keep, in this process, the page a browser with a cart gets (when `keepable()`
    says it may be kept), for STOREFRONT_CACHE_SECONDS at most.

    The copy is found by the session cookie exactly as the browser sent it, and the
    storefront's generation. Every change to a cart made through its browser's requests
    gives the session a new revision (shop.cart.session), so the browser's next request
    carries another cookie, whichever process answers it: no copy made before the change
    is read again, and the page costs no round trip to Redis. A change made elsewhere
    (staff prices) counts the generation up; a cart that went to a checkout, which its
    payment may empty anywhere, is not kept. A page that changed the session (a flash
    shown, a form token minted) is not kept either.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def page(*args: Any, **kwargs: Any) -> Any:
            cookie = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
            if (not cookie or request.method != "GET" or request.args or not keepable()
                    or current_app.config.get("CACHE_TYPE") == "NullCache"):
                return view(*args, **kwargs)
            try:
                generation = _generation()
            except UNREACHABLE:  # pragma: no cover - a Redis outage: render it
                return view(*args, **kwargs)
            key = f"{generation}:{hashlib.sha256(cookie.encode()).hexdigest()}"
            pages = _cart_pages()
            kept = pages.get(key)
            if kept is not None:
                return kept
            rv = view(*args, **kwargs)
            if _same_for_everyone(rv):
                pages.set(key, rv)
            return rv

        return cast(F, page)

    return decorate


def cacheable_json(data: object) -> Response:
    """JSON for anyone to cache for STOREFRONT_CACHE_SECONDS, with an ETag; 304 when unchanged.

    Public: the same for every visitor (it reads no cookie, so no `Vary: Cookie`).
    """
    reads_no_cookie()
    response = jsonify(data)
    response.add_etag()
    response.cache_control.public = True
    response.cache_control.max_age = int(current_app.config.get("STOREFRONT_CACHE_SECONDS", 5))
    return response.make_conditional(request)


def bust(session: Session | None = None) -> None:
    """Forget the cached donor-page data right after this transaction commits.

    Call it inside the transaction that changes what the storefront shows without going
    through the ORM's unit of work (raw SQL); ORM changes and UPDATE statements on the
    watched tables already call it. Once per transaction, however many calls.
    """
    (session or db.session()).info[_BUST] = True


def _count_up() -> None:
    """A new generation: every value kept so far is built again on its next read."""
    if not has_app_context() or "cache" not in current_app.extensions:
        return
    try:
        if current_app.config.get("CACHE_TYPE") == "RedisCache":
            cache.cache.inc(GENERATION)  # one INCR, kept without expiry
        else:
            extensions = current_app.extensions
            extensions[_OWN_GENERATION] = extensions.get(_OWN_GENERATION, 0) + 1
    except UNREACHABLE:  # pragma: no cover - the values expire by themselves
        log.warning("storefront cache unreachable; it expires within seconds by itself")
    # After the count: a thread reading meanwhile cannot keep the old generation here.
    current_app.extensions.get(_LOCAL, {}).clear()


def _touches_watched(objects: Any) -> bool:
    return any(getattr(obj, "__tablename__", None) in WATCHED_TABLES for obj in objects)


@event.listens_for(Session, "after_flush")
def _bust_after_flush(session: Session, _flush: UOWTransaction) -> None:
    if session.info.get(_BUST):
        return
    if (_touches_watched(session.new) or _touches_watched(session.dirty)
            or _touches_watched(session.deleted)):
        bust(session)


@event.listens_for(Session, "do_orm_execute")
def _bust_on_statement(state: ORMExecuteState) -> None:
    if state.session.info.get(_BUST) or not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED_TABLES:
        bust(state.session)


@event.listens_for(Session, "after_commit")
def _bust_after_commit(session: Session) -> None:
    if session.info.pop(_BUST, False):
        _count_up()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, _previous: object) -> None:
    if not session.in_transaction():
        session.info.pop(_BUST, None)
