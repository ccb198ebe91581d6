"""The Python package's modules by purpose: no import cycle, and one module that runs dbt."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "loaders"


def imports() -> dict[str, set[str]]:
    """module -> the package's modules it imports (at any level of the file, as Python would when it runs)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("loaders"):
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        # a package's own __init__ is not a dependency of its modules' cycle
        graph[name] = {m for m in found if m in modules and m != name and not name.startswith(m + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle's modules (Tarjan's strongly connected components of more than one module)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_module_imports_itself_through_others():
    assert cycles(imports()) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_dbt_runs_from_one_module_and_the_codebook_does_not_need_the_release_module():
    graph = imports()
    sources = {
        m: path.read_text(encoding="utf-8")
        for m, path in ((m, PACKAGE.parent / (m.replace(".", "/") + ".py")) for m in graph)
        if path.exists()
    }
    # the one child process that runs dbt, and the one module that starts it
    assert [m for m, text in sources.items() if "dbtRunner" in text] == ["loaders.dbt_child"]
    assert [m for m, text in sources.items() if '"-m", "loaders.dbt_child"' in text] == ["loaders.dbt_run"]
    assert not [m for m, text in sources.items() if "dbt.cli.main" in text and m != "loaders.dbt_child"]
    assert "loaders.release" not in graph["loaders.codebook"]
    assert "loaders.release" not in graph["loaders.quality"]
