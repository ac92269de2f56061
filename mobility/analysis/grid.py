"""Analysis grid over the territory: square cells, their population and their walking links to stops.

Cells
    Squares of ``cell_m`` metres (default 200) in a local equirectangular frame centred on the territory
    (:class:`mobility.geo.LocalProjection`, accurate to ~0.5 % over the Audomarois).  That frame is an
    affine map of longitude/latitude, so a cell is also an exact lon/lat rectangle: unions of cells
    (isochrones) are computed directly in degrees and stay exactly nested.  The grid is clipped to the
    territory outline (the union of the commune polygons, ``Grid.outline``): kept cells are those whose
    centre lies inside a commune, so every kept cell belongs to exactly one commune, and isochrone
    polygons are cut along the outline.  A cell is *evaluated at its centre*, like a door: the
    centre is snapped to the nearest walkable edge (at most :data:`DOOR_SNAP_MAX_M`, the planner's own
    rule); a centre farther than that is "outside the network" (``snapped == False``).

Population
    Each commune's population is spread over its cells in proportion to the OSM address points of the
    commune inside each cell (``weighting="addresses"``, default: the built-up cells), or uniformly over
    the cells whose centre lies in the commune (``"uniform"``, also the fallback for a commune without
    address points).  A cell holds the residents of its own commune only: an address point whose square
    is not kept (its centre lies outside the territory) or belongs to a neighbouring commune (a square
    across the boundary) counts in the nearest cell of its own commune, so no resident is dropped or
    evaluated in another commune.
    ``pop_cell / pop_commune / pop_value`` is the sparse (cell, commune, inhabitants) table; per commune
    the values add up to the commune's population exactly (up to float rounding).

Walking links
    ``access(...)`` gives, for every cell, the stops within ``max_walk_m`` along the streets (CSR by
    cell): the walk is the cell centre's distance to its edge + the network distance along edges + the
    stop's distance to its edge, exactly the planner's door-to-stop rule.  Computed with one Dijkstra
    per stop (the walk graph is symmetric: every edge has a twin of equal length), so the cost grows
    with stops, not cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from mobility.geo import LocalProjection
from mobility.network.streets import Snaps
from mobility.planning.planner import DOOR_SNAP_MAX_M

DEFAULT_CELL_M = 200.0


@dataclass
class Access:
    """Cell -> stop walking links (CSR by cell; ``stop`` = row of ``network.stops``)."""

    ptr: np.ndarray
    stop: np.ndarray
    walk_m: np.ndarray

    def walk_s(self, walk_speed_mps: float) -> np.ndarray:
        return np.ceil(self.walk_m / walk_speed_mps).astype(np.int64)


@dataclass(eq=False)
class Grid:
    """Cells of one size over the territory; see the module docstring."""

    cell_m: float
    proj: LocalProjection
    x0_m: float
    y0_m: float
    nx: int
    ny: int
    ix: np.ndarray  # column of each kept cell
    iy: np.ndarray  # row of each kept cell
    lat: np.ndarray  # centre, degrees
    lon: np.ndarray
    snaps: Snaps
    commune: np.ndarray  # commune row of the cell centre (-1: outside every commune)
    population: np.ndarray  # inhabitants per cell (float)
    pop_cell: np.ndarray
    pop_commune: np.ndarray
    pop_value: np.ndarray
    weighting: str
    outline: object = None  # union of the commune polygons (shapely, lon/lat)
    #: the centres' links to the walk network, as a door's (StreetNetwork.link_many: (cell, snaps))
    links: tuple | None = None
    _access: dict = field(default_factory=dict, repr=False)

    @property
    def n_cells(self) -> int:
        return len(self.ix)

    @property
    def snapped(self) -> np.ndarray:
        return self.snaps.edge >= 0

    def lon_edges(self) -> np.ndarray:
        """Longitudes of the nx + 1 column boundaries."""
        return self.proj.to_latlon(self.x0_m + self.cell_m * np.arange(self.nx + 1), 0.0)[1]

    def lat_edges(self) -> np.ndarray:
        return self.proj.to_latlon(0.0, self.y0_m + self.cell_m * np.arange(self.ny + 1))[0]

    def boxes(self, cells: np.ndarray | None = None) -> np.ndarray:
        """Cell rectangles in lon/lat (shapely polygons), sharing exact corner coordinates."""
        cells = np.arange(self.n_cells) if cells is None else np.asarray(cells)
        lo, la = self.lon_edges(), self.lat_edges()
        return shapely.box(lo[self.ix[cells]], la[self.iy[cells]], lo[self.ix[cells] + 1], la[self.iy[cells] + 1])

    def raster(self, values: np.ndarray, fill=np.nan) -> np.ndarray:
        """(ny, nx) array of per-cell values, row 0 = south."""
        out = np.full((self.ny, self.nx), fill, dtype=float)
        out[self.iy, self.ix] = values
        return out

    def cell_of(self, lat, lon) -> np.ndarray:
        """Kept-cell index of points (-1 outside the grid)."""
        x, y = self.proj.to_xy(np.asarray(lat, float), np.asarray(lon, float))
        cx = np.floor((x - self.x0_m) / self.cell_m).astype(np.int64)
        cy = np.floor((y - self.y0_m) / self.cell_m).astype(np.int64)
        lookup = np.full((self.ny, self.nx), -1, np.int64)
        lookup[self.iy, self.ix] = np.arange(self.n_cells)
        ok = (cx >= 0) & (cx < self.nx) & (cy >= 0) & (cy < self.ny)
        out = np.full(len(cx), -1, np.int64)
        out[ok] = lookup[cy[ok], cx[ok]]
        return out

    # ------------------------------------------------------------------ walking links
    def access(self, network, max_walk_m: float) -> Access:
        """Stops within ``max_walk_m`` of every cell (memoised per walking limit)."""
        key = float(max_walk_m)
        if key not in self._access:
            self._access[key] = _cell_stop_access(self, network, max_walk_m)
        return self._access[key]

    def door_links(self, network) -> tuple[np.ndarray, Snaps]:
        """``(cell, snaps)``: every centre linked to the walk network as the planner links a door."""
        if self.links is None:
            self.links = network.walk.link_many(self.lat, self.lon, DOOR_SNAP_MAX_M)
        return self.links

    def walk_to_point_m(self, network, links, max_walk_m: float) -> np.ndarray:
        """Walking distance (m) between every cell centre and one point (its links to the network, or a
        snap; inf beyond the limit): the door-to-door walk-only rule of the planner."""
        cell, snaps = self.door_links(network)
        reach = network.walk.reach(links, max_walk_m, link_cost=True)
        out = np.full(self.n_cells, np.inf)
        np.minimum.at(out, cell, reach.costs_to(snaps, link_cost=True))
        out[~np.isfinite(out) | (out > max_walk_m)] = np.inf
        return out


def cell_stop_links(grid: Grid, network, max_walk_m: float, first_stop: int = 0):
    """Walking links ``(cell, stop row, metres)`` between the grid cells and the stops of rows
    ``first_stop..`` of ``network.stops`` (the planner's walking rule: along streets, snap offsets added,
    at most ``max_walk_m``)."""
    walk = network.walk
    stop_snaps = network.stop_snaps(False)
    rows, cols, dists = [], [], []
    cell, cell_snaps = grid.door_links(network)
    for s in range(first_stop, len(stop_snaps)):
        snap = stop_snaps[s]
        if snap is None:
            continue
        d = np.full(grid.n_cells, np.inf)
        np.minimum.at(d, cell, walk.reach(snap, max_walk_m).costs_to(cell_snaps, link_cost=True) + snap.dist_m)
        ok = np.nonzero(np.isfinite(d) & (d <= max_walk_m))[0]
        rows.append(ok)
        cols.append(np.full(len(ok), s, np.int64))
        dists.append(d[ok])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(dists)


def _cell_stop_access(grid: Grid, network, max_walk_m: float) -> Access:
    n = grid.n_cells
    r, c, d = cell_stop_links(grid, network, max_walk_m)
    order = np.lexsort((c, r))
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=ptr[1:])
    return Access(ptr, c[order], d[order])


def build_grid(communes: pd.DataFrame, network, cell_m: float = DEFAULT_CELL_M, *,
               weighting: str = "addresses", population_points: pd.DataFrame | None = None) -> Grid:
    """The grid of ``cell_m`` metre cells over the commune areas, with population and snaps.
    ``population_points`` (``lat, lon, population``): residents counted in the cell holding each point
    (``weighting`` is then "points") instead of the communes' populations."""
    if weighting not in ("addresses", "uniform"):
        raise ValueError("weighting must be 'addresses' or 'uniform'")
    geoms = np.asarray(list(communes["geometry"]), dtype=object)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    proj = LocalProjection((miny + maxy) / 2, (minx + maxx) / 2)
    x_lo, y_lo = proj.to_xy(miny, minx)
    x_hi, y_hi = proj.to_xy(maxy, maxx)
    x0 = math.floor(float(x_lo) / cell_m) * cell_m
    y0 = math.floor(float(y_lo) / cell_m) * cell_m
    nx = int(math.ceil((float(x_hi) - x0) / cell_m))
    ny = int(math.ceil((float(y_hi) - y0) / cell_m))
    lon_e = proj.to_latlon(x0 + cell_m * np.arange(nx + 1), 0.0)[1]
    lat_e = proj.to_latlon(0.0, y0 + cell_m * np.arange(ny + 1))[0]
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))
    gx, gy = gx.ravel(), gy.ravel()
    tree = shapely.STRtree(geoms)
    centres = shapely.points((lon_e[gx] + lon_e[gx + 1]) / 2, (lat_e[gy] + lat_e[gy + 1]) / 2)
    src, dst = tree.query(centres, predicate="within")
    src, first = np.unique(src, return_index=True)  # a centre on a shared boundary: one commune
    ix, iy = gx[src], gy[src]
    commune = dst[first].astype(np.int64)
    lat = (lat_e[iy] + lat_e[iy + 1]) / 2
    lon = (lon_e[ix] + lon_e[ix + 1]) / 2
    snaps = network.walk.snap_many(lat, lon, DOOR_SNAP_MAX_M)
    grid = Grid(cell_m, proj, x0, y0, nx, ny, ix, iy, lat, lon, snaps, commune, np.zeros(len(ix)),
                np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), weighting, shapely.union_all(geoms))
    if population_points is not None:
        _place_population_points(grid, population_points)
    else:
        _distribute_population(grid, communes, network, geoms, tree, weighting)
    return grid


def _place_population_points(grid: Grid, points: pd.DataFrame) -> None:
    """Each point's residents in the cell holding it; a point outside every kept cell (beyond the commune
    areas) counts in the nearest cell, so no resident is dropped."""
    from scipy.spatial import cKDTree

    lat, lon = points["lat"].to_numpy(float), points["lon"].to_numpy(float)
    cell = grid.cell_of(lat, lon)
    stray = np.nonzero(cell < 0)[0]
    if len(stray) and grid.n_cells:
        cx, cy = grid.proj.to_xy(grid.lat, grid.lon)
        px, py = grid.proj.to_xy(lat[stray], lon[stray])
        cell[stray] = cKDTree(np.column_stack([cx, cy])).query(np.column_stack([px, py]))[1]
    pop = points["population"].to_numpy(float)
    ok = (cell >= 0) & (pop > 0)
    grid.pop_cell = cell[ok]
    grid.pop_commune = grid.commune[cell[ok]]
    grid.pop_value = pop[ok]
    grid.population = np.bincount(grid.pop_cell, weights=grid.pop_value, minlength=grid.n_cells)
    grid.weighting = "points"


def point_grid(points: pd.DataFrame, network) -> Grid:
    """The points themselves as the "cells" (evaluated at the point, like a door): origins or destinations
    of the cumulative-opportunity measures.  No squares (``cell_m`` 0: no map, no isochrone); population
    from the ``population`` column when there is one."""
    lat, lon = points["lat"].to_numpy(float), points["lon"].to_numpy(float)
    n = len(lat)
    proj = LocalProjection(float((lat.min() + lat.max()) / 2), float((lon.min() + lon.max()) / 2))
    snaps = network.walk.snap_many(lat, lon, DOOR_SNAP_MAX_M)
    pop = points["population"].to_numpy(float) if "population" in points else np.zeros(n)
    idx = np.arange(n, dtype=np.int64)
    return Grid(0.0, proj, 0.0, 0.0, 0, 0, idx, np.zeros(n, np.int64), lat, lon, snaps, np.full(n, -1, np.int64),
                pop, idx[pop > 0], np.full(int((pop > 0).sum()), -1, np.int64), pop[pop > 0], "points")


def _nearest_cell_of_commune(grid: Grid, lat: np.ndarray, lon: np.ndarray, commune: np.ndarray) -> np.ndarray:
    """The cell of each point's own commune with the nearest centre (-1 for a commune without cells)."""
    from scipy.spatial import cKDTree

    out = np.full(len(lat), -1, np.int64)
    x, y = grid.proj.to_xy(lat, lon)
    cx, cy = grid.proj.to_xy(grid.lat, grid.lon)
    for c in np.unique(commune):
        cells = np.nonzero(grid.commune == c)[0]
        if len(cells) == 0:
            continue
        pts = np.nonzero(commune == c)[0]
        _, k = cKDTree(np.column_stack([cx[cells], cy[cells]])).query(np.column_stack([x[pts], y[pts]]))
        out[pts] = cells[k]
    return out


def _distribute_population(grid: Grid, communes: pd.DataFrame, network, geoms, tree, weighting: str) -> None:
    pops = communes["population"].to_numpy(float)
    n_com = len(communes)
    counts: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if weighting == "addresses" and network.addresses is not None and len(network.addresses):
        a = network.addresses
        alat, alon = a["lat"].to_numpy(float), a["lon"].to_numpy(float)
        src, dst = tree.query(shapely.points(alon, alat), predicate="within")
        src, first = np.unique(src, return_index=True)
        dst = dst[first]
        cell = grid.cell_of(alat[src], alon[src])
        stray = np.nonzero((cell < 0) | (grid.commune[cell] != dst))[0]
        if len(stray):
            cell[stray] = _nearest_cell_of_commune(grid, alat[src][stray], alon[src][stray], dst[stray])
        ok = cell >= 0
        pairs = pd.DataFrame({"com": dst[ok], "cell": cell[ok]}).value_counts().reset_index(name="n")
        for com, g in pairs.groupby("com"):
            counts[int(com)] = (g["cell"].to_numpy(np.int64), g["n"].to_numpy(float))
    cells_l, com_l, val_l = [], [], []
    for c in range(n_com):
        if c in counts:
            cells, w = counts[c]
        else:
            cells = np.nonzero(grid.commune == c)[0]
            if len(cells) == 0:  # a commune smaller than a cell: its representative point's cell
                pt = geoms[c].representative_point()
                cells = grid.cell_of([pt.y], [pt.x])
                cells = cells[cells >= 0]
            w = np.ones(len(cells))
        if len(cells) == 0 or pops[c] <= 0:
            continue
        cells_l.append(cells)
        com_l.append(np.full(len(cells), c, np.int64))
        val_l.append(pops[c] * w / w.sum())
    grid.pop_cell = np.concatenate(cells_l) if cells_l else np.zeros(0, np.int64)
    grid.pop_commune = np.concatenate(com_l) if com_l else np.zeros(0, np.int64)
    grid.pop_value = np.concatenate(val_l) if val_l else np.zeros(0)
    grid.population = np.bincount(grid.pop_cell, weights=grid.pop_value, minlength=grid.n_cells)
