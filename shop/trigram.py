"""Contains-searches that stay fast on a big table: pg_trgm indexes, and the patterns they use.

On PostgreSQL a GIN trigram index answers `column ILIKE '%text%'` without reading the
table; SQLite (the embedded default, small by nature) has no such index and scans. The
index is declared on the model for PostgreSQL only, so `db.create_all()` and the
migrations build the same schema on both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, ColumnElement, Index, event
from sqlalchemy.schema import SchemaItem

from shop.extensions import db

DIALECT = "postgresql"

# The extension must exist before any table with a trigram index is created.
event.listen(db.metadata, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # type: ignore[no-untyped-call]
             .execute_if(dialect=DIALECT))


def trigram_index(name: str, column: str) -> Index:
    """A GIN pg_trgm index on `column`, built on PostgreSQL only."""
    return Index(name, column, postgresql_using="gin",
                 postgresql_ops={column: "gin_trgm_ops"}).ddl_if(dialect=DIALECT)


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """`column` contains `text`, any case, with % and _ taken literally.

    ILIKE on the bare column (not lower(column) LIKE ...), so a trigram index on the
    column can answer it; SQLite renders it as lower() LIKE lower().
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    result: ColumnElement[bool] = column.ilike(f"%{escaped}%", escape="\\")
    return result


def include_for(dialect: str) -> Any:
    """An Alembic `include_object` hook: an index built on one database only (ddl_if) is
    compared only on that database, so autogenerate and the schema test agree."""

    def include(obj: SchemaItem, name: str | None, type_: str, reflected: bool,
                compare_to: SchemaItem | None) -> bool:
        only = getattr(obj, "_ddl_if", None)
        elsewhere = only is not None and only.dialect not in (None, dialect)
        return not (type_ == "index" and elsewhere)

    return include
