"""A uniform-grid index of 3-D points (metres): every point within a radius of a query, and each query's
nearest point within a bound; the searches are compiled (:mod:`mobility.network.grid_search`), a door's link
taking a few microseconds as the KD-tree's did.

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
costs ``k * k`` ranges whatever its extent in ``z``.
"""

from __future__ import annotations

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

    def _keys(self, ix: np.ndarray, iy: np.ndarray, iz: np.ndarray) -> np.ndarray:
        return (ix * self._shape[1] + iy) * self._shape[2] + iz

    def _layout(self) -> tuple:
        return self._sorted_keys, self._points, self._origin, self._shape, self.cell_m, _BOX_PAD_M

    def search_arrays(self) -> tuple:
        """What a compiled caller passes to :func:`mobility.network.grid_search.nearest_distance` and ``within``
        (the layout, then the nearest search's first reach and growth), and the sorted position -> point map."""
        return (*self._layout(), _FIRST_REACH_CELLS * self.cell_m, _REACH_GROWTH, self._order)

    def within(self, queries: np.ndarray, radius) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (query, point) pair at most ``radius`` apart (a scalar or one radius per query):
        ``(query index, point index, distance)``, grouped by query in increasing order."""
        queries = np.ascontiguousarray(queries, dtype=np.float64).reshape(-1, 3)
        radius = np.ascontiguousarray(np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(queries),)))
        if self.n == 0 or len(queries) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        q, pos, dist = _kernels().within(*self._layout(), queries, radius)
        return q, self._order[pos], dist

    def nearest_distance(self, queries: np.ndarray, bound: float) -> np.ndarray:
        """Each query's distance to its nearest point, ``inf`` when no point is closer than ``bound``
        (as ``cKDTree.query(k=1, distance_upper_bound=bound)``). The search widens round by round, so a
        query near a point looks at a few cells only."""
        queries = np.ascontiguousarray(queries, dtype=np.float64).reshape(-1, 3)
        if self.n == 0:
            return np.full(len(queries), np.inf)
        return _kernels().nearest_distance(*self._layout(), queries, float(bound),
                                           _FIRST_REACH_CELLS * self.cell_m, _REACH_GROWTH)


def _kernels():
    """The compiled searches, imported on first use (numba costs a few tenths of a second to import)."""
    from mobility.network import grid_search

    return grid_search
