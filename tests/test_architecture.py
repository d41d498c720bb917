"""The shape of the package, checked from its source: no import cycle, the front doors apart,
services below reports and the doors, small modules, and no view that owns a transaction.

Every import counts, at module level or inside a function: a function-level import that
closes a cycle is a cycle all the same, only discovered later. `from X import Y` is an edge
to X.Y when that is a module, otherwise to X. Importing voucher.a.b also runs voucher.a's
__init__, but that implicit import of a parent package is not an edge: it is how Python
works, not a choice of the importing module.
"""

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

PACKAGE = "voucher"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
MAX_LINES = 400

# Only the doors' refusal helper may roll back by hand: pages show an expected refusal with
# it (the "one small helper that rolls back and flashes").
TRANSACTION_HELPERS = {"voucher/web/refusals.py"}


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name; a package is its __init__.py."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _resolve_from(module: str, node: ast.ImportFrom) -> str | None:
    """The absolute name of the module a `from ... import` names."""
    if node.level == 0:
        return node.module
    base = module.split(".")
    # A package's own __init__ is its level-1 base; a plain module's base is its parent.
    keep = len(base) - node.level + (1 if is_package(module) else 0)
    if keep <= 0:
        return None
    prefix = ".".join(base[:keep])
    return f"{prefix}.{node.module}" if node.module else prefix


def _own_module(name: str | None) -> str | None:
    """The longest prefix of `name` that is a module of the package, or None."""
    while name:
        if name in modules():
            return name
        name = name.rpartition(".")[0]
    return None


def import_nodes(module: str) -> Iterator[tuple[ast.stmt, str]]:
    """Each import statement of `module` (at any depth) with each module it imports."""
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _own_module(alias.name)
                if target:
                    yield node, target
        elif isinstance(node, ast.ImportFrom):
            source = _resolve_from(module, node)
            for alias in node.names:
                full = f"{source}.{alias.name}"
                target = full if full in modules() else _own_module(source)
                if target:
                    yield node, target


@cache
def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: line of the first such import}."""
    graph = {}
    for module in modules():
        edges: dict[str, int] = {}
        for node, target in import_nodes(module):
            if target != module:
                edges.setdefault(target, node.lineno)
        graph[module] = edges
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def a_cycle(graph: dict[str, dict[str, int]], members: list[str]) -> list[str]:
    """One import cycle through the component's first module, as a path back to it."""
    inside = set(members)
    start = members[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for succ in sorted(graph[node]):
            if succ == start:
                return [*paths[node], start]
            if succ in inside and succ not in paths:
                paths[succ] = [*paths[node], succ]
                queue.append(succ)
    raise AssertionError("a strongly connected component without a cycle")


def describe_cycle(graph, path: list[str]) -> str:
    return (
        " -> ".join(f"{a} (line {graph[a][b]})" for a, b in zip(path, path[1:], strict=False))
        + f" -> {path[-1]}"
    )


def in_layer(module: str, layer: str) -> bool:
    return module == layer or module.startswith(layer + ".")


def relative(path: Path) -> str:
    return path.relative_to(ROOT.parent).as_posix()


# The graph itself -----------------------------------------------------------------------


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    # create_app imports its blueprints inside the function: those edges must be there.
    assert any(in_layer(target, "voucher.web") for target in graph["voucher"])
    assert "voucher.errors" in graph["voucher.db"]  # from .errors import ...
    assert "voucher.extensions" in graph["voucher.web.security"]  # from ..extensions import


def test_no_import_cycle():
    graph = import_graph()
    cycles = [describe_cycle(graph, a_cycle(graph, c)) for c in strongly_connected(graph)]
    components = [", ".join(c) for c in strongly_connected(graph)]
    assert not cycles, "import cycles among: " + " | ".join(components) + "\n" + "\n".join(cycles)


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("voucher.web", ("voucher.api",)),
        ("voucher.api", ("voucher.web",)),
        ("voucher.services", ("voucher.reports", "voucher.web", "voucher.api")),
    ],
)
def test_layers_import_only_downwards(layer, forbidden):
    graph = import_graph()
    wrong = [
        f"{module} imports {target} (line {line})"
        for module, edges in sorted(graph.items())
        if in_layer(module, layer)
        for target, line in sorted(edges.items())
        if any(in_layer(target, other) for other in forbidden)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_module_over_400_lines():
    long = {
        relative(path): count
        for path in modules().values()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def _is_db_session(node: ast.expr) -> bool:
    """`db.session`, or `db.session()` (the scoped session's current session)."""
    if isinstance(node, ast.Call):
        node = node.func
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "session"
        and isinstance(node.value, ast.Name)
        and node.value.id == "db"
    )


def _door_files() -> list[Path]:
    return sorted([*(ROOT / "web").rglob("*.py"), *(ROOT / "api").rglob("*.py"), ROOT / "cli.py"])


def test_the_doors_never_commit_or_roll_back():
    """The boundary (voucher.boundary, voucher.db.run_in_transaction) owns the transaction."""
    calls = []
    for path in _door_files():
        if relative(path) in TRANSACTION_HELPERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"commit", "rollback"}
                and _is_db_session(node.func.value)
            ):
                calls.append((relative(path), node.lineno, node.func.attr))
    calls = [f"{path}:{line} db.session.{name}()" for path, line, name in sorted(calls)]
    assert not calls, f"{len(calls)} calls:\n" + "\n".join(calls)
