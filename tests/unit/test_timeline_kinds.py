"""Every kind of entry on an order's timeline is a named constant with words for staff."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shop.orders.side_effect_state import SideEffectKind
from shop.orders.timeline import LABELS, EventKind, effect_event

ROOT = Path(__file__).resolve().parents[2]
WRITERS = {"record_event", "_record", "_tell_members"}


def test_every_kind_has_words_of_its_own() -> None:
    assert set(LABELS) == set(EventKind)
    assert all(words.strip() for words in LABELS.values())
    assert len(set(LABELS.values())) == len(LABELS)


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
            kinds += [k.value for k in node.keywords if k.arg == "event"]
            found += [f"{path.relative_to(ROOT)}:{node.lineno}" for kind in kinds
                      if isinstance(kind, ast.Constant | ast.JoinedStr)]
    assert found == []
