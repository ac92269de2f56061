"""The layers of the package, read from its imports: loaders -> network -> routing -> planning -> analysis ->
interfaces, with the shared vocabulary (errors, config, geometry, the time axis, ``mobility.domain``) below
them all. No module imports a higher layer, and no set of modules imports itself in a circle -- imports
inside functions included, since they are how such a circle usually hides.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "mobility"

#: layer of each package prefix (longest prefix wins); a module may import its own layer or a lower one
LAYERS = {
    "mobility": 0, "mobility.domain": 0,
    "mobility.loaders": 1,
    "mobility.network": 2,
    "mobility.routing": 3,
    "mobility.planning": 4,
    "mobility.analysis": 5, "mobility.observatory": 5,
    "mobility.interfaces": 6,
    "mobility.__main__": 6,  # ``python -m mobility``: the command line, an interface
}


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (anywhere in its body)."""
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] +
                                    ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in mods:  # "mobility.x.y.Name" -> the module that defines it
                    t = t.rsplit(".", 1)[0] if "." in t else ""
                if t and t != name and t.startswith("mobility"):
                    graph[name].add(t)
    return graph


def layer(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def test_no_import_from_a_higher_layer():
    bad = sorted((a, b) for a, targets in import_graph().items() for b in targets
                 if layer(b) > layer(a) and not b.startswith(a + "."))  # a package may import its own modules
    assert not bad, bad


def test_no_import_cycle():
    edges = import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strongconnect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strongconnect(v)
    assert not cycles, cycles


def test_the_graph_is_read():
    graph = import_graph()
    assert "mobility.planning.rides" in graph["mobility.analysis.tad"]
    assert "mobility.timeaxis" in graph["mobility.planning.planner"]
    assert layer("mobility.interfaces.web.api") == 6 and layer("mobility.domain.categories") == 0
