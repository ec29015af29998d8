"""The order state machine: legal moves apply and are recorded, illegal ones never do."""

import pytest

from shop.orders.models import Order
from shop.orders.state import (
    STATUS_LABELS,
    TRANSITIONS,
    IllegalTransition,
    move_or_record,
    set_status,
)


def make_order(status: str = "pending") -> Order:
    return Order(number="CP-000001", status=status, events=[])


def test_every_status_has_words_for_donors_and_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(STATUS_LABELS)
    for targets in TRANSITIONS.values():
        assert targets <= set(STATUS_LABELS)


def test_a_legal_move_changes_status_and_appends_a_timeline_entry() -> None:
    order = make_order()
    set_status(order, "paid", reason="Payment confirmed", actor="stripe")
    assert order.status == "paid"
    [event] = order.events
    assert (event.from_status, event.to_status, event.actor) == ("pending", "paid", "stripe")
    assert event.message == "Payment confirmed"


@pytest.mark.parametrize(
    ("start", "target"),
    [("refunded", "paid"), ("expired", "paid"), ("paid", "pending"), ("failed", "paid"),
     ("pending", "fulfilled"), ("fulfilled", "paid")],
)
def test_illegal_moves_raise_and_leave_the_order_alone(start: str, target: str) -> None:
    order = make_order(start)
    with pytest.raises(IllegalTransition):
        set_status(order, target, reason="x", actor="stripe")
    assert order.status == start
    assert order.events == []


def test_refused_outside_moves_are_written_on_the_timeline() -> None:
    order = make_order("refunded")
    assert move_or_record(order, "paid", reason="late completed event", actor="stripe") is False
    assert order.status == "refunded"
    [event] = order.events
    assert event.kind == "refused"
    assert "refunded -> paid" in event.message


def test_unknown_status_is_a_bug_not_a_move() -> None:
    with pytest.raises(ValueError, match="unknown order status"):
        set_status(make_order(), "teleported", reason="x", actor="x")


def test_terminal_states_have_no_way_out_except_review_of_money() -> None:
    for terminal in ("refunded", "dispute_lost", "failed", "expired"):
        assert not TRANSITIONS[terminal] & {"paid", "fulfilled", "pending"}  # type: ignore[index]
