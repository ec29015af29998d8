"""What donor pages show (catalog, campaign and unit progress): cached briefly, busted on change.

The cache is Flask-Caching's: Redis when REDIS_URL is set (shared by every worker, so a
bust reaches them all), a dictionary in each process otherwise (a bust reaches that
process; the others catch up within STOREFRONT_CACHE_SECONDS). Values are plain frozen
dataclasses, never ORM objects, so they survive pickling and outlive the session.

A change to the catalog, the campaign's settings or totals, or a unit busts the cache
by itself: any flush of those rows, or an UPDATE/DELETE statement on their tables,
marks the session, and the keys are deleted right after the commit. `bust()` does the
same for a change the ORM cannot see (raw SQL). With Redis, a donor's cart page is kept
too (`page_per_cart`) and forgotten when a flush changes that cart's rows.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import redis
from flask import current_app, has_app_context, jsonify, request, session
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.orm.util import identity_key
from werkzeug.wrappers import Response

from shop.cookies import reads_no_cookie
from shop.extensions import cache, db

log = logging.getLogger(__name__)

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

# Every key this module writes: a bust deletes them all (they change together rarely
# enough that being precise would cost more than it saves).
CATALOG = "storefront:catalog"
PROGRESS = "storefront:progress"
STOREFRONT_UNITS = "storefront:units"
VISIBLE_UNITS = "storefront:visible-units"
CAMPAIGN = "storefront:campaign"
# Whole pages as a visitor without a session sees them (the same for all such visitors).
PAGE = "storefront:page:"
PAGE_PATHS = ("/", "/donate", "/cart")
KEYS = (CATALOG, PROGRESS, STOREFRONT_UNITS, VISIBLE_UNITS, CAMPAIGN,
        *(PAGE + path for path in PAGE_PATHS))

# The tables whose rows the cached values are made of.
WATCHED_TABLES = frozenset({
    "products", "bundles", "campaign_settings", "campaign_totals", "units", "unit_places",
})

# A cart's page as its browser (session cookie) last saw it: see page_per_cart.
CART_PAGE = "storefront:cart-page:"
CART_VERSION = "storefront:cart-version:"
GENERATION = "storefront:generation"
CART_TABLES = frozenset({"carts", "cart_lines"})
_CARTS = "shop_storefront_carts_changed"

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
    """The value under `key`, built and stored for STOREFRONT_CACHE_SECONDS on a miss.

    `keep` may refuse to store a value (it is still returned). A cache that cannot be
    reached (Redis down) is skipped: the page is built from the database, slower but right.
    """
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
    them sees the same page: it is rendered once and then served from the cache. The
    path must be in PAGE_PATHS (a bust deletes those keys).
    """

    @functools.wraps(view)
    def page(*args: Any, **kwargs: Any) -> Any:
        if _not_for_everyone():
            return view(*args, **kwargs)
        return cached(PAGE + request.path, lambda: view(*args, **kwargs),
                      keep=_same_for_everyone)

    return cast(F, page)


def _kept_cart_page(token: str) -> tuple[str, tuple[Any, Any], Any]:
    """(where this browser's view of cart `token` is kept, the cart's version and the
    storefront's generation now, the kept page if it was made with both), in one read."""
    cookie = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"], "")
    key = f"{CART_PAGE}{token}:{hashlib.sha256(cookie.encode()).hexdigest()[:32]}"
    version_key = CART_VERSION + token
    version, generation, kept = cache.get_many(version_key, GENERATION, key)
    if version is None:
        cache.add(version_key, secrets.token_hex(8))
        version = cache.get(version_key)
    now = (version, generation)
    if version is not None and isinstance(kept, tuple) and kept[0] == now:
        return key, now, kept[1]
    return key, now, None


def page_per_cart(session_key: str) -> Callable[[F], F]:
    """Keep the page a browser with a cart (its token in session[session_key]) gets,
    for STOREFRONT_CACHE_SECONDS, until the cart or the storefront changes.

    The page is kept with the cart's version (a random value, deleted when a flush
    changes the cart's rows) and the storefront's generation (counted up by every bust)
    it was made under, and served only while both are still current: a page rendered
    while the cart changed is never served. Only with Redis: a change made through one
    worker must reach every other one before the donor's next page, which a per-process
    cache cannot promise. A page that changed the session (a flash shown, a form token
    minted) is not kept.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def page(*args: Any, **kwargs: Any) -> Any:
            token = session.get(session_key)
            if (current_app.config.get("CACHE_TYPE") != "RedisCache" or not token
                    or request.method != "GET" or request.args):
                return view(*args, **kwargs)
            try:
                key, now, kept = _kept_cart_page(str(token))
            except UNREACHABLE:  # pragma: no cover - a Redis outage: render it
                return view(*args, **kwargs)
            if kept is not None:
                return kept
            rv = view(*args, **kwargs)
            if now[0] is not None and _same_for_everyone(rv):
                with contextlib.suppress(*UNREACHABLE):
                    cache.set(key, (now, rv))
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
    watched tables already call it. One delete per transaction, however many calls.
    """
    (session or db.session()).info[_BUST] = True


_CLIENT = "shop_storefront_redis"


def _forget(keys: list[str], *, count_up: str | None = None) -> None:
    """Delete `keys` (and count `count_up` up by one) in one round trip to Redis.

    Not cache.delete_many: cachelib's asks Redis once more per key afterwards, to
    check each is gone, and a payment busts eight keys.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("CACHE_TYPE") != "RedisCache":
        cache.delete_many(*keys)
        if count_up:
            cache.cache.inc(count_up)
        return
    client = app.extensions.get(_CLIENT)
    if client is None:
        client = app.extensions[_CLIENT] = redis.Redis.from_url(
            app.config["CACHE_REDIS_URL"], **app.config.get("CACHE_OPTIONS", {}))
    prefix = app.config.get("CACHE_KEY_PREFIX", "")
    pipe = client.pipeline(transaction=False)
    pipe.delete(*(prefix + key for key in keys))
    if count_up:
        pipe.incr(prefix + count_up)
    pipe.execute()


def _delete_keys() -> None:
    if not has_app_context() or "cache" not in current_app.extensions:
        return
    current_app.extensions.get(_LOCAL, {}).clear()
    try:
        # Counting the generation up means no cart page kept so far is read again.
        _forget(list(KEYS), count_up=GENERATION)
    except UNREACHABLE:  # pragma: no cover - the keys expire by themselves
        log.warning("storefront cache unreachable; it expires within seconds by itself")


def _touches_watched(objects: Any) -> bool:
    return any(getattr(obj, "__tablename__", None) in WATCHED_TABLES for obj in objects)


def _cart_token(session: Session, obj: Any) -> str | None:
    """The token of the cart a changed Cart or CartLine belongs to, without a query."""
    if getattr(obj, "__tablename__", None) == "carts":
        return cast(str, obj.token)
    cart = session.identity_map.get(identity_key(type(obj).cart.property.mapper.class_,
                                                 obj.cart_id))
    return cast(str, cart.token) if cart is not None else None


@event.listens_for(Session, "after_flush")
def _bust_after_flush(session: Session, _flush: UOWTransaction) -> None:
    changed = [*session.new, *session.dirty, *session.deleted]
    for obj in changed:
        if getattr(obj, "__tablename__", None) in CART_TABLES:
            token = _cart_token(session, obj)
            if token is None:
                bust(session)  # a cart it cannot name: every cart page goes
            else:
                session.info.setdefault(_CARTS, set()).add(token)
    if not session.info.get(_BUST) and _touches_watched(changed):
        bust(session)


@event.listens_for(Session, "do_orm_execute")
def _bust_on_statement(state: ORMExecuteState) -> None:
    if state.session.info.get(_BUST) or not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    # A statement on the cart tables names no cart: every cart page goes with the rest.
    if getattr(table, "name", None) in WATCHED_TABLES | CART_TABLES:
        bust(state.session)


@event.listens_for(Session, "after_commit")
def _bust_after_commit(session: Session) -> None:
    if session.info.pop(_BUST, False):
        _delete_keys()
    carts = session.info.pop(_CARTS, None)
    if carts and has_app_context() and "cache" in current_app.extensions:
        try:
            _forget([CART_VERSION + token for token in carts])
        except UNREACHABLE:  # pragma: no cover - the versions expire within seconds
            log.warning("storefront cache unreachable; cart pages expire by themselves")


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, _previous: object) -> None:
    if not session.in_transaction():
        session.info.pop(_BUST, None)
        session.info.pop(_CARTS, None)
