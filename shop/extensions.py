"""The Flask extensions, created unbound, plus the Celery app factory step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from celery import Celery, Task
from flask import Flask
from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, TypeDecorator
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Money in minor units, and anything that adds money up: 64-bit, since a campaign passes
# 2^31 cents ($21,474,836.47) long before it ends. SQLite's INTEGER is already 64-bit (and
# only INTEGER may be a rowid alias), so SQLite keeps its name for the type.
BIG_INTEGER = BigInteger().with_variant(Integer(), "sqlite")
Cents = Annotated[int, mapped_column(BIG_INTEGER)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def insert_unless_exists(model: type[Any], *key: str) -> Any:
    """An INSERT of `model` that does nothing when a row with the same `key` columns
    exists (INSERT ... ON CONFLICT (key) DO NOTHING), on PostgreSQL and SQLite alike.

    Chain `.values(...)` and `.returning(...)`; no row comes back when one existed. A
    concurrent insert of the same key waits until the other transaction ends, so "read,
    then insert" races become one statement that the unique index settles.
    """
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" \
        else sqlite_insert
    return insert(model).on_conflict_do_nothing(index_elements=list(key))


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
# Wording and spelling follow the LOCALE setting (shop/translations, Flask-Babel's layout).
babel = Babel()
login_manager = LoginManager()
# What donor pages show, for a few seconds (shop.storefront_cache); Redis when configured.
cache = Cache()
limiter = Limiter(key_func=get_remote_address)

# Celery finds the task modules through this setting, so `shop` never imports `tasks`.
TASK_MODULES = (
    "tasks.receipts", "tasks.fulfilment", "tasks.alerts", "tasks.notices", "tasks.sweeps",
    "tasks.reconcile", "tasks.campaign", "tasks.exports", "tasks.events",
)


def celery_init_app(app: Flask) -> Celery:
    """Flask's documented Celery pattern: every task runs inside an app context."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.import_name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.imports = TASK_MODULES
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
