"""The import and state rules of tests/architecture.py, run with the rest of the suite."""

from __future__ import annotations

import ast
from pathlib import Path

from tests import architecture
from tests.architecture import (
    Module,
    import_cycles,
    is_view_module,
    load,
    shop_imports_tasks,
    status_assignments,
    views_importing_views,
)


def test_shop_never_imports_tasks() -> None:
    assert shop_imports_tasks(load("shop")) == []


def test_no_import_cycle_inside_shop() -> None:
    assert import_cycles(load("shop")) == []


def test_no_view_module_imports_another() -> None:
    assert views_importing_views(load("shop")) == []


def _module(name: str, source: str) -> Module:
    return Module(name, architecture.ROOT / (name.replace(".", "/") + ".py"), ast.parse(source))


def test_the_cycle_rule_finds_a_cycle_through_a_third_module() -> None:
    modules = {"a": _module("a", ""), "b": _module("b", ""), "c": _module("c", "")}
    modules["a"].imports, modules["b"].imports, modules["c"].imports = {"b"}, {"c"}, {"a"}
    assert import_cycles(modules) == [["a", "b", "c"]]
    modules["c"].imports = set()
    assert import_cycles(modules) == []


def test_the_view_rule_sees_decorated_and_explicit_routes() -> None:
    assert is_view_module(_module("x.views", "@bp.get('/')\ndef page(): ...\n"))
    assert is_view_module(_module("x.pages", "def register(bp):\n"
                                             "    bp.add_url_rule('/', view_func=page)\n"))
    assert not is_view_module(_module("x.presenters", "def render(): ...\n"))


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
