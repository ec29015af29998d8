"""The import and state rules of tests/architecture.py, run with the rest of the suite."""

from __future__ import annotations

import ast
from pathlib import Path

from tests import architecture
from tests.architecture import Module, load, shop_imports_tasks, status_assignments


def test_shop_never_imports_tasks() -> None:
    assert shop_imports_tasks(load("shop")) == []


def test_only_state_modules_assign_a_status() -> None:
    assert status_assignments(load("shop")) + status_assignments(load("tasks")) == []


def test_the_status_rule_sees_every_way_of_assigning() -> None:
    source = ("order.status = 'paid'\nunit.status += ''\na, b.status = 1, 2\n"
              "setattr(plan, 'status', 'active')\norder.status == 'paid'\n")
    module = Module("shop.example", architecture.ROOT / "shop" / "example.py",
                    ast.parse(source))
    assert [where.rsplit(":", 1)[1] for where in status_assignments({"x": module})] == [
        "1", "2", "3", "4"]
    state = Module("shop.example.state", Path(architecture.ROOT / "shop" / "state.py"),
                   ast.parse(source))
    assert status_assignments({"x": state}) == []
