"""What every status enum shares: its column type, its check constraint, its transition guard.

Each kind of record with a status (order, side effect, unit, unit place, monthly plan,
refund request, Stripe event) has a `StrEnum` and a transition table in the state module
of its package; this module holds the machinery they have in common, so the enums stay
the single spelling of each status: the database constraint is generated from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import CheckConstraint, String, TypeDecorator
from sqlalchemy.engine import Dialect

E = TypeVar("E", bound=StrEnum)


class StatusType(TypeDecorator[E], Generic[E]):
    """A status stored as its string value; read back as the enum's member.

    Writing a value that is not a member raises ValueError before the database sees it.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 20) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        if value is None:
            return None
        return self.enum(value)

    @property
    def python_type(self) -> type[E]:
        return self.enum


def sql_in(column: str, values: Iterable[StrEnum]) -> str:
    """`column in ('a', 'b')`: the SQL text of a check constraint, from enum members."""
    quoted = ", ".join("'" + str(value).replace("'", "''") + "'" for value in values)
    return f"{column} in ({quoted})"


def check_in(column: str, values: Iterable[StrEnum], name: str | None = None) -> CheckConstraint:
    """A check constraint that keeps `column` to these values (named `ck_<table>_<name>`)."""
    return CheckConstraint(sql_in(column, values), name=name or column)


class IllegalMove(Exception):
    """A status change its transition table does not allow; nothing was changed."""

    def __init__(self, what: str, current: StrEnum | str, new: StrEnum | str) -> None:
        super().__init__(f"{what}: {current} -> {new} is not allowed")
        self.current = current
        self.new = new


def check_move(table: Mapping[E, frozenset[E]], what: str, current: E | str | None,
               new: E) -> None:
    """Raise IllegalMove unless `table` lets `current` become `new`.

    None as `current` is a record not yet in the database taking its first status.
    """
    if current is None:
        return
    if new not in table.get(current, frozenset()):  # type: ignore[call-overload]
        raise IllegalMove(what, current, new)

