"""The shop's import and state rules, checked on the source: `python -m tests.architecture`.

- `shop/` never imports `tasks/` (it enqueues by task name, see shop/jobs.py);
- no import cycle between modules inside `shop/`;
- no module outside the state modules (`state.py`, `<kind>_state.py`) assigns `.status`;
- no view module (one that registers routes) imports another view module.

Imports inside `if TYPE_CHECKING:` are left out: they never run. tests/unit/
test_architecture.py runs the same checks under `make test`.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUTE_METHODS = frozenset({"route", "get", "post", "put", "patch", "delete"})


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    imports: set[str] = field(default_factory=set)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def load(package: str) -> dict[str, Module]:
    """Every module of `package` (a top-level directory), parsed."""
    modules = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        name = _module_name(path)
        modules[name] = Module(name, path, ast.parse(path.read_text(), str(path)))
    known = set(modules)
    for module in modules.values():
        module.imports = set(_imported(module, known))
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for other in node.orelse:
                yield other
                yield from _runtime_nodes(other)
            continue
        yield node
        yield from _runtime_nodes(node)


def _imported(module: Module, known: set[str]) -> Iterator[str]:
    """The modules `module` imports, by full name (`from a import b` is a.b when b is one)."""
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    for node in _runtime_nodes(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in known else base


def is_state_module(module: Module) -> bool:
    return module.path.name == "state.py" or module.path.name.endswith("_state.py")


def is_view_module(module: Module) -> bool:
    """A module that adds routes to a blueprint: `bp.add_url_rule(...)`, or a decorator
    such as `@bp.get(...)` or `@bp.route(...)`."""
    for node in ast.walk(module.tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_url_rule"):
            return True
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(call, ast.Attribute) and call.attr in ROUTE_METHODS and (
                    isinstance(call.value, ast.Name) and call.value.id.endswith("bp")
                ):
                    return True
    return False


def shop_imports_tasks(modules: dict[str, Module]) -> list[str]:
    return sorted(
        f"{module.name} imports {target}"
        for module in modules.values()
        for target in module.imports
        if target == "tasks" or target.startswith("tasks.")
    )


def import_cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan)."""
    graph = {name: sorted(t for t in module.imports if t in modules and t != name)
             for name, module in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for target in graph[name]:
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in on_stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def status_assignments(modules: dict[str, Module]) -> list[str]:
    """`x.status = ...` (or +=, or setattr(x, "status", ...)) outside the state modules."""
    found = []
    for module in modules.values():
        if is_state_module(module):
            continue
        for node in ast.walk(module.tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id == "setattr" and len(node.args) >= 2
                  and isinstance(node.args[1], ast.Constant) and node.args[1].value == "status"):
                found.append(f"{module.path.relative_to(ROOT)}:{node.lineno}")
            flat: list[ast.expr] = []
            for target in targets:
                flat.extend(target.elts if isinstance(target, ast.Tuple) else [target])
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in flat):
                found.append(f"{module.path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}")
    return sorted(found)


def views_importing_views(modules: dict[str, Module]) -> list[str]:
    views = {name for name, module in modules.items() if is_view_module(module)}
    return sorted(
        f"{name} imports {target}"
        for name in views
        for target in modules[name].imports
        if target in views and target != name
    )


def problems() -> list[str]:
    """Every broken rule, one line each; empty when the code follows them all."""
    shop = load("shop")
    found = [f"shop imports tasks: {line}" for line in shop_imports_tasks(shop)]
    found += [f"import cycle: {' <-> '.join(cycle)}" for cycle in import_cycles(shop)]
    found += [f"status assigned outside a state module: {where}"
              for where in status_assignments(shop) + status_assignments(load("tasks"))]
    found += [f"view imports view: {line}" for line in views_importing_views(shop)]
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(line)
    print("architecture: " + ("ok" if not found else f"{len(found)} problem(s)"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
