"""Every status enum has a full transition table, and every order status its consequences."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import pytest

from shop.donations import state as plan_state
from shop.orders import lifecycle, note_state, side_effect_state
from shop.orders import state as order_state
from shop.orders.models import Order
from shop.orders.state import OrderStatus
from shop.payments import event_state, refund_state
from shop.statuses import IllegalMove, check_move, sql_in
from shop.units import state as unit_state
from shop.units.models import Unit

TABLES: list[tuple[type[StrEnum], Mapping[Any, frozenset[Any]]]] = [
    (OrderStatus, order_state.TRANSITIONS),
    (side_effect_state.SideEffectStatus, side_effect_state.TRANSITIONS),
    (note_state.NoteReview, note_state.TRANSITIONS),
    (unit_state.UnitStatus, unit_state.TRANSITIONS),
    (unit_state.PlaceStatus, unit_state.PLACE_TRANSITIONS),
    (plan_state.PlanStatus, plan_state.TRANSITIONS),
    (event_state.EventStatus, event_state.TRANSITIONS),
    (refund_state.RefundStatus, refund_state.TRANSITIONS),
]


@pytest.mark.parametrize(("enum", "table"), TABLES, ids=[enum.__name__ for enum, _ in TABLES])
def test_every_status_has_a_row_and_moves_only_to_statuses_of_its_own_kind(
    enum: type[StrEnum], table: Mapping[Any, frozenset[Any]],
) -> None:
    assert set(table) == set(enum)
    for targets in table.values():
        assert targets <= set(enum)


def test_every_order_status_has_its_consequences_and_words() -> None:
    assert set(lifecycle.ON_ENTER) == set(OrderStatus)
    assert set(order_state.STATUS_LABELS) == set(OrderStatus)


def test_the_named_sets_agree_with_each_other() -> None:
    assert order_state.COUNTED_IN_CAMPAIGN <= order_state.MONEY_RECEIVED
    assert order_state.REFUNDABLE <= order_state.MONEY_RECEIVED
    assert not order_state.OPEN & order_state.MONEY_RECEIVED
    assert not order_state.CLOSED & order_state.MONEY_RECEIVED
    assert set(OrderStatus) == (order_state.OPEN | order_state.CLOSED
                                | order_state.MONEY_RECEIVED | order_state.MONEY_RETURNED)
    # A closed order, or one whose money went back, moves again only when money comes
    # back: to staff (needs_review), or into an appeal of a lost dispute.
    for status in order_state.CLOSED:
        assert order_state.TRANSITIONS[status] == {OrderStatus.NEEDS_REVIEW}
    for status in order_state.MONEY_RETURNED:
        assert order_state.TRANSITIONS[status] <= {OrderStatus.NEEDS_REVIEW,
                                                   OrderStatus.DISPUTED}


def test_a_unit_that_shipped_cannot_open_again() -> None:
    unit = Unit(number=3, status=unit_state.UnitStatus.SHIPPED)
    with pytest.raises(IllegalMove, match="unit 3: shipped -> open"):
        unit_state.set_status(unit, unit_state.UnitStatus.OPEN)
    assert unit.status == unit_state.UnitStatus.SHIPPED


def test_a_new_record_takes_its_first_status_without_a_table_row() -> None:
    check_move(order_state.TRANSITIONS, "order", None, OrderStatus.PAID)


def test_check_constraints_are_spelled_from_the_enum() -> None:
    assert sql_in("status", refund_state.RefundStatus) == (
        "status in ('requested', 'submitted', 'failed')")
    assert any("'dispute_lost'" in str(getattr(c, "sqltext", ""))
               for c in Order.__table__.constraints)
