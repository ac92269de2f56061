"""Compact street network (CSR arrays) with snapping and Dijkstra from points on edges.

A :class:`StreetNetwork` is built once from a networkx graph of
:mod:`mobility.loaders.osm` (or straight from the OSM data, which is faster) and cached
on disk as one ``.npz``. Edges are straight segments between two nodes (unsimplified
graphs), stored in CSR order: the edges leaving node ``i`` are ``indptr[i]:indptr[i+1]``
and ``indices[e] == edge_v[e]``.

Points are located *on* edges: a :class:`Snap` is the closest point of the closest edge,
given as an edge index and a ``fraction`` along it (0 at ``u``, 1 at ``v``). Routing from
such a point first runs along its edge to ``v`` (``(1 - fraction) * cost``) or, when the
edge can be travelled backwards (a "twin" edge v->u of the same way exists, as on every
walking edge), to ``u`` (``fraction * cost``); a target on the same edge can also be
reached directly along it. Shortest paths are bounded searches compiled in
:mod:`mobility.network.street_search`, seeded with those offsets (:meth:`StreetNetwork.reach`; a door
may be linked to several edges, :meth:`StreetNetwork.link`), and the search that found a cost also
gives its path.

Costs are lengths in metres (``weight="length"``) or, for networks built from a drive
graph, free-flow travel times in seconds (``weight="travel_time"``). For walking times,
divide lengths by the walking speed at query time.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.errors import DataError
from mobility.geo import (
    EARTH_RADIUS_M,
    interpolate,
    point_segment_distance_m,
    to_unit_xyz_m,
)
from mobility.network.point_grid import PointGrid

#: spacing (metres) of the points sampled along edges for the snapping index; a query
#: only examines edges with a sample within (best distance + spacing / 2)
INDEX_SPACING_M = 20.0
#: cell size (metres) of the grid over those samples (:class:`~mobility.network.point_grid.PointGrid`): a
#: door near a street is answered from a 2 x 2 to 3 x 3 block of cells
INDEX_CELL_M = 64.0
#: default search radius (metres) for snapping
DEFAULT_SNAP_DIST_M = 500.0
#: bump when the .npz layout changes; load() refuses other versions
FORMAT_VERSION = 1
#: a door is linked to the nearest edge and to the nearest edge of every other way at most this much
#: farther (metres): a door between a street and its separately mapped sidewalk reaches both (the
#: street linker of OpenTripPlanner does the same)
LINK_TOLERANCE_M = 10.0
#: searches and door links memoised per network (a request reuses its doors' searches for their walks'
#: geometry; a category request links the same door once for every site)
REACH_MEMO = 64

_WEIGHTS = {"length": "length", "length_m": "length", "travel_time": "travel_time", "travel_time_s": "travel_time"}


@dataclass(frozen=True)
class Snap:
    """A point located on the street network.

    ``edge`` is the edge index, ``u``/``v`` its end node *indices* (``network.node_ids[u]``
    is the OSM id), ``fraction`` the position along the edge (0 at ``u``, 1 at ``v``),
    ``dist_m`` the distance in metres from the query point to the edge, and ``lat``/``lon``
    (degrees) the snapped point on the edge.
    """

    edge: int
    u: int
    v: int
    fraction: float
    dist_m: float
    lat: float
    lon: float


@dataclass
class Snaps:
    """Vectorised result of :meth:`StreetNetwork.snap_many`: one row per query point.

    Arrays as in :class:`Snap`; rows with no edge within reach have ``edge == -1`` and
    NaN elsewhere. ``snaps[i]`` gives a :class:`Snap` or None.
    """

    edge: np.ndarray
    u: np.ndarray
    v: np.ndarray
    fraction: np.ndarray
    dist_m: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    @property
    def found(self) -> np.ndarray:
        """Bool mask of the query points that snapped."""
        return self.edge >= 0

    def __len__(self) -> int:
        return len(self.edge)

    def __getitem__(self, i: int) -> Snap | None:
        if self.edge[i] < 0:
            return None
        return Snap(int(self.edge[i]), int(self.u[i]), int(self.v[i]), float(self.fraction[i]),
                    float(self.dist_m[i]), float(self.lat[i]), float(self.lon[i]))

    def canonical(self, net: StreetNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(edge, fraction, dist_m)`` with every point on the lower-numbered edge of its twin pair
        (NaN as 0), computed once per network (stop snaps are searched to at every request)."""
        cache = self.__dict__.setdefault("_canonical", {})
        key = id(net)
        if key not in cache:
            e = self.edge.copy()
            f = np.nan_to_num(self.fraction, nan=0.0)
            ok = e >= 0
            rev = np.where(ok, net.edge_reverse[np.maximum(e, 0)], -1)
            swap = ok & (rev >= 0) & (rev < e)
            cache.clear()
            cache[key] = (np.where(swap, rev, e), np.where(swap, 1.0 - f, f), np.nan_to_num(self.dist_m, nan=0.0))
        return cache[key]

    def ends(self, net: StreetNetwork, weight: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(u, v, cost_u, cost_v)`` of each point on its :meth:`canonical` edge: the node it is entered
        from running along the edge and the cost from there (``fraction * cost``), and the same from the
        twin edge (``v`` -1 without one), in ``weight`` units; computed once per network and weight."""
        cache = self.__dict__.setdefault("_ends", {})
        key = (id(net), weight)
        if key not in cache:
            e, f, _ = self.canonical(net)
            cost = net.cost(weight)
            ok = e >= 0
            edge = np.maximum(e, 0)
            rev = np.where(ok, net.edge_reverse[edge], -1)
            twin = rev >= 0
            cache.clear()
            cache[key] = (net.edge_u[edge], np.where(twin, net.edge_v[edge], -1), f * cost[edge],
                          np.where(twin, (1.0 - f) * cost[np.maximum(rev, 0)], np.inf))
        return cache[key]

    @classmethod
    def from_list(cls, snaps: list[Snap | None]) -> Snaps:
        """Pack a list of :class:`Snap` (None allowed) into arrays."""
        n = len(snaps)
        out = cls(np.full(n, -1, np.int64), np.full(n, -1, np.int64), np.full(n, -1, np.int64),
                  *(np.full(n, np.nan) for _ in range(4)))
        for i, s in enumerate(snaps):
            if s is not None:
                out.edge[i], out.u[i], out.v[i] = s.edge, s.u, s.v
                out.fraction[i], out.dist_m[i], out.lat[i], out.lon[i] = s.fraction, s.dist_m, s.lat, s.lon
        return out


@dataclass
class _Matrix:
    """Deduplicated CSR adjacency for Dijkstra, with one extra empty row (virtual source)."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray  # length n_nodes + 2
    entry_edge: np.ndarray  # edge index of each CSR entry
    entry_tail: np.ndarray | None = None  # node each CSR entry leaves from (filled on first search)


@dataclass(frozen=True)
class StreetPath:
    """A path found by a search: ``coords`` from the source point through the nodes to the target
    point (``(lat, lon)`` degrees), its ``length_m`` along the streets (straight links excluded),
    its ``cost`` (search units, links included when the search counted them), and the source and
    target snaps it used."""

    coords: list
    length_m: float
    cost: float
    source: Snap
    target: Snap


class Reach:
    """The result of one bounded street search (:meth:`StreetNetwork.reach`).

    ``nodes`` (sorted node indices), ``cost`` (their cost from the sources) and ``pred_entry`` (the
    CSR entry each was reached by, ``-1 - k`` when entered from source point ``k``); ``sources`` are
    the canonical source snaps and ``extra`` the cost added at each (its straight link, or 0).
    """

    def __init__(self, net: StreetNetwork, weight: str, step_free_only: bool, limit: float,
                 sources: tuple, extra: np.ndarray, nodes: np.ndarray, cost: np.ndarray, pred_entry: np.ndarray):
        self.net, self.weight, self.step_free_only, self.limit = net, weight, step_free_only, limit
        self.sources, self.extra = sources, extra
        self.nodes, self.cost, self.pred_entry = nodes, cost, pred_entry

    def __len__(self) -> int:
        return len(self.nodes)

    def _source_arrays(self):
        return (np.array([s.edge for s in self.sources], np.int64),
                np.array([s.fraction for s in self.sources], float), np.asarray(self.extra, float))

    def costs_to(self, targets, *, link_cost: bool = False) -> np.ndarray:
        """Cost to each target point (:class:`Snaps`, or a list of :class:`Snap`/None): inf where not
        snapped or not reached within the limit. ``link_cost`` adds each target's ``dist_m``."""
        net = self.net
        if isinstance(targets, Snaps):
            e, f, link = targets.canonical(net)
            ends = targets.ends(net, self.weight)
        else:
            e, f, link, ends = _target_arrays(net, list(targets), self.weight)
        extra = link if link_cost else np.zeros(len(e))
        work = net._pool(self.weight, self.step_free_only).get().dist
        return _kernels().target_costs(self.nodes, self.cost, e, f, extra, *ends,
                                       net.edge_reverse, net.cost(self.weight), *self._source_arrays(), work)

    def path_to(self, target, *, link_cost: bool = False) -> StreetPath | None:
        """The cheapest path to a target :class:`Snap` (or the cheapest to any of several: a linked
        door), or None when not reached within the limit."""
        net = self.net
        cost = net.cost(self.weight)
        best = None
        for b in ((target,) if isinstance(target, Snap) else tuple(target)):
            b = net._canonical(b)
            add = b.dist_m if link_cost else 0.0
            rev_b = net.edge_reverse[b.edge]
            options = []
            for k, a in enumerate(self.sources):
                if a.edge == b.edge:
                    if b.fraction >= a.fraction:
                        options.append((self.extra[k] + (b.fraction - a.fraction) * cost[b.edge], "direct", k))
                    elif rev_b >= 0:
                        options.append((self.extra[k] + (a.fraction - b.fraction) * cost[rev_b], "direct", k))
            options.append((_lookup(self, b.u) + b.fraction * cost[b.edge], "node", b.u))
            if rev_b >= 0:
                options.append((_lookup(self, b.v) + (1.0 - b.fraction) * cost[rev_b], "node", b.v))
            c, kind, ref = min(options, key=lambda o: o[0])
            if np.isfinite(c) and c <= self.limit and (best is None or c + add < best[0]):
                best = (c + add, kind, ref, b)
        if best is None:
            return None
        total, kind, ref, b = best
        if kind == "direct":
            a = self.sources[ref]
            return StreetPath([(a.lat, a.lon), (b.lat, b.lon)], abs(b.fraction - a.fraction) * net.length_m[a.edge],
                              float(total), a, b)
        m = net._matrix(self.weight, self.step_free_only)
        seq, k = _kernels().path_nodes(self.nodes, self.pred_entry, m.entry_tail, ref)
        a = self.sources[k]
        length = (1.0 - a.fraction) * net.length_m[a.edge] if seq[0] == a.v else a.fraction * net.length_m[a.edge]
        if len(seq) > 1:
            entries = self.pred_entry[np.searchsorted(self.nodes, seq[1:])]
            length += float(net.length_m[m.entry_edge[entries]].sum())
        length += b.fraction * net.length_m[b.edge] if ref == b.u else (1.0 - b.fraction) * net.length_m[b.edge]
        coords = [(a.lat, a.lon)]
        coords += list(zip(net.node_lat[seq].tolist(), net.node_lon[seq].tolist()))
        coords.append((b.lat, b.lon))
        return StreetPath(coords, float(length), float(total), a, b)


def _lookup(reach: Reach, node: int) -> float:
    i = int(np.searchsorted(reach.nodes, node))
    return float(reach.cost[i]) if i < len(reach.nodes) and reach.nodes[i] == node else np.inf


class StreetNetwork:
    """Street graph as CSR arrays; see the module docstring.

    Attributes (``N`` nodes, ``E`` directed edges, edges sorted by ``edge_u``):
    ``node_ids`` (int64 OSM ids), ``node_lat``/``node_lon`` (float64 degrees), ``indptr``
    (N+1), ``indices`` (== ``edge_v``), ``edge_u``/``edge_v`` (node indices),
    ``length_m`` (float64), ``travel_time_s`` (float64, or None for walking networks),
    ``step_free`` (bool), ``edge_osmid`` (way id), ``edge_name`` (street name, "" if none),
    ``edge_reverse`` (index of the twin edge v->u of the same way, -1 if none).
    """

    def __init__(self, node_ids, node_lat, node_lon, edge_u, edge_v, length_m, *,
                 travel_time_s=None, step_free=None, edge_osmid=None, edge_name=None,
                 weight: str = "length") -> None:
        self.node_ids = np.asarray(node_ids, dtype=np.int64)
        self.node_lat = np.asarray(node_lat, dtype=np.float64)
        self.node_lon = np.asarray(node_lon, dtype=np.float64)
        n_edges = len(edge_u)
        edge_u = np.asarray(edge_u, dtype=np.int64)
        edge_v = np.asarray(edge_v, dtype=np.int64)
        order = np.lexsort((edge_v, edge_u))
        self.edge_u = edge_u[order]
        self.edge_v = edge_v[order]
        self.length_m = np.asarray(length_m, dtype=np.float64)[order]
        self.travel_time_s = None if travel_time_s is None else np.asarray(travel_time_s, np.float64)[order]
        self.step_free = (np.ones(n_edges, bool) if step_free is None else np.asarray(step_free, bool)[order])
        self.edge_osmid = (np.full(n_edges, -1, np.int64) if edge_osmid is None
                           else np.asarray(edge_osmid, np.int64)[order])
        if edge_name is None:
            self.name_table = np.array([""])
            self.edge_name_idx = np.zeros(n_edges, np.int32)
        else:
            codes, uniques = pd.factorize(pd.Series(edge_name, dtype=object).fillna("").astype(str).to_numpy())
            self.name_table = np.asarray(uniques, dtype=str) if len(uniques) else np.array([""])
            self.edge_name_idx = np.asarray(codes, np.int32)[order]
        self.weight = _check_weight(weight)
        n = len(self.node_ids)
        self.indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.edge_u, minlength=n), out=self.indptr[1:])
        self.indices = self.edge_v
        self.edge_reverse = self._find_twins()
        self._init_work()

    def _init_work(self) -> None:
        """Derived, per-process state: matrices, snapping indexes, search buffers, memoised searches."""
        self._matrices: dict = {}
        self._indexes: dict = {}
        self._pools: dict = {}
        self._reaches: OrderedDict = OrderedDict()
        self._reach_lock = threading.Lock()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for k in ("_matrices", "_indexes", "_pools", "_reaches", "_reach_lock"):
            state.pop(k, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._init_work()

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_graph(cls, G, weight: str = "length") -> StreetNetwork:
        """Build from an OSMnx-style ``MultiDiGraph`` (:func:`mobility.loaders.osm.walk_graph`
        or ``drive_graph``, or one from OSMnx itself).

        Reads node ``x``/``y`` and edge ``length`` (metres), ``travel_time`` (seconds, kept
        when every edge has it), ``step_free`` (default True), ``osmid`` and ``name``.
        ``weight`` ("length" or "travel_time") is the default cost of :meth:`path_coords`.
        Every edge is taken as the straight segment between its nodes (an edge
        ``geometry`` is ignored), so pass unsimplified graphs for exact snapping.
        """
        nodes = list(G.nodes)
        index = {n: i for i, n in enumerate(nodes)}
        lat = np.array([G.nodes[n]["y"] for n in nodes], dtype=float)
        lon = np.array([G.nodes[n]["x"] for n in nodes], dtype=float)
        rows = list(G.edges(data=True))
        u = np.fromiter((index[a] for a, _, _ in rows), dtype=np.int64, count=len(rows))
        v = np.fromiter((index[b] for _, b, _ in rows), dtype=np.int64, count=len(rows))
        length = np.array([d["length"] for _, _, d in rows], dtype=float)
        tt = [d.get("travel_time") for _, _, d in rows]
        travel_time = None if any(t is None for t in tt) or not rows else np.array(tt, dtype=float)
        step_free = np.array([bool(d.get("step_free", True)) for _, _, d in rows], dtype=bool)
        osmid = np.array([_or(_first(d.get("osmid")), -1) for _, _, d in rows], dtype=np.int64)
        name = [_first(d.get("name", "")) for _, _, d in rows]
        try:
            node_ids = np.array(nodes, dtype=np.int64)
        except (TypeError, ValueError):
            node_ids = np.arange(len(nodes), dtype=np.int64)
        if weight in ("travel_time", "travel_time_s") and travel_time is None:
            raise ValueError("weight='travel_time' needs a 'travel_time' attribute on every edge")
        return cls(node_ids, lat, lon, u, v, length, travel_time_s=travel_time, step_free=step_free,
                   edge_osmid=osmid, edge_name=name, weight=weight)

    @classmethod
    def from_osm(cls, osm, mode: str = "walk", **options) -> StreetNetwork:
        """Build straight from :class:`~mobility.loaders.osm.OsmData` without networkx.

        Same network as ``from_graph(walk_graph(osm))`` (``mode="walk"``) or
        ``from_graph(drive_graph(osm), weight="travel_time")`` (``mode="drive"``), several
        times faster. ``options`` go to :func:`mobility.loaders.osm.edge_table`.
        """
        from mobility.loaders.osm import edge_table

        table = edge_table(osm, mode, **options)
        u_id = table["u"].to_numpy()
        v_id = table["v"].to_numpy()
        node_ids = np.unique(np.concatenate([u_id, v_id]))
        _, lat, lon = osm.coords(node_ids)
        ways = table["way"].to_numpy()
        uniq_ways, inv = np.unique(ways, return_inverse=True)
        way_names = np.array([osm.ways[w].tags.get("name", "") for w in uniq_ways], dtype=object)
        return cls(node_ids, lat, lon, np.searchsorted(node_ids, u_id), np.searchsorted(node_ids, v_id),
                   table["length_m"].to_numpy(),
                   travel_time_s=table["travel_time_s"].to_numpy() if mode == "drive" else None,
                   step_free=table["step_free"].to_numpy(), edge_osmid=table["osmid"].to_numpy(),
                   edge_name=way_names[inv], weight="travel_time" if mode == "drive" else "length")

    def _find_twins(self) -> np.ndarray:
        """For each edge u->v, the index of an edge v->u of the same way (-1 if none)."""
        n_edges = len(self.edge_u)
        rev = np.full(n_edges, -1, dtype=np.int64)
        if n_edges == 0:
            return rev
        df = pd.DataFrame({"u": self.edge_u, "v": self.edge_v, "o": self.edge_osmid, "e": np.arange(n_edges)})
        df = df[df["u"] != df["v"]]
        m = df.merge(df, left_on=["u", "v", "o"], right_on=["v", "u", "o"], suffixes=("", "_r"))
        m = m.drop_duplicates("e")
        rev[m["e"].to_numpy()] = m["e_r"].to_numpy()
        # parallel duplicates could pair unevenly: keep only mutual pairs
        ok = rev >= 0
        bad = ok.copy()
        bad[ok] = rev[rev[ok]] != np.nonzero(ok)[0]
        rev[bad] = -1
        return rev

    # ------------------------------------------------------------------ basics

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.edge_u)

    def __repr__(self) -> str:
        return f"StreetNetwork({self.n_nodes} nodes, {self.n_edges} edges, weight={self.weight!r})"

    def edge_name(self, edge: int) -> str:
        """Street name of an edge ("" if unnamed)."""
        return str(self.name_table[self.edge_name_idx[edge]])

    def node_index(self, osm_id: int) -> int:
        """Index of the node with this OSM id (KeyError if absent)."""
        if getattr(self, "_id_order", None) is None:
            self._id_order = np.argsort(self.node_ids, kind="stable")
        sorted_ids = self.node_ids[self._id_order]
        i = int(np.searchsorted(sorted_ids, osm_id))
        if i >= len(sorted_ids) or sorted_ids[i] != osm_id:
            raise KeyError(osm_id)
        return int(self._id_order[i])

    def cost(self, weight: str | None = None) -> np.ndarray:
        """Per-edge cost array: ``length_m`` or ``travel_time_s``."""
        w = _check_weight(weight or self.weight)
        if w == "length":
            return self.length_m
        if self.travel_time_s is None:
            raise ValueError("this network has no travel times (built from a walking graph?)")
        return self.travel_time_s

    # ------------------------------------------------------------------ snapping

    def _sample_index(self, step_free_only: bool) -> tuple[PointGrid | None, np.ndarray, float]:
        """The snapping index of the (step-free) edges, built at first use: ``(grid of the points sampled every
        :data:`INDEX_SPACING_M` along them or None, the edge of each sample, half the longest piece)``."""
        key = bool(step_free_only)
        if key not in self._indexes:
            e = np.arange(self.n_edges)
            keep = (self.edge_reverse < 0) | (e < self.edge_reverse)  # one of each twin pair
            if step_free_only:
                keep &= self.step_free
            edges = e[keep]
            n_pieces = np.maximum(1, np.ceil(self.length_m[edges] / INDEX_SPACING_M)).astype(np.int64)
            sample_edge = np.repeat(edges, n_pieces)
            starts = np.cumsum(n_pieces) - n_pieces
            piece = np.arange(len(sample_edge)) - np.repeat(starts, n_pieces)
            frac = (piece + 0.5) / np.repeat(n_pieces, n_pieces)
            u, v = self.edge_u[sample_edge], self.edge_v[sample_edge]
            lat, lon = interpolate(self.node_lat[u], self.node_lon[u], self.node_lat[v], self.node_lon[v], frac)
            index = PointGrid(to_unit_xyz_m(lat, lon), INDEX_CELL_M) if len(sample_edge) else None
            # half the longest piece: every point of an edge is this close to a sample
            half_piece_m = float((self.length_m[edges] / n_pieces).max() / 2) if len(edges) else 0.0
            self._indexes[key] = (index, sample_edge, half_piece_m)
        return self._indexes[key]

    def _candidate_pairs(self, lats: np.ndarray, lons: np.ndarray, max_dist_m: float, step_free_only: bool,
                         extra_m: float) -> tuple[np.ndarray, np.ndarray] | None:
        """``(point, edge)`` pairs, sorted and unique, of every edge that may be within ``extra_m`` metres of a
        point's nearest edge (grid index over the edge samples: the nearest sample bounds the nearest edge's
        distance, and every edge that close has a sample within half a piece more); None when none."""
        index, sample_edge, half_piece_m = self._sample_index(step_free_only)
        valid = np.isfinite(lats) & np.isfinite(lons)
        if index is None or not valid.any():
            return None
        q = np.nonzero(valid)[0]
        xyz = to_unit_xyz_m(lats[q], lons[q])
        slack_m = half_piece_m + 1.0
        d0 = index.nearest_distance(xyz, max_dist_m + slack_m + 1e-3 * max_dist_m)
        near = np.isfinite(d0)
        q, xyz, d0 = q[near], xyz[near], d0[near]
        if len(q) == 0:
            return None
        radius = np.minimum(d0, max_dist_m) * 1.001 + slack_m + extra_m
        hit_q, hit_sample, _ = index.within(xyz, radius)
        cand_q = q[hit_q]
        cand_e = sample_edge[hit_sample]
        # drop repeated (query, edge) pairs before the exact computation
        pairs = np.unique(np.column_stack([cand_q, cand_e]), axis=0)
        return pairs[:, 0], pairs[:, 1]

    def snap_many(self, lats, lons, max_dist_m: float = DEFAULT_SNAP_DIST_M, *,
                  step_free_only: bool = False) -> Snaps:
        """Snap many points (degrees) to the closest point of the closest edge.

        Points farther than ``max_dist_m`` metres from every (step-free, if
        ``step_free_only``) edge get ``edge == -1``. Vectorised: a grid index of points
        sampled every :data:`INDEX_SPACING_M` along the edges finds the candidate edges,
        then exact point-to-segment distances are computed in a frame centred on each point.
        """
        lats = np.atleast_1d(np.asarray(lats, dtype=float))
        lons = np.atleast_1d(np.asarray(lons, dtype=float))
        n = len(lats)
        out = Snaps(np.full(n, -1, np.int64), np.full(n, -1, np.int64), np.full(n, -1, np.int64),
                    *(np.full(n, np.nan) for _ in range(4)))
        cands = self._candidate_pairs(lats, lons, max_dist_m, step_free_only, 0.0)
        if cands is None:
            return out
        cand_q, cand_e = cands
        u, v = self.edge_u[cand_e], self.edge_v[cand_e]
        frac, dist = point_segment_distance_m(lats[cand_q], lons[cand_q], self.node_lat[u], self.node_lon[u],
                                              self.node_lat[v], self.node_lon[v])
        order = np.lexsort((cand_e, dist, cand_q))
        first = order[np.r_[True, cand_q[order][1:] != cand_q[order][:-1]]]
        first = first[dist[first] <= max_dist_m]
        rows = cand_q[first]
        e = cand_e[first]
        out.edge[rows] = e
        out.u[rows] = self.edge_u[e]
        out.v[rows] = self.edge_v[e]
        out.fraction[rows] = frac[first]
        out.dist_m[rows] = dist[first]
        out.lat[rows], out.lon[rows] = interpolate(self.node_lat[self.edge_u[e]], self.node_lon[self.edge_u[e]],
                                                   self.node_lat[self.edge_v[e]], self.node_lon[self.edge_v[e]],
                                                   frac[first])
        return out

    def link_many(self, lats, lons, max_dist_m: float = DEFAULT_SNAP_DIST_M, *, step_free_only: bool = False,
                  tolerance_m: float = LINK_TOLERANCE_M) -> tuple[np.ndarray, Snaps]:
        """:meth:`link` for many points: ``(point, snaps)``, one row per link (``point`` is the query
        index, nearest link of each point first), the same links as :meth:`link` gives point by point."""
        lats = np.atleast_1d(np.asarray(lats, dtype=float))
        lons = np.atleast_1d(np.asarray(lons, dtype=float))
        cands = self._candidate_pairs(lats, lons, max_dist_m, step_free_only, tolerance_m)
        if cands is None:
            return np.zeros(0, np.int64), Snaps.from_list([])
        cand_q, cand_e = cands
        frac = np.empty(len(cand_e))
        dist = np.empty(len(cand_e))
        bounds = np.r_[0, np.nonzero(np.diff(cand_q))[0] + 1, len(cand_q)]
        for a, b in zip(bounds[:-1], bounds[1:]):  # the arithmetic of link(), point by point
            frac[a:b], dist[a:b] = _kernels().segment_distances(float(lats[cand_q[a]]), float(lons[cand_q[a]]), cand_e[a:b],
                                                     self.edge_u, self.edge_v, self.node_lat, self.node_lon,
                                                     EARTH_RADIUS_M)
        order = np.lexsort((cand_e, dist, cand_q))
        cq, ce, cd, cf = cand_q[order], cand_e[order], dist[order], frac[order]
        starts = np.r_[True, cq[1:] != cq[:-1]]
        best = np.maximum.accumulate(np.where(starts, np.arange(len(cq)), 0))  # index of each point's nearest
        keep = (cd <= cd[best] + tolerance_m) & (cd <= max_dist_m) & (cd[best] <= max_dist_m)
        cq, ce, cd, cf = cq[keep], ce[keep], cd[keep], cf[keep]
        way = self.edge_osmid[ce]
        _, first = np.unique(np.column_stack([cq, way]), axis=0, return_index=True)
        first = np.sort(first)  # back in (point, distance, edge) order
        cq, ce, cd, cf = cq[first], ce[first], cd[first], cf[first]
        eu, ev = self.edge_u[ce], self.edge_v[ce]
        la, lo = interpolate(self.node_lat[eu], self.node_lon[eu], self.node_lat[ev], self.node_lon[ev], cf)
        return cq.astype(np.int64), Snaps(ce.astype(np.int64), eu, ev, cf, cd, la, lo)

    def snap(self, lat: float, lon: float, max_dist_m: float = DEFAULT_SNAP_DIST_M, *,
             step_free_only: bool = False) -> Snap | None:
        """Closest point (degrees) of the closest edge within ``max_dist_m`` metres, or None
        (the same as :meth:`snap_many` for one point, without its vectorisation overhead)."""
        links = self.link(lat, lon, max_dist_m, step_free_only=step_free_only, tolerance_m=0.0)
        return links[0] if links else None

    def link(self, lat: float, lon: float, max_dist_m: float = DEFAULT_SNAP_DIST_M, *,
             step_free_only: bool = False, tolerance_m: float = LINK_TOLERANCE_M) -> tuple[Snap, ...]:
        """A point's links to the network: the closest point of the closest edge (as :meth:`snap`),
        then, for every other way (OSM way id) with an edge at most ``tolerance_m`` metres farther,
        the closest point of its closest edge; nearest first. Empty when nothing is within
        ``max_dist_m`` metres."""
        if not (math.isfinite(lat) and math.isfinite(lon)):
            return ()
        key = ("link", float(lat), float(lon), float(max_dist_m), bool(step_free_only), float(tolerance_m))
        with self._reach_lock:
            hit = self._reaches.get(key)
        if hit is None:
            hit = self._link(lat, lon, max_dist_m, step_free_only, tolerance_m)
            with self._reach_lock:
                self._reaches[key] = hit
                while len(self._reaches) > REACH_MEMO:
                    self._reaches.popitem(last=False)
        return hit

    def _link(self, lat: float, lon: float, max_dist_m: float, step_free_only: bool,
              tolerance_m: float) -> tuple[Snap, ...]:
        index, sample_edge, half_piece_m = self._sample_index(step_free_only)
        if index is None:
            return ()
        *grid, order = index.search_arrays()
        ints, floats = _kernels().link_edges(float(lat), float(lon), float(max_dist_m), half_piece_m + 1.0,
                                             float(tolerance_m), *grid, order, sample_edge, self.edge_u, self.edge_v,
                                             self.node_lat, self.node_lon, self.edge_osmid, EARTH_RADIUS_M)
        return tuple(Snap(*i, *f) for i, f in zip(ints.tolist(), floats.tolist()))

    def _canonical(self, snap: Snap) -> Snap:
        """Express a snap on the twin edge as the same point on the lower-numbered edge."""
        rev = self.edge_reverse[snap.edge]
        if 0 <= rev < snap.edge:
            return Snap(int(rev), snap.v, snap.u, 1.0 - snap.fraction, snap.dist_m, snap.lat, snap.lon)
        return snap

    # ------------------------------------------------------------------ shortest paths

    def _matrix(self, weight: str, step_free_only: bool) -> _Matrix:
        key = (weight, bool(step_free_only))
        if key not in self._matrices:
            cost = self.cost(weight)
            keep = self.edge_u != self.edge_v
            if step_free_only:
                keep &= self.step_free
            idx = np.nonzero(keep)[0]
            idx = idx[np.lexsort((cost[idx], self.edge_v[idx], self.edge_u[idx]))]
            u, v = self.edge_u[idx], self.edge_v[idx]
            first = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])]  # cheapest of parallel edges
            idx = idx[first]
            n = self.n_nodes
            indptr = np.zeros(n + 2, dtype=np.int64)
            np.cumsum(np.bincount(self.edge_u[idx], minlength=n + 1), out=indptr[1:])
            self._matrices[key] = _Matrix(cost[idx].astype(np.float64), self.edge_v[idx].astype(np.int32),
                                          indptr, idx)
        return self._matrices[key]

    def _pool(self, weight: str, step_free_only: bool):
        key = (weight, bool(step_free_only))
        pool = self._pools.get(key)
        if pool is None:
            m = self._matrix(weight, step_free_only)
            if m.entry_tail is None:
                m.entry_tail = np.repeat(np.arange(self.n_nodes + 1, dtype=np.int64), np.diff(m.indptr))
            pool = self._pools[key] = _kernels().BufferPool(self.n_nodes, len(m.data))
        return pool

    def _seeds(self, source, weight: str, link_cost: bool):
        """Search seeds ``(nodes, costs, tags)`` and the source points (canonical snaps, extra costs)."""
        if isinstance(source, Snap) or (isinstance(source, (tuple, list)) and source and isinstance(source[0], Snap)):
            snaps = (source,) if isinstance(source, Snap) else tuple(source)
            cost = self.cost(weight)
            canon = tuple(self._canonical(s) for s in snaps)
            extra = np.array([s.dist_m if link_cost else 0.0 for s in canon], float)
            nodes, offs, tags = [], [], []
            for k, s in enumerate(canon):
                nodes.append(s.v)
                offs.append(extra[k] + (1.0 - s.fraction) * cost[s.edge])
                tags.append(k)
                rev = self.edge_reverse[s.edge]
                if rev >= 0:
                    nodes.append(s.u)
                    offs.append(extra[k] + s.fraction * cost[rev])
                    tags.append(k)
            return (np.array(nodes, np.int64), np.array(offs, float), np.array(tags, np.int64)), canon, extra
        pairs = list(source)
        if not pairs:
            raise ValueError("no source given")
        nodes = np.array([int(p[0]) for p in pairs], dtype=np.int64)
        offs = np.array([float(p[1]) for p in pairs], dtype=float)
        if (nodes < 0).any() or (nodes >= self.n_nodes).any() or (offs < 0).any():
            raise ValueError("sources must be (node index, offset >= 0) pairs")
        return (nodes, offs, np.full(len(nodes), -1, np.int64)), (), np.zeros(0)

    def reach(self, source, limit: float = np.inf, *, weight: str | None = None, step_free_only: bool = False,
              link_cost: bool = False) -> Reach:
        """One bounded search: every node whose cost from ``source`` is at most ``limit``.

        ``source`` is a :class:`Snap`, a sequence of them (a door linked to several edges, see
        :meth:`link`) or a list of ``(node index, offset)`` pairs. With ``link_cost`` each snap's
        ``dist_m`` (the straight link from the point to its edge, metres) is part of the cost.
        Costs are metres (``weight="length"``) or seconds (``"travel_time"``); the default weight
        is the network's. Results of the same search are memoised (a door is searched once per request
        and its walks and their geometry come from that one search).
        """
        w = _check_weight(weight or self.weight)
        limit = np.inf if limit is None else float(limit)
        key = None
        if isinstance(source, (Snap, tuple)):
            key = (source, limit, w, bool(step_free_only), bool(link_cost))
            with self._reach_lock:
                hit = self._reaches.get(key)
                if hit is not None:
                    self._reaches.move_to_end(key)
                    return hit
        (seed_node, seed_cost, seed_tag), canon, extra = self._seeds(source, w, link_cost)
        m = self._matrix(w, step_free_only)
        pool = self._pool(w, step_free_only)
        nodes, cost, pred = pool.get().run(m.indptr, m.indices, m.data, seed_node, seed_cost, seed_tag, limit)
        out = Reach(self, w, bool(step_free_only), limit, canon, extra, nodes, cost, pred)
        if key is not None:
            with self._reach_lock:
                self._reaches[key] = out
                while len(self._reaches) > REACH_MEMO:
                    self._reaches.popitem(last=False)
        return out

    def distances_from(self, source, max_dist_m: float = np.inf, *, step_free_only: bool = False,
                       weight: str = "length") -> tuple[np.ndarray, np.ndarray]:
        """Shortest costs from a point to every node within reach.

        ``source`` is a :class:`Snap` (a point on an edge) or a list of ``(node index,
        offset)`` pairs (multi-source: each node starts at its offset). Returns
        ``(node_index, dist)`` arrays for the nodes with cost <= ``max_dist_m``, sorted by
        node index. Costs are metres, or seconds with ``weight="travel_time"`` (then
        ``max_dist_m`` is a time in seconds too). ``step_free_only`` avoids steps; the
        source's own edge is always usable.
        """
        r = self.reach(source, max_dist_m, weight=_check_weight(weight), step_free_only=step_free_only)
        return r.nodes.copy(), r.cost.copy()

    def travel_times_from(self, source, max_time_s: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`distances_from` with free-flow travel times (seconds; drive networks)."""
        return self.distances_from(source, max_time_s, weight="travel_time")

    def point_to_points_m(self, snap_a: Snap, snaps_b, max_dist_m: float = np.inf, *,
                          step_free_only: bool = False) -> np.ndarray:
        """Walking (network) distance in metres from one snapped point to many.

        ``snaps_b`` is a :class:`Snaps` or a list of :class:`Snap` (None allowed). Returns a
        float64 array aligned with it: ``inf`` where unreachable, not snapped, or farther
        than ``max_dist_m``. Handles targets on the source's own edge.
        """
        return self._point_to_points(snap_a, snaps_b, max_dist_m, "length", step_free_only)

    def point_to_points_s(self, snap_a: Snap, snaps_b, max_time_s: float = np.inf) -> np.ndarray:
        """:meth:`point_to_points_m` with free-flow travel times in seconds (drive networks)."""
        return self._point_to_points(snap_a, snaps_b, max_time_s, "travel_time", False)

    def _point_to_points(self, snap_a, snaps_b, limit, weight, step_free_only) -> np.ndarray:
        out = self.reach(snap_a, limit, weight=weight, step_free_only=step_free_only).costs_to(snaps_b)
        out[out > limit] = np.inf
        return out

    def path_coords(self, snap_a: Snap, snap_b: Snap, *, weight: str | None = None,
                    step_free_only: bool = False, max_cost: float = np.inf):
        """Street geometry of the cheapest path between two snapped points.

        Returns ``(coords, length_m)``: ``coords`` is a list of ``(lat, lon)`` from
        ``snap_a``'s point through the network nodes to ``snap_b``'s point, and
        ``length_m`` its length in metres (even when minimising ``weight="travel_time"``;
        the default weight is the network's). Returns None when no path costs at most
        ``max_cost``.
        """
        path = self.reach(snap_a, max_cost, weight=weight, step_free_only=step_free_only).path_to(snap_b)
        return None if path is None else (path.coords, path.length_m)

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        """Write the network to one uncompressed ``.npz`` file (fast to load)."""
        arrays = {
            "format_version": np.array(FORMAT_VERSION),
            "weight": np.array(self.weight),
            "node_ids": self.node_ids, "node_lat": self.node_lat, "node_lon": self.node_lon,
            "edge_u": self.edge_u, "edge_v": self.edge_v, "length_m": self.length_m,
            "step_free": self.step_free, "edge_osmid": self.edge_osmid,
            "name_table": self.name_table, "edge_name_idx": self.edge_name_idx,
            "edge_reverse": self.edge_reverse,
        }
        if self.travel_time_s is not None:
            arrays["travel_time_s"] = self.travel_time_s
        path = Path(path)
        # np.savez appends .npz to names without it; write to the exact name instead
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> StreetNetwork:
        """Read a network written by :meth:`save`; DataError if missing or unreadable."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                if int(z["format_version"]) != FORMAT_VERSION:
                    raise DataError(f"street network cache has format {int(z['format_version'])}, "
                                    f"expected {FORMAT_VERSION}", path=str(path))
                net = cls.__new__(cls)
                net.node_ids = z["node_ids"]
                net.node_lat = z["node_lat"]
                net.node_lon = z["node_lon"]
                net.edge_u = z["edge_u"]
                net.edge_v = z["edge_v"]
                net.length_m = z["length_m"]
                net.travel_time_s = z["travel_time_s"] if "travel_time_s" in z.files else None
                net.step_free = z["step_free"]
                net.edge_osmid = z["edge_osmid"]
                net.name_table = z["name_table"]
                net.edge_name_idx = z["edge_name_idx"]
                net.weight = str(z["weight"])
                net.edge_reverse = z["edge_reverse"]
        except DataError:
            raise
        except (OSError, KeyError, ValueError, EOFError) as exc:
            raise DataError(f"cannot read street network cache ({exc})", path=str(path)) from exc
        # edges are stored sorted by u: rebuild the derived arrays
        n = len(net.node_ids)
        net.indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(net.edge_u, minlength=n), out=net.indptr[1:])
        net.indices = net.edge_v
        net._init_work()
        return net


def _target_arrays(net: StreetNetwork, snaps: list, weight: str):
    """:meth:`Snaps.canonical` and :meth:`Snaps.ends` of a few target points (a door's links), without packing
    them into :class:`Snaps` first (a dozen array calls each): the same values, computed point by point."""
    if any(s is None for s in snaps):
        t = Snaps.from_list(snaps)
        return (*t.canonical(net), t.ends(net, weight))
    cost = net.cost(weight)
    e, f, d, u, v, cu, cv = [], [], [], [], [], [], []
    for s in snaps:
        c = net._canonical(s)
        rev = int(net.edge_reverse[c.edge])
        e.append(c.edge)
        f.append(c.fraction)
        d.append(c.dist_m)
        u.append(int(net.edge_u[c.edge]))
        v.append(int(net.edge_v[c.edge]) if rev >= 0 else -1)
        cu.append(c.fraction * float(cost[c.edge]))
        cv.append((1.0 - c.fraction) * float(cost[rev]) if rev >= 0 else np.inf)
    return (np.array(e, np.int64), np.array(f, np.float64), np.array(d, np.float64),
            (np.array(u, np.int64), np.array(v, np.int64), np.array(cu, np.float64), np.array(cv, np.float64)))


def _kernels():
    """The compiled search kernels, imported on first use (numba costs a few tenths of a second to import,
    which commands that only read the network, like ``mobility info``, do not pay)."""
    from mobility.network import street_search

    return street_search


def _check_weight(weight: str) -> str:
    try:
        return _WEIGHTS[weight]
    except KeyError:
        raise ValueError(f"weight must be 'length' or 'travel_time', not {weight!r}") from None


def _or(value, default):
    return default if value is None else value


def _first(value):
    """First element of an OSMnx list attribute (simplified graphs), else the value."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value
