"""On-demand transport (TAD, GTFS-Flex) in the travel-time surfaces: the planner's TAD rules on the grid.

Modes of a surface (``modes=``): ``"transit"`` (public transport + walking, as ``PlanOptions(allow_tad=False)``)
or ``"transit+tad"`` (default: + on-demand rides, as ``ctx.planner.plan`` with TAD allowed).  Booking:
analytics assume *planned use* -- every TAD ride is booked in time ("réservé à l'avance"), i.e. the
booking deadlines never remove a ride (the planner agrees with a request booked the day before at
08:00 for the rules of the embedded data).  Everything else follows the planner (:mod:`mobility.planning.tad`):

* at most one TAD leg per journey;
* ride times, windows, calendars and feasible pickups come from the planner's own ride model
  (:class:`mobility.planning.rides.RideModel`, stop-level safe durations included), ``drive_s`` the
  free-flow drive time between the two points (cell centres and sites snapped to the drive network within
  ``DRIVE_SNAP_MAX_M``, the gaps at ``DRIVE_SNAP_SPEED_MPS``); the rider ready at ``r`` is picked up at
  ``max(r, lo)`` of a feasible interval ``[lo, hi]``; trips of the service day and of the previous one;
* a change between a bus and a TAD ride takes at least ``min_transfer_s``, at the TAD's own stop.

Which options (direction "to": cell -> target; "from" is the mirror):

* cell side, TAD *access*: the cell (door in a pickup zone, or a pickup stop reached on foot) -> TAD ->
  a stop at the other end (hub) -> public transport (the plain profile, walking egress);
* target side, TAD *egress*: public transport -> a TAD pickup stop -> TAD -> the target (door in a
  drop-off zone, or a stop then on foot): extra reverse profiles seeded at the pickup stops with the
  ride as egress (one per distinct window, with an extra run at its opening);
* direct: cell -> TAD -> target without fixed lines (inside a zone, zone -> hub and on foot, ...).

Drive times from each cell to a stop or site come from one *reverse* Dijkstra per stop/site on the
drive graph (cached per grid), the same sums as the planner's forward search from the door.
"""

from __future__ import annotations

import datetime as dt
import math
import weakref
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from mobility.errors import InputError
from mobility.i18n import message, one_of
from mobility.network.flex import DRIVE_SNAP_MAX_M, DRIVE_SNAP_SPEED_MPS, MAX_DRIVE_S, ZONE_TOLERANCE_M
from mobility.planning.tad import hop_stop_ends
from mobility.planning.rides import RideModel

MODES = ("transit", "transit+tad")
DEFAULT_MODES = "transit+tad"
_M_PER_DEG = 111_320.0


def check_modes(modes: str | None) -> str:
    m = (modes or DEFAULT_MODES).strip().lower().replace(" ", "")
    if m in ("tad", "transit+tad", "pt+tad", "all"):
        return "transit+tad"
    if m in ("transit", "pt"):
        return "transit"
    raise InputError("err_modes", allowed=one_of(*MODES), modes=repr(modes))


def modes_label(modes: str, lang: str = "en") -> str:
    """The modes of a surface in words, in ``lang`` (catalog keys modes_*)."""
    return message("modes_transit_tad" if check_modes(modes) == "transit+tad" else "modes_transit", lang)


# ------------------------------------------------------------------------------------------- grid caches

_GRID_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _cache(grid) -> dict:
    c = _GRID_CACHE.get(grid)
    if c is None:
        c = {}
        _GRID_CACHE[grid] = c
    return c


def cell_drive_snaps(grid, drive):
    c = _cache(grid)
    key = ("drive_snaps", id(drive))
    if key not in c:
        c[key] = drive.snap_many(grid.lat, grid.lon, DRIVE_SNAP_MAX_M)
    return c[key]


def zone_mask(grid, zone) -> np.ndarray:
    """Cells whose centre is in the zone (within ZONE_TOLERANCE_M, the planner's ``zones_at`` rule)."""
    import shapely

    c = _cache(grid)
    key = ("zone", zone.key, shapely.to_wkb(zone.geometry))
    if key not in c:
        g = zone.geometry
        minx, miny, maxx, maxy = g.bounds
        pad = 0.01
        cand = np.nonzero((grid.lon >= minx - pad) & (grid.lon <= maxx + pad) & (grid.lat >= miny - pad)
                          & (grid.lat <= maxy + pad))[0]
        mask = np.zeros(grid.n_cells, bool)
        if len(cand):
            pts = shapely.points(grid.lon[cand], grid.lat[cand])
            tol = ZONE_TOLERANCE_M / (_M_PER_DEG * np.maximum(0.2, np.cos(np.radians(grid.lat[cand]))))
            inside = shapely.contains(g, pts) | (shapely.distance(g, pts) <= tol)
            mask[cand[inside]] = True
        c[key] = mask
    return c[key]


def _canon(drive, edge: np.ndarray, frac: np.ndarray):
    rev = drive.edge_reverse[edge]
    swap = (rev >= 0) & (rev < edge)
    e = np.where(swap, rev, edge)
    f = np.where(swap, 1.0 - frac, frac)
    return e, f


def _reverse_graph(drive):
    key = "_analysis_reverse_tt"
    g = getattr(drive, "__dict__", {}).get(key)
    if g is None:
        m = drive._matrix("travel_time", False)
        n = drive.n_nodes
        fwd = csr_matrix((m.data, m.indices, m.indptr), shape=(n + 1, n + 1))
        t = fwd.T.tocsr()
        t.sort_indices()
        g = (t.data.astype(np.float64), t.indices.astype(np.int32), t.indptr.astype(np.int64))
        drive.__dict__[key] = g
    return g


def drive_cells_to(grid, drive, snap) -> np.ndarray:
    """Free-flow seconds from every cell centre to ``snap`` (inf: none or beyond MAX_DRIVE_S)."""
    c = _cache(grid)
    key = ("to", id(drive), snap.edge, round(snap.fraction, 12), round(snap.dist_m, 9))
    if key in c:
        return c[key]
    cost = drive.cost("travel_time")
    n = drive.n_nodes
    data, indices, indptr = _reverse_graph(drive)
    e, f = _canon(drive, np.array([snap.edge]), np.array([snap.fraction]))
    e, f = int(e[0]), float(f[0])
    rev = int(drive.edge_reverse[e])
    nodes = [int(drive.edge_u[e])]
    offs = [f * cost[e]]
    if rev >= 0:
        nodes.append(int(drive.edge_v[e]))
        offs.append((1.0 - f) * cost[rev])
    ip = indptr.copy()
    ip[n + 1] = len(data) + len(nodes)
    graph = csr_matrix((np.concatenate([data, offs]), np.concatenate([indices, np.array(nodes, np.int32)]), ip),
                       shape=(n + 1, n + 1))
    R = dijkstra(graph, directed=True, indices=n, limit=MAX_DRIVE_S)
    cs = cell_drive_snaps(grid, drive)
    ok = cs.edge >= 0
    out = np.full(grid.n_cells, np.inf)
    ce, cf = _canon(drive, cs.edge[ok], cs.fraction[ok])
    crev = drive.edge_reverse[ce]
    cu, cv = drive.edge_u[ce], drive.edge_v[ce]
    best = (1.0 - cf) * cost[ce] + R[cv]
    back = np.where(crev >= 0, cf * cost[np.maximum(crev, 0)] + R[cu], np.inf)
    best = np.minimum(best, back)
    same = ce == e
    if same.any():
        fwd = np.where(f >= cf, (f - cf) * cost[e], np.inf)
        bwd = np.where((f < cf) & (rev >= 0), (cf - f) * cost[max(rev, 0)], np.inf)
        best = np.where(same, np.minimum(best, np.minimum(fwd, bwd)), best)
    best = best + (cs.dist_m[ok] + snap.dist_m) / DRIVE_SNAP_SPEED_MPS
    best[best > MAX_DRIVE_S] = np.inf
    out[ok] = best
    c[key] = out
    return out


def drive_cells_from(grid, drive, flex, snap, cache_key=None) -> np.ndarray:
    """Free-flow seconds from ``snap`` to every cell centre (the planner's forward formula)."""
    c = _cache(grid)
    key = ("from", id(drive), snap.edge, round(snap.fraction, 12), round(snap.dist_m, 9))
    if key in c:
        return c[key]
    dist = flex.drive_node_times(drive, snap, cache_key=cache_key)
    cs = cell_drive_snaps(grid, drive)
    out = np.full(grid.n_cells, np.inf)
    ok = cs.edge >= 0
    from mobility.network.streets import Snaps

    sub = Snaps(cs.edge[ok], cs.u[ok], cs.v[ok], cs.fraction[ok], cs.dist_m[ok], cs.lat[ok], cs.lon[ok])
    val = dist.costs_to(sub) + (sub.dist_m + snap.dist_m) / DRIVE_SNAP_SPEED_MPS
    val[val > MAX_DRIVE_S] = np.inf
    out[ok] = val
    c[key] = out
    return out


# ------------------------------------------------------------------------------------------- the layer

@dataclass
class CellOptions:
    """Per-cell TAD options (CSR by cell).  ``kind`` 0: via a stop (``stop`` = tt index; "to": TAD then
    the plain profile at ``stop``; "from": the plain profile to ``stop`` then TAD); 1: direct (no stop).

    ``pre_s``/``post_s``: walking before the pickup / after the drop-off; ``walk_m`` their total;
    ``dur_s`` the ride; ``lo``/``hi`` the feasible pickups."""

    ptr: np.ndarray
    kind: np.ndarray
    stop: np.ndarray
    pre_s: np.ndarray
    post_s: np.ndarray
    walk_m: np.ndarray
    dur_s: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def build(cls, n_cells: int, rows: list) -> "CellOptions":
        """``rows``: blocks of equal-length arrays (cells, kind, stop, pre, post, walk_m, dur, lo, hi)."""
        if not rows:
            z = np.zeros(0, np.int64)
            return cls(np.zeros(n_cells + 1, np.int64), z, z, z, z, np.zeros(0), z, z, z)
        cols = [np.concatenate(c) for c in zip(*rows)]
        order = np.argsort(cols[0], kind="stable")
        ptr = np.zeros(n_cells + 1, np.int64)
        np.cumsum(np.bincount(cols[0], minlength=n_cells), out=ptr[1:])
        out = [c[order] for c in cols]
        return cls(ptr, *(out[i].astype(np.int64) for i in range(1, 5)), out[5].astype(np.float64),
                   *(out[i].astype(np.int64) for i in range(6, 9)))

    @property
    def n(self) -> int:
        return int(self.ptr[-1])


class TadLayer:
    """The TAD options of one surface; see the module docstring."""

    def __init__(self, net, flex, grid, access, tt, day: dt.date, tz, opts, direction: str) -> None:
        self.net, self.flex, self.grid, self.access, self.tt = net, flex, grid, access, tt
        self.drive = net.drive
        self.day, self.tz, self.opts, self.direction = day, tz, opts, direction
        self.slack = int(opts.min_transfer_s)
        # the planner's ride model, every ride booked in time (planned use)
        self.rides = RideModel(flex, net.feeds, day, tz, booked_at=None, next_day=False)
        self._walk_s = access.walk_s(opts.walk_speed_mps)
        self.stop_keys = net.stops["stop_key"].to_numpy()
        self.row_of = {k: i for i, k in enumerate(self.stop_keys.tolist())}

    # -- ends
    def _stop_ends(self, h: int, board_side: bool) -> list[str]:
        return hop_stop_ends(self.flex, self.tt, h, board_side)

    def point_ends(self, lat: float, lon: float, snap_walk, by_zone: dict, by_stop: dict, target_walks: dict):
        """hop -> [(point, walk_s, walk_m)] for a target point: 'P' (door in a zone) or walked stops."""
        out: dict[int, list] = {}
        dsnap = self.drive.snap(lat, lon, DRIVE_SNAP_MAX_M)
        if dsnap is not None:
            for z in self.flex.zones_at(lat, lon):
                for h in by_zone.get(z, ()):
                    out.setdefault(h, []).append(("P", 0, 0.0))
        for key, (ws, wm) in target_walks.items():
            for h in by_stop.get(key, ()):
                if key in self.flex.stop_drive:
                    out.setdefault(h, []).append((key, ws, wm))
        return out, dsnap

    def cell_stop_links(self, keys: set) -> dict:
        """stop key -> (cells, walk_s, walk_m) of the cells within walking of it."""
        out = {}
        rows = [self.row_of[k] for k in keys if k in self.row_of]
        if not rows:
            return out
        acc = self.access
        cell_of = np.repeat(np.arange(self.grid.n_cells), np.diff(acc.ptr))
        for r in rows:
            sel = np.nonzero(acc.stop == r)[0]
            out[str(self.stop_keys[r])] = (cell_of[sel], self._walk_s[sel], acc.walk_m[sel])
        return out

    def drive_pts(self, a, b) -> float:
        """Scalar drive seconds between two points given as Snaps (or stop keys)."""
        from mobility.network.flex import FlexService

        sa = self.flex.stop_drive.get(a) if isinstance(a, str) else a
        sb = self.flex.stop_drive.get(b) if isinstance(b, str) else b
        if sa is None or sb is None:
            return math.inf
        dist = self.flex.drive_node_times(self.drive, sa, cache_key=a if isinstance(a, str) else None)
        return float(FlexService.drive_times_to(self.drive, dist, sa, [sb])[0])

    def cells_drive(self, point, to_point: bool) -> np.ndarray:
        """Drive seconds cells -> point (to_point) or point -> cells; point a stop key or a Snap."""
        snap = self.flex.stop_drive.get(point) if isinstance(point, str) else point
        if snap is None:
            return np.full(self.grid.n_cells, np.inf)
        if to_point:
            return drive_cells_to(self.grid, self.drive, snap)
        return drive_cells_from(self.grid, self.drive, self.flex, snap,
                                cache_key=point if isinstance(point, str) else None)

    def _door_cells(self, zone: int) -> np.ndarray:
        cs = cell_drive_snaps(self.grid, self.drive)
        return np.nonzero(zone_mask(self.grid, self.flex.zones[zone]) & (cs.edge >= 0) & self.grid.snapped)[0]

    # -- cell options
    def cell_options(self, targets: list) -> CellOptions:
        """``targets``: [(lat, lon, walk snap, {stop key: (walk_s, walk_m)})] of the target points."""
        to = self.direction == "to"
        flex = self.flex
        rows = []
        maxw = self.opts.max_walk_m
        # cell side: door zones (board zone for "to", alight zone for "from") and walked stops
        by_zone = flex.by_board_zone if to else flex.by_alight_zone
        by_stop = flex.by_board_stop if to else flex.by_alight_stop
        hop_doors: dict[int, list[int]] = {}
        for z, hs in by_zone.items():
            for h in hs:
                hop_doors.setdefault(h, []).append(z)
        links = self.cell_stop_links(set(by_stop))
        for h in range(len(flex.hops)):
            doors = hop_doors.get(h, [])
            walked = [k for k in links if h in by_stop.get(k, ())]
            if not doors and not walked:
                continue
            # via a stop at the other end of the hop
            for s_key in self._stop_ends(h, board_side=not to):
                s_idx = self.tt.stop_index[s_key]
                for z in doors:
                    cells = self._door_cells(z)
                    if not len(cells):
                        continue
                    drv = self.cells_drive(s_key, to_point=to)[cells]
                    self._add_rows(rows, h, cells, drv, 0, s_idx, 0, 0, 0.0)
                for k in walked:
                    if k == s_key:
                        continue
                    cells, ws, wm = links[k]
                    drv = self.drive_pts(k, s_key) if to else self.drive_pts(s_key, k)
                    self._add_rows(rows, h, cells, np.full(len(cells), drv), 0, s_idx,
                                   ws if to else 0, 0 if to else ws, wm)
            # direct to/from the target points
            for lat, lon, _snap, twalks in targets:
                tzone_by = flex.by_alight_zone if to else flex.by_board_zone
                tstop_by = flex.by_alight_stop if to else flex.by_board_stop
                tends, tsnap = self.point_ends(lat, lon, _snap, tzone_by, tstop_by, twalks)
                for tp, tws, twm in tends.get(h, []):
                    tpoint = tsnap if tp == "P" else tp
                    for z in doors:
                        cells = self._door_cells(z)
                        if not len(cells):
                            continue
                        drv = self.cells_drive(tpoint, to_point=to)[cells]
                        self._add_rows(rows, h, cells, drv, 1, -1, 0 if to else tws, tws if to else 0, twm)
                    for k in walked:
                        if k == tp:
                            continue
                        cells, ws, wm = links[k]
                        drv = self.drive_pts(k, tpoint) if to else self.drive_pts(tpoint, k)
                        keep = wm + twm <= maxw
                        pre = ws[keep] if to else np.full(keep.sum(), tws)
                        post = np.full(keep.sum(), tws) if to else ws[keep]
                        self._add_rows(rows, h, cells[keep], np.full(keep.sum(), drv), 1, -1, pre, post,
                                       wm[keep] + twm)
        return CellOptions.build(self.grid.n_cells, rows)

    def _add_rows(self, rows, h, cells, drv, kind, stop, pre, post, walk_m) -> None:
        cells = np.asarray(cells, np.int64)
        n = len(cells)
        drv = np.asarray(drv, float)
        pre = np.broadcast_to(np.asarray(pre, np.int64), (n,))
        post = np.broadcast_to(np.asarray(post, np.int64), (n,))
        walk_m = np.broadcast_to(np.asarray(walk_m, float), (n,))
        ok = np.isfinite(drv)
        if not ok.any():
            return
        dur = self.rides.duration_s(h, drv[ok])
        cells, pre, post, walk_m = cells[ok], pre[ok], post[ok], walk_m[ok]
        for lo, hi in self.rides.pickup_intervals(h, dur):
            f = lo <= hi
            if not f.any():
                continue
            k = int(f.sum())
            rows.append((cells[f], np.full(k, kind), np.full(k, stop), pre[f], post[f], walk_m[f], dur[f], lo[f],
                         hi[f]))

    # -- target side
    def target_seeds(self, targets: list) -> dict:
        """Target-side TAD ("to": egress into the target; "from": access out of it) as extra profile
        seeds: {(lo_run, hi_run): [(stop idx, offset_s, walk_m)]}, runs = door arrivals ("to") /
        departures ("from") for which the ride is feasible with a constant offset."""
        to = self.direction == "to"
        flex = self.flex
        groups: dict = {}
        for lat, lon, snap, twalks in targets:
            tzone_by = flex.by_alight_zone if to else flex.by_board_zone
            tstop_by = flex.by_alight_stop if to else flex.by_board_stop
            tends, tsnap = self.point_ends(lat, lon, snap, tzone_by, tstop_by, twalks)
            for h, ends in tends.items():
                for s_key in self._stop_ends(h, board_side=to):
                    s_idx = self.tt.stop_index[s_key]
                    for tp, tws, twm in ends:
                        tpoint = tsnap if tp == "P" else tp
                        drv = self.drive_pts(s_key, tpoint) if to else self.drive_pts(tpoint, s_key)
                        if not math.isfinite(drv):
                            continue
                        dur = self.rides.duration_s(h, drv)
                        for lo, hi in self.rides.pickup_intervals(h, dur):
                            lo, hi = int(lo), int(hi)
                            if lo > hi:
                                continue
                            if to:  # bus at s by A - off; pickup A - dur - tws in [lo, hi]
                                rng = (lo + dur + tws, hi + dur + tws)
                                off = self.slack + dur + tws
                            else:  # leave the door at d; pickup d + tws in [lo, hi]; at s by d + off
                                rng = (lo - tws, hi - tws)
                                off = tws + dur + self.slack
                            groups.setdefault(rng, []).append((s_idx, off, float(twm)))
        return groups
