"""A uniform-grid index of 3-D points (metres): every point within a radius of a query, and each query's
nearest point within a bound, vectorised with numpy.

It is what snapping to a street network searches (:meth:`mobility.network.streets.StreetNetwork.link` and
``snap_many``), in place of scipy's ``cKDTree``: importing ``scipy.spatial`` costs a quarter of a second
(it imports ``scipy.sparse``, ``scipy.linalg`` and parses docstrings), more than everything else a server's
first plan does with its snapping index. The answers are the exact ones, not approximations: a query looks
at every cell its search box meets and measures the true distance to each point there, so ``within`` finds
exactly the points at most ``radius`` away and ``nearest`` the true nearest distance (ties do not matter:
only the distance is returned). Distances are Euclidean (chord distances for
:func:`mobility.geo.to_unit_xyz_m` coordinates).

Layout: the points are sorted by cell key ``(ix * ny + iy) * nz + iz``, so the cells of one ``(ix, iy)``
column of a search box hold consecutive points, found with two binary searches; a box of ``k`` cells a side
costs ``k * k`` ranges whatever the extent in ``z``.
"""

from __future__ import annotations

import math

import numpy as np

#: the search box is widened by this much (metres) so that rounding in ``q +- r`` never misses a cell
_BOX_PAD_M = 1e-6
#: a nearest search looks this far first (in cells), then this many times farther each round, up to its bound
_FIRST_REACH_CELLS = 1.0
_REACH_GROWTH = 4.0


class PointGrid:
    """The points ``(n, 3)`` bucketed into cubic cells of ``cell_m`` metres (see the module docstring)."""

    def __init__(self, points: np.ndarray, cell_m: float) -> None:
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        if not cell_m > 0:
            raise ValueError("cell_m must be positive")
        self.cell_m = float(cell_m)
        self.n = len(points)
        cells = np.floor(points / self.cell_m).astype(np.int64)
        self._origin = cells.min(axis=0) if self.n else np.zeros(3, np.int64)
        cells -= self._origin
        self._shape = cells.max(axis=0) + 1 if self.n else np.ones(3, np.int64)
        keys = self._keys(cells[:, 0], cells[:, 1], cells[:, 2])
        self._order = np.argsort(keys, kind="stable")
        self._sorted_keys = keys[self._order]
        self._points = points[self._order]
        self._origin_list, self._shape_list = self._origin.tolist(), self._shape.tolist()  # (one query's box)

    def _keys(self, ix: np.ndarray, iy: np.ndarray, iz: np.ndarray) -> np.ndarray:
        return (ix * self._shape[1] + iy) * self._shape[2] + iz

    def within(self, queries: np.ndarray, radius) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (query, point) pair at most ``radius`` apart (a scalar or one radius per query):
        ``(query index, point index, distance)``, grouped by query in increasing order."""
        queries = np.asarray(queries, dtype=np.float64).reshape(-1, 3)
        radius = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(queries),))
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        if self.n == 0 or len(queries) == 0:
            return empty
        if len(queries) == 1:
            return self._within_one(queries[0], float(radius[0]))
        pad = (radius + _BOX_PAD_M)[:, None]
        lo = np.maximum(np.floor((queries - pad) / self.cell_m).astype(np.int64) - self._origin, 0)
        hi = np.minimum(np.floor((queries + pad) / self.cell_m).astype(np.int64) - self._origin, self._shape - 1)
        span = hi - lo + 1
        n_ranges = np.where((span > 0).all(axis=1), span[:, 0] * span[:, 1], 0)
        total = int(n_ranges.sum())
        if total == 0:
            return empty
        # one range of consecutive sorted points per (query, ix, iy) column of its box
        rq = np.repeat(np.arange(len(queries)), n_ranges)
        j = np.arange(total) - np.repeat(np.cumsum(n_ranges) - n_ranges, n_ranges)
        ny = span[rq, 1]
        column = self._keys(lo[rq, 0] + j // ny, lo[rq, 1] + j % ny, 0)
        start = np.searchsorted(self._sorted_keys, column + lo[rq, 2], side="left")
        count = np.searchsorted(self._sorted_keys, column + hi[rq, 2], side="right") - start
        pq = np.repeat(rq, count)
        pos = np.repeat(start - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
        diff = self._points[pos] - queries[pq]
        dist = np.sqrt((diff * diff).sum(axis=1))
        keep = dist <= radius[pq]
        return pq[keep], self._order[pos[keep]], dist[keep]

    def _within_one(self, query: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`within` for one query (a door being linked), its box worked out in plain Python: the
        vectorised path costs some 30 numpy calls whatever the number of queries, a tenth of a millisecond."""
        c, pad = self.cell_m, radius + _BOX_PAD_M
        box = [(max(math.floor((x - pad) / c) - o, 0), min(math.floor((x + pad) / c) - o, s - 1))
               for x, o, s in zip(query.tolist(), self._origin_list, self._shape_list)]
        (x0, x1), (y0, y1), (z0, z1) = box
        if x1 < x0 or y1 < y0 or z1 < z0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        ny, nz = self._shape_list[1], self._shape_list[2]
        column = np.array([(ix * ny + iy) * nz for ix in range(x0, x1 + 1) for iy in range(y0, y1 + 1)], np.int64)
        start = np.searchsorted(self._sorted_keys, column + z0, side="left")
        end = np.searchsorted(self._sorted_keys, column + z1, side="right")
        pos = np.concatenate([np.arange(a, b) for a, b in zip(start.tolist(), end.tolist())])
        diff = self._points[pos] - query
        dist = np.sqrt((diff * diff).sum(axis=1))
        keep = dist <= radius
        return np.zeros(int(keep.sum()), np.int64), self._order[pos[keep]], dist[keep]

    def nearest_distance(self, queries: np.ndarray, bound: float) -> np.ndarray:
        """Each query's distance to its nearest point, ``inf`` when no point is closer than ``bound``
        (as ``cKDTree.query(k=1, distance_upper_bound=bound)``). The search widens round by round, so a
        query near a point looks at a few cells only."""
        queries = np.asarray(queries, dtype=np.float64).reshape(-1, 3)
        reach = min(float(bound), _FIRST_REACH_CELLS * self.cell_m)
        if len(queries) == 1 and self.n:  # (a door: the same rounds, without the bookkeeping of many queries)
            while True:
                dist = self._within_one(queries[0], reach)[2]
                best = float(dist.min()) if len(dist) else math.inf
                if best < bound or reach >= bound:
                    return np.array([best if best < bound else math.inf])
                reach = min(float(bound), reach * _REACH_GROWTH)
        out = np.full(len(queries), np.inf)
        todo = np.arange(len(queries))
        while len(todo):
            pq, _, dist = self.within(queries[todo], reach)
            best = np.full(len(todo), np.inf)
            if len(pq):
                starts = np.r_[0, np.nonzero(np.diff(pq))[0] + 1]
                best[pq[starts]] = np.minimum.reduceat(dist, starts)
            found = best < bound  # every point within ``reach`` was measured: ``best`` is the nearest
            out[todo[found]] = best[found]
            if reach >= bound:
                break
            todo = todo[~found]
            reach = min(float(bound), reach * _REACH_GROWTH)
        return out
