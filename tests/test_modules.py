"""The Python packages' modules by purpose: the loader imports nothing of the application, no import cycle, and
one module that runs dbt."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("loaders", "vt_warehouse")


def modules() -> dict[str, Path]:
    """Every module of the two packages, by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def imported(path: Path, known: dict[str, Path]) -> set[str]:
    """The project's modules a file imports, at any level of the file (as Python would when it runs)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGES):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in known}


def imports() -> dict[str, set[str]]:
    """module -> the modules it imports; a package's own __init__ is not a dependency of its modules' cycle."""
    known = modules()
    return {
        name: {m for m in imported(path, known) if m != name and not name.startswith(m + ".")}
        for name, path in known.items()
    }


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
        for m, path in ((m, ROOT / (m.replace(".", "/") + ".py")) for m in graph)
        if path.exists()
    }
    # the one child process that runs dbt, and the one module that starts it
    assert [m for m, text in sources.items() if "dbtRunner" in text] == ["vt_warehouse.transform.child"]
    assert [m for m, text in sources.items() if '"-m", "vt_warehouse.transform.child"' in text] == [
        "vt_warehouse.transform.run"
    ]
    assert not [m for m, text in sources.items() if "dbt.cli.main" in text and m != "vt_warehouse.transform.child"]
    known = modules()
    assert "vt_warehouse.release" not in imported(known["vt_warehouse.release.codebook"], known)
    assert "vt_warehouse.release" not in graph["vt_warehouse.quality"]


def test_the_loader_imports_nothing_of_the_application():
    """loaders/ is the layer the application is built on: an arrow up would make the loader need the whole
    application (dbt, GX, the portal) to read a file."""
    up = {m: sorted(d for d in deps if d.startswith("vt_warehouse")) for m, deps in imports().items()}
    assert {m: d for m, d in up.items() if m.startswith("loaders") and d} == {}
    assert up["vt_warehouse.cli"]  # the check sees the application's imports at all
