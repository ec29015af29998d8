"""Every kind of entry on an order's or a monthly plan's timeline is a named constant with
words for staff."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shop.orders.side_effect_state import SideEffectKind
from shop.orders.timeline import (
    LABELS,
    PLAN_LABELS,
    EventKind,
    PlanEventKind,
    effect_event,
    plan_event_label,
)

ROOT = Path(__file__).resolve().parents[2]
WRITERS = {"record_event", "_record", "_tell_members"}


def test_every_kind_has_words_of_its_own() -> None:
    assert set(LABELS) == set(EventKind)
    assert all(words.strip() for words in LABELS.values())
    assert len(set(LABELS.values())) == len(LABELS)


def test_every_plan_kind_has_words_of_its_own() -> None:
    assert set(PLAN_LABELS) == set(PlanEventKind)
    assert len(set(PLAN_LABELS.values())) == len(PLAN_LABELS)
    assert plan_event_label("gift_paid") == "Gift paid"


@pytest.mark.parametrize("outcome", ["done", "retry", "failed", "requested", "cancelled"])
def test_every_side_effect_outcome_is_a_kind(outcome: str) -> None:
    for kind in SideEffectKind:
        assert effect_event(kind, outcome) in LABELS  # type: ignore[arg-type]


def test_no_timeline_entry_is_written_with_a_bare_string() -> None:
    """A new kind goes into shop.orders.timeline (with its words), not inline."""
    found = []
    for path in sorted((ROOT / "shop").rglob("*.py")) + sorted((ROOT / "tasks").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            kinds = [node.args[1]] if name in WRITERS and len(node.args) > 1 else []
            # A monthly plan's timeline: plan.record(kind, ...), not audit.record(action, ...).
            if (name == "record" and node.args and isinstance(node.func, ast.Attribute)
                    and getattr(node.func.value, "id", "") != "audit"):
                kinds.append(node.args[0])
            kinds += [k.value for k in node.keywords if k.arg == "event"]
            found += [f"{path.relative_to(ROOT)}:{node.lineno}" for kind in kinds
                      if isinstance(kind, ast.Constant | ast.JoinedStr)]
    assert found == []
