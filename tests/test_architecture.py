"""The house: no import loop anywhere in imconv, and every arrow between rooms points down.

Imports are read from the source (``ast``), including those inside functions and under
``TYPE_CHECKING``: a lazy import still couples two modules. A package is its ``__init__``,
so a module that imports its own package's ``__init__`` (which imports the module) is a
loop too. The floors are those of docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import imconv

ROOT = Path(imconv.__file__).resolve().parent

# Top to bottom; a room may import rooms on lower floors only (and itself).
FLOORS = [
    ["__main__"],
    ["cli"],
    ["report"],
    ["run"],
    ["batch"],
    ["tiles"],
    ["stream", "bench"],
    ["kernels", "tuning", "cluster"],
    ["images", "engine"],
    ["choices"],
    ["errors", "environment", "early"],
]
FLOOR = {room: level for level, rooms in enumerate(FLOORS) for room in rooms}


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _target(name: str) -> str | None:
    """The module (or package) an absolute dotted name refers to, if it is imconv's."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
            # `from pkg import name` reaches pkg/name.py when it is a module, else pkg.
            names = [n if n in MODULES else n.rpartition(".")[0] for n in names]
        else:
            continue
        found |= {t for n in names if n.startswith("imconv") and (t := _target(n)) is not None}
    found.discard(module)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(GRAPH[v]):
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

    for vertex in sorted(GRAPH):
        if vertex not in index:
            visit(vertex)
    return out


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    assert "imconv.stream" in GRAPH["imconv.batch.pool"]  # inside a function
    assert "imconv.batch.jobs" in GRAPH["imconv.batch.pool"]  # relative
    assert "imconv.engine._plan" in GRAPH["imconv.engine"]  # a package's __init__


def test_there_is_no_import_loop() -> None:
    assert _cycles() == []


def _room(module: str) -> str:
    """The room of a module: ``imconv.batch.pool`` is in ``batch``; ``imconv`` itself (lazy
    re-exports of the rooms, importing none of them) is in none."""
    return module.split(".")[1] if module != "imconv" else ""


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m != "imconv"))
def test_arrows_between_rooms_point_down(module: str) -> None:
    room = _room(module)
    assert room in FLOOR, f"{module} is in no floor of the house"
    upward = sorted(
        target
        for target in GRAPH[module]
        if _room(target) not in ("", room) and FLOOR[_room(target)] <= FLOOR[room]
    )
    assert upward == [], f"{module} imports rooms on its own floor or above"
