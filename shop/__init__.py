"""The care-package shop: create_app() builds the Flask application."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from shop.config import derived_settings, load_config
from shop.config_checks import check_config
from shop.extensions import (
    babel,
    cache,
    celery_init_app,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
)


def shipped_folder(name: str) -> Path:
    """`templates` or `migrations`: inside the package when installed from the wheel
    (pyproject.toml puts them there), else the top-level folder of the repository."""
    package = Path(__file__).resolve().parent
    inside = package / name
    return inside if inside.is_dir() else package.parent / name


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, template_folder=shipped_folder("templates"),
                instance_relative_config=True)
    clean_the_edge(app)
    app.config.update(load_config())
    if config:
        app.config.update(config)
    given = set(config or ())
    for key, value in derived_settings(dict(app.config)).items():
        # The cache's settings go together: a CACHE_TYPE given explicitly keeps its own
        # options rather than taking another backend's (Redis options on SimpleCache fail).
        if key in given or (key.startswith("CACHE_") and "CACHE_TYPE" in given):
            continue
        app.config[key] = value
    check_config(app.config)
    configure_logging(app)
    register_proxy(app)
    register_extensions(app)
    register_security_headers(app)
    register_assets(app)
    register_blueprints(app)
    register_cli(app)
    register_error_handlers(app)
    register_template_helpers(app)
    return app


def clean_the_edge(app: Flask) -> None:
    """Query parameters arrive cleaned; a path parameter with a control character is 404.

    Before any blueprint adds its routes: a rule reads its converters when it is added.
    """
    from shop.forms import CleanSegmentConverter, ShopRequest

    app.request_class = ShopRequest
    app.url_map.converters["default"] = CleanSegmentConverter
    app.url_map.converters["string"] = CleanSegmentConverter


def configure_logging(app: Flask) -> None:
    from shop.logs import install_filters

    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    install_filters()


def register_proxy(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto/-Host/-Port from exactly TRUSTED_PROXY_HOPS proxies.

    With 0 (the default) nothing is trusted: a client cannot pick its own address for
    the rate limits or the logs. Behind nginx alone it is 1 (see deploy/nginx.conf).
    """
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=0,
        )


def register_extensions(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        # Connections are cheap and wait on SQLite's own lock, not the pool: a request
        # whose in-process tasks take a second connection must never wait 30 s for one.
        options.setdefault("max_overflow", -1)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _serialize_sqlite_writers(db.engine)
    migrate.init_app(app, db, directory=str(shipped_folder("migrations")))
    # Before CSRFProtect's check: a viewer's action post is a 403, with or without a token.
    from shop.staff.auth import refuse_forbidden_roles

    app.before_request(refuse_forbidden_roles)
    from shop.cookies import init_shared_tokens

    init_shared_tokens(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, default_locale=app.config["LOCALE"],
                   locale_selector=lambda: app.config["LOCALE"])
    celery_init_app(app)
    cache.init_app(app)


def register_security_headers(app: Flask) -> None:
    from shop.security_headers import init_security_headers

    init_security_headers(app)


def register_assets(app: Flask) -> None:
    from shop.assets import init_assets

    init_assets(app)


def _serialize_sqlite_writers(engine: Engine) -> None:
    """SQLite has no row locks: take the write lock at BEGIN so transactions never deadlock."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    # Threads of this process queue on a lock of their own for the write lock: SQLite's
    # busy handler polls and is not fair, so under load one request could lose every
    # round for the whole busy timeout while others keep winning. Re-entrant, so a thread
    # that opens a second transaction fails on SQLite's timeout, not a deadlock here.
    writer = threading.RLock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        writer.acquire()
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection: Any) -> None:
        # RuntimeError: ended by another thread than began it (never the shop's own code).
        with contextlib.suppress(RuntimeError):
            writer.release()


def register_blueprints(app: Flask) -> None:
    from shop.campaign.views import bp as campaign_bp
    from shop.cart.views import bp as cart_bp
    from shop.catalog.views import bp as catalog_bp
    from shop.checkout.views import bp as checkout_bp
    from shop.donations.views import bp as donations_bp
    from shop.health import bp as health_bp
    from shop.orders.views import bp as orders_bp
    from shop.pages.views import bp as pages_bp
    from shop.payments.views import bp as payments_bp
    from shop.staff.blueprint import create_blueprint as staff_blueprint

    for blueprint in (
        catalog_bp, cart_bp, donations_bp, checkout_bp, orders_bp, payments_bp, health_bp,
        staff_blueprint(), campaign_bp, pages_bp,
    ):
        app.register_blueprint(blueprint)


def register_cli(app: Flask) -> None:
    from shop.cli import register_commands

    register_commands(app)


def register_error_handlers(app: Flask) -> None:
    from shop.errors import register_error_handlers as register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from shop.assets import image_url
    from shop.campaign.service import bar_width, displayed_campaign
    from shop.cart.session import cart_item_count
    from shop.catalog.service import impact_line
    from shop.forms import field_attrs
    from shop.money import format_money, format_plain
    from shop.wording import dedication_words, html_lang

    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["plain_money"] = format_plain
    app.jinja_env.globals.update(dedication_words=dedication_words, html_lang=html_lang)
    app.jinja_env.filters["image_url"] = image_url
    app.jinja_env.globals.update(cart_item_count=cart_item_count, bar_width=bar_width,
                                 impact_line=impact_line, field_attrs=field_attrs)
    # The campaign staff set in the back office (shop.campaign.service), for templates.
    app.jinja_env.globals["unit_size"] = lambda: displayed_campaign().unit_size
