"""The grid index that snapping searches (:mod:`mobility.network.point_grid`) finds what scipy's ``cKDTree``
finds, so that dropping scipy from the snapping changed no snap and no link; and a door's compiled link
(:func:`mobility.network.street_search.link_edges`) is the one the array steps give."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.spatial import cKDTree

from mobility.geo import EARTH_RADIUS_M, interpolate, to_unit_xyz_m
from mobility.network import street_search
from mobility.network.point_grid import PointGrid
from mobility.network.streets import LINK_TOLERANCE_M, Snap, Snaps


def _cloud(seed: int, n: int, spread: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return to_unit_xyz_m(50.7 + rng.normal(0, 0.05 * spread, n), 2.2 + rng.normal(0, 0.08 * spread, n))


@pytest.mark.parametrize("cell_m", [16.0, 64.0, 300.0])
def test_the_grid_finds_what_a_kd_tree_finds(cell_m):
    points, queries = _cloud(1, 20_000, 1.0), _cloud(2, 2_000, 1.5)
    grid, tree = PointGrid(points, cell_m), cKDTree(points)
    bound = 511.0
    near = grid.nearest_distance(queries, bound)
    expected, _ = tree.query(queries, k=1, distance_upper_bound=bound)
    assert np.array_equal(near, expected)  # the same distances, inf where nothing is closer than the bound
    radius = np.where(np.isfinite(near), np.minimum(near, 500.0) * 1.001 + 21.0, 35.0)
    q, i, d = grid.within(queries, radius)
    assert np.all(np.diff(q) >= 0) and np.all(d <= radius[q])
    hits = tree.query_ball_point(queries, radius)
    assert sorted(zip(q.tolist(), i.tolist())) == sorted((k, j) for k, h in enumerate(hits) for j in h)
    for k in range(0, len(queries), 7):  # one query at a time (a door): the same points, the same distances
        one_q, one_i, one_d = grid.within(queries[k:k + 1], radius[k])
        assert not one_q.any() and sorted(zip(one_i.tolist(), one_d.tolist())) == sorted(
            zip(i[q == k].tolist(), d[q == k].tolist()))
        assert grid.nearest_distance(queries[k:k + 1], bound)[0] == near[k]


def test_an_empty_grid_and_far_queries_find_nothing():
    empty = PointGrid(np.zeros((0, 3)), 64.0)
    assert np.isinf(empty.nearest_distance(_cloud(3, 5, 1.0), 1e9)).all()
    assert all(len(a) == 0 for a in empty.within(_cloud(3, 5, 1.0), 100.0))
    grid = PointGrid(_cloud(4, 100, 0.01), 64.0)
    far = to_unit_xyz_m(np.array([48.0]), np.array([2.0]))
    assert np.isinf(grid.nearest_distance(far, 5_000.0)).all()
    assert len(grid.within(far, 5_000.0)[0]) == 0


class _KDTreeIndex:
    """The snapping index as it was: scipy's ``cKDTree``, behind the grid's two methods."""

    def __init__(self, points: np.ndarray) -> None:
        self.tree = cKDTree(points)

    def nearest_distance(self, queries: np.ndarray, bound: float) -> np.ndarray:
        return np.atleast_1d(self.tree.query(queries, k=1, distance_upper_bound=bound)[0])

    def within(self, queries: np.ndarray, radius):
        queries = np.atleast_2d(queries)
        hits = self.tree.query_ball_point(queries, np.broadcast_to(radius, (len(queries),)))
        q = np.repeat(np.arange(len(hits)), [len(h) for h in hits])
        i = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits]) if len(hits) else np.zeros(0, np.int64)
        return q, i, None


def _array_link(walk, index, lat, lon, max_dist_m, step_free_only, tolerance_m):
    """A door's links by array steps, each its own call (as ``StreetNetwork.link`` computed them before
    :func:`~mobility.network.street_search.link_edges` did all in one): the nearest sample, the samples
    within its distance plus the slack, their edges' distances, sorted by (distance, edge), one per way."""
    grid, sample_edge, half_piece_m = index[step_free_only]
    xyz = to_unit_xyz_m(np.array([lat]), np.array([lon]))[0]
    slack_m = half_piece_m + 1.0
    d0 = grid.nearest_distance(xyz, max_dist_m + slack_m + 1e-3 * max_dist_m)[0]
    if not np.isfinite(d0):
        return ()
    radius = min(float(d0), max_dist_m) * 1.001 + slack_m + tolerance_m
    cand = np.unique(sample_edge[grid.within(xyz, radius)[1]])
    frac, dist = street_search.segment_distances(float(lat), float(lon), cand, walk.edge_u, walk.edge_v,
                                                 walk.node_lat, walk.node_lon, EARTH_RADIUS_M)
    order = np.lexsort((cand, dist))
    best = float(dist[order[0]])
    out, ways = [], set()
    for i in order:
        if best > max_dist_m or dist[i] > best + tolerance_m or dist[i] > max_dist_m:
            break
        e = int(cand[i])
        if int(walk.edge_osmid[e]) in ways:
            continue
        ways.add(int(walk.edge_osmid[e]))
        u, v = int(walk.edge_u[e]), int(walk.edge_v[e])
        la, lo = interpolate(walk.node_lat[u], walk.node_lon[u], walk.node_lat[v], walk.node_lon[v], frac[i])
        out.append(Snap(e, u, v, float(frac[i]), float(dist[i]), float(la), float(lo)))
    return tuple(out)


def test_snaps_and_links_are_those_of_the_kd_tree(embedded_planner):
    walk = embedded_planner.network.walk
    rng = np.random.default_rng(5)
    lat0, lon0 = float(np.mean(walk.node_lat)), float(np.mean(walk.node_lon))
    lats, lons = lat0 + rng.normal(0, 0.05, 400), lon0 + rng.normal(0, 0.08, 400)
    nodes = rng.integers(0, walk.n_nodes, 200)  # and points on the streets, where doors are
    lats = np.r_[lats, walk.node_lat[nodes] + rng.normal(0, 1e-4, 200), walk.node_lat[nodes[:50]]]
    lons = np.r_[lons, walk.node_lon[nodes] + rng.normal(0, 1e-4, 200), walk.node_lon[nodes[:50]]]
    cases = [(500.0, False, LINK_TOLERANCE_M), (500.0, True, LINK_TOLERANCE_M), (500.0, False, 0.0),
             (40.0, False, 30.0)]

    def answers(link):
        walk._init_work()  # (no memoised link, the index built again)
        links = [link(a, b, *case) for case in cases for a, b in zip(lats, lons)]
        many = walk.snap_many(lats, lons)
        point, linked = walk.link_many(lats, lons, step_free_only=True)
        return links, many, point, linked

    grid = answers(lambda a, b, m, sf, tol: walk.link(a, b, m, step_free_only=sf, tolerance_m=tol))
    assert sum(len(x) > 1 for x in grid[0]) > 20 and sum(not x for x in grid[0]) > 20  # several ways; none near
    kd_indexes = {}
    for step_free in (False, True):
        index, edges, half = walk._sample_index(step_free)
        kd_indexes[step_free] = (_KDTreeIndex(index._points[np.argsort(index._order)]), edges, half)
    walk._sample_index = kd_indexes.__getitem__
    try:
        kd = answers(lambda a, b, *case: _array_link(walk, kd_indexes, float(a), float(b), *case))
    finally:
        del walk._sample_index
        walk._init_work()
    assert grid[0] == kd[0]
    assert _same(grid[1], kd[1]) and np.array_equal(grid[2], kd[2]) and _same(grid[3], kd[3])


def _same(a: Snaps, b: Snaps) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name), equal_nan=f.name not in ("edge", "u", "v"))
               for f in dataclasses.fields(Snaps))
