"""``avg_bench`` has no import cycles, counting imports inside functions too.

A cycle hidden in a function-level import still ties two modules together (neither can be
understood, tested or moved alone), so the graph here is built from every ``import`` statement in
each module's AST, wherever it stands (``TYPE_CHECKING`` blocks included: a type-only cycle is
still a design cycle).

One kind of edge is left out: a module importing one of its own ancestor packages (``from
avg_bench.cli import app`` in ``avg_bench.cli.build``). Python runs every ancestor's ``__init__``
before a submodule anyway, so that dependency exists for every submodule whether written or not;
counting it would make every package whose ``__init__`` imports a submodule "cyclic".
"""

from __future__ import annotations

import ast
from pathlib import Path

import avg_bench

PACKAGE = "avg_bench"
ROOT = Path(avg_bench.__file__).parent


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module an ``ImportFrom`` names (relative imports resolved against ``module``)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the ``avg_bench`` modules it imports (anywhere in its body), from the AST only."""
    files = {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node, name, is_package)
                # ``from pkg import mod`` imports the submodule when there is one, else a name of pkg.
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in node.names]
            for target in targets:
                while target and target not in files:  # ``import a.b.c`` of a name: its nearest module
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None when the graph is acyclic."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_avg_bench_import_graph_is_acyclic():
    graph = import_graph()
    assert len(graph) > 20 and "avg_bench.data.build" in graph  # the walk really found the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checker_finds_function_level_and_relative_cycles(tmp_path):
    """The detector itself: a cycle through a function-level relative import is found, a chain is not."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("import pkg.b\n")
    (package / "b.py").write_text("def f():\n    from . import c\n")
    (package / "c.py").write_text("X = 1\n")
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.c"}
    assert find_cycle(graph) is None
    (package / "d.py").write_text("from pkg import VALUE\n")  # a submodule importing its package: implicit, not an edge
    (package / "__init__.py").write_text("VALUE = 1\nfrom pkg import d\n")
    assert find_cycle(import_graph(package)) is None
    (package / "c.py").write_text("def g():\n    from pkg.a import thing\n")
    assert find_cycle(import_graph(package)) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
