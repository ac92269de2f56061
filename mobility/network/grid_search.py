"""The compiled searches of :class:`mobility.network.point_grid.PointGrid` (``numba``; imported at the first
search, so that commands that never snap do not import numba).

Both walk, for each query, the ``(ix, iy)`` columns of its search box; a column's points are consecutive in
the grid's sorted order, between two binary searches of the cell keys. Distances are
``sqrt(dx * dx + dy * dy + dz * dz)``, added in that order.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _box(q, reach, pad, cell, origin, shape):
    lo = np.empty(3, np.int64)
    hi = np.empty(3, np.int64)
    for a in range(3):
        lo[a] = max(int(math.floor((q[a] - (reach + pad)) / cell)) - origin[a], 0)
        hi[a] = min(int(math.floor((q[a] + (reach + pad)) / cell)) - origin[a], shape[a] - 1)
    return lo, hi


@njit(cache=True, inline="always")
def _column(sorted_keys, shape, lo, hi, ix, iy):
    """The sorted positions ``[a, b)`` of the points of grid column (ix, iy) between the box's lowest and highest
    cells along the third axis."""
    column = (ix * shape[1] + iy) * shape[2]
    return (np.searchsorted(sorted_keys, column + lo[2], side="left"),
            np.searchsorted(sorted_keys, column + hi[2], side="right"))


@njit(cache=True, inline="always")
def _distance(points, j, q):
    """Straight-line distance (m) from point ``j`` to query ``q``."""
    dx = points[j, 0] - q[0]
    dy = points[j, 1] - q[1]
    dz = points[j, 2] - q[2]
    return math.sqrt(dx * dx + dy * dy + dz * dz)


@njit(cache=True, nogil=True)
def within(sorted_keys, points, origin, shape, cell, pad, queries, radius):
    """``(query, sorted position, distance)`` of every point at most ``radius[k]`` from ``queries[k]``,
    grouped by query in increasing order."""
    cap = 256
    out_q = np.empty(cap, np.int64)
    out_p = np.empty(cap, np.int64)
    out_d = np.empty(cap, np.float64)
    n = 0
    for k in range(queries.shape[0]):
        q = queries[k]
        r = radius[k]
        lo, hi = _box(q, r, pad, cell, origin, shape)
        if hi[0] < lo[0] or hi[1] < lo[1] or hi[2] < lo[2]:
            continue
        for ix in range(lo[0], hi[0] + 1):
            for iy in range(lo[1], hi[1] + 1):
                a, b = _column(sorted_keys, shape, lo, hi, ix, iy)
                for j in range(a, b):
                    d = _distance(points, j, q)
                    if d <= r:
                        if n == cap:
                            cap *= 2
                            out_q = np.concatenate((out_q, np.empty(cap - n, np.int64)))
                            out_p = np.concatenate((out_p, np.empty(cap - n, np.int64)))
                            out_d = np.concatenate((out_d, np.empty(cap - n, np.float64)))
                        out_q[n] = k
                        out_p[n] = j
                        out_d[n] = d
                        n += 1
    return out_q[:n], out_p[:n], out_d[:n]


@njit(cache=True, nogil=True)
def nearest_distance(sorted_keys, points, origin, shape, cell, pad, queries, bound, first_reach, growth):
    """Each query's distance to its nearest point, ``inf`` when none is closer than ``bound``: boxes of
    ``first_reach``, then ``growth`` times wider, up to ``bound``, until one holds a point within its reach
    (every point within the reach is measured, so the closest of them is the nearest)."""
    out = np.full(queries.shape[0], np.inf)
    for k in range(queries.shape[0]):
        q = queries[k]
        reach = min(bound, first_reach)
        while True:
            best = np.inf
            lo, hi = _box(q, reach, pad, cell, origin, shape)
            if hi[0] >= lo[0] and hi[1] >= lo[1] and hi[2] >= lo[2]:
                for ix in range(lo[0], hi[0] + 1):
                    for iy in range(lo[1], hi[1] + 1):
                        a, b = _column(sorted_keys, shape, lo, hi, ix, iy)
                        for j in range(a, b):
                            d = _distance(points, j, q)
                            if d <= reach and d < best:
                                best = d
            if best < bound:
                out[k] = best
                break
            if reach >= bound:
                break
            reach = min(bound, reach * growth)
    return out
