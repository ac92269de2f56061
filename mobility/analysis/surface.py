"""Travel-time surfaces over the grid: to (or from) a service site, a category of sites or a point.

What is computed (all times in seconds, local feed time, on one service date)
    Departures ``d_i = t0 + i * step`` for ``t0 <= d_i <= t1`` (the window, both ends included).  For a
    cell ``c`` (evaluated at its centre, like a door in the planner):

    * ``direction="to"`` (arrive at the target -- the usual question for services):
      ``T(c, d) = EA(c -> target, leaving at d) - d``, EA being the earliest arrival at the target door
      (for a category: at the *nearest in time* of its sites, i.e. min over the sites), exactly what
      ``ctx.planner.plan(cell, site, d)`` returns (the earliest arrival among its itineraries,
      walk-only included).
    * ``direction="from"``: ``T(c, d) = EA(target -> c, leaving at d) - d``.

    ``T(c, d) > limit`` counts as *not reached* (no service within the limit); walking alone is an
    option only within the planner's walking limit (``max_walk_m``, 2 km by default), so a cell far
    from any bus is reported as not served, never given a walking time.

    *Planned departure* variant ``P(c, d)``: the duration (arrival - latest departure from the door) of
    the earliest-arriving journey for ``d``, counted when that journey leaves within the window or
    ``T(c, d)`` is within the limit, or the walk if shorter.  It leaves out the initial wait at the
    door (what a traveller who times their departure experiences): a village with one bus at 08:40
    taking 25 min shows 25 min for every departure 08:00-08:40, whereas ``T`` shows 65 min at 08:00.
    ``P <= T`` whenever ``T`` is within the limit.

How (cost grows with targets, not cells)
    One range-RAPTOR profile search (:mod:`mobility.routing.range_raptor`) from the target's stops:
    reverse for "to" (runs = arrivals at the target in ``[t0, t1 + limit]``), forward for "from"
    (runs = departures from the target in ``[t0, t1 + limit]``).  It yields, per stop, every
    (departure, arrival, walk) journey that can be optimal.  A numba pass then combines, for every
    cell, its walking links to stops (:mod:`mobility.analysis.grid`) with those entries under the
    total walking budget, buckets them by departure slot and takes suffix minima: ``EA(c, d_i)`` for
    all i at once.

Statistics per cell over the D departures: minimum, nearest-rank percentiles (the value at rank
``ceil(p/100 * D)`` of the sorted times, not-reached counting as +inf, so a percentile is NaN when more
than ``100 - p`` % of the departures miss the limit), share of departures reached within the limit.

Modes (``modes=``): ``"transit+tad"`` (default) adds on-demand transport (TAD) exactly like the planner
(door -> hub by TAD then bus, bus then hub -> door, direct rides; at most one TAD leg), assuming every
ride is booked in time -- see :mod:`mobility.analysis.tad`; the reference is ``ctx.planner.plan`` with a
booking made the day before.  ``"transit"``: public transport + walking only (``allow_tad=False``).
Step-free (wheelchair) surfaces are not offered.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from numba import njit

from mobility.errors import InputError, NotFoundError
from mobility.i18n import day_text, message
from mobility.analysis.grid import DEFAULT_CELL_M, Grid, build_grid
from mobility.planning.planner import DOOR_SNAP_MAX_M, PlanOptions, parse_latlon
from mobility.analysis.tad import DEFAULT_MODES, check_modes, modes_label
from mobility.routing.range_raptor import StopProfile, merge_profiles, profile_from, profile_to

#: "not reached within the limit" in the per-departure int32 arrays
UNREACHED = np.int32(2**31 - 1)
_INF = np.int64(1) << np.int64(62)
DEFAULT_PERCENTILES = (5, 25, 50)
DEFAULT_LIMIT_MIN = 90


# ------------------------------------------------------------------------------------------------ targets

@dataclass(frozen=True)
class TargetPoint:
    lat: float
    lon: float
    site_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class Target:
    """What a surface is computed to/from: one or several points (a category = its active sites)."""

    label: str
    points: tuple[TargetPoint, ...]
    kind: str  # "site" | "category" | "point"
    category: str = ""

    def with_points(self, points) -> "Target":
        return replace(self, points=tuple(points))


def resolve_target(ctx, spec: "str | Target | tuple[float, float]") -> Target:
    """A site id (``svc-001``), a category (key or free text: "france_services", "CAF") or 'LAT,LON'."""
    if isinstance(spec, Target):
        return spec
    if isinstance(spec, tuple):
        lat, lon = float(spec[0]), float(spec[1])
        return Target(f"{lat:.5f}, {lon:.5f}", (TargetPoint(lat, lon, "", "point"),), "point")
    text = str(spec).strip()
    try:
        site = ctx.catalogue.get(text)
        return Target(site.name, (TargetPoint(site.lat, site.lon, site.id, site.name),), "site")
    except NotFoundError:
        pass
    try:
        lat, lon = parse_latlon(text)
        return Target(f"{lat:.5f}, {lon:.5f}", (TargetPoint(lat, lon, "", "point"),), "point")
    except InputError:
        pass
    from mobility.domain.categories import category_label, resolve_category

    key = resolve_category(text)  # NotFoundError listing the categories
    sites = ctx.catalogue.by_category(key, active_only=True)
    if not sites:
        raise NotFoundError("err_no_active_site_of_category", key=key)
    return Target(category_label(key), tuple(TargetPoint(s.lat, s.lon, s.id, s.name) for s in sites),
                  "category", key)


# ------------------------------------------------------------------------------------------------ caches

def analysis_cache(ctx) -> dict:
    """Per-context memo (grids by size, stop-key maps)."""
    cache = getattr(ctx, "_analysis_cache", None)
    if cache is None:
        cache = {}
        setattr(ctx, "_analysis_cache", cache)
    return cache


def grid_for(ctx, cell_m: float = DEFAULT_CELL_M, weighting: str = "addresses") -> Grid:
    if ctx.communes is None or not len(ctx.communes):
        raise InputError("err_surface_needs_communes")
    cache = analysis_cache(ctx)
    points = getattr(ctx, "population_points", None)
    key = ("grid", float(cell_m), weighting, points is not None)
    if key not in cache:
        cache[key] = build_grid(ctx.communes, ctx.planner.network, float(cell_m), weighting=weighting,
                                population_points=points)
    return cache[key]


def first_service_weekday(network) -> dt.date:
    """The first Monday-Friday of the feeds' service range on which every feed runs some service (else on
    which any does; else the range's first day): the default date of the analytics on feeds other than the
    embedded ones.  With several feeds (buses + metro) the day must have them all, not only the one whose
    calendar starts first."""
    rng = network.service_range()
    if rng is None:
        raise InputError("err_timetable_no_service_day")
    days = [rng[0] + dt.timedelta(days=i) for i in range((rng[1] - rng[0]).days + 1)]
    weekdays = [d for d in days if d.weekday() < 5]
    for need in (all, any):
        for day in weekdays:
            if need(bool(f.active_service_ids(day)) for f in network.feeds):
                return day
    return rng[0]


def window_seconds(planner, day: dt.date, window: tuple[dt.time, dt.time]) -> tuple[int, int]:
    """Window bounds in seconds since the service-day origin of ``day``."""
    out = [planner.axis.seconds(dt.datetime.combine(day, t), day) for t in window]
    if out[1] < out[0]:
        raise InputError("err_window_reversed")
    return out[0], out[1]


# ------------------------------------------------------------------------------------------------ kernel

@njit(cache=True)
def _bucket(M, P, dep, arr, d0, step, D):
    if dep < d0:
        return
    i = (dep - d0) // step
    if i >= D:
        i = D - 1
    if arr < M[i] or (arr == M[i] and dep > P[i]):
        M[i] = arr
        P[i] = dep


@njit(cache=True)
def _combine(prof_ptr, prof_dep, prof_arr, prof_walk, acc_ptr, acc_stop, acc_walk_s, acc_walk_m, walk_only_s,
             p0_ptr, p0_dep, p0_arr, p0_walk, opt_ptr, opt_kind, opt_stop, opt_pre, opt_post, opt_walk, opt_dur,
             opt_lo, opt_hi, slack, to_dir, d0, step, D, d_end, max_walk, limit_s):
    n = acc_ptr.shape[0] - 1
    big = np.int64(1) << np.int64(62)
    times = np.full((n, D), 2**31 - 1, np.int32)
    planned = np.full((n, D), 2**31 - 1, np.int32)
    M = np.empty(D, np.int64)
    P = np.empty(D, np.int64)
    for c in range(n):
        for i in range(D):
            M[i] = big
            P[i] = -big
        # walk to / from the stops: the full profile (plain + target-side TAD)
        for a in range(acc_ptr[c], acc_ptr[c + 1]):
            s = acc_stop[a]
            if s < 0:
                continue
            ws = acc_walk_s[a]
            wm = acc_walk_m[a]
            for e in range(prof_ptr[s], prof_ptr[s + 1]):
                if prof_walk[e] + wm > max_walk:
                    continue
                if to_dir:
                    _bucket(M, P, prof_dep[e] - ws, prof_arr[e], d0, step, D)
                else:
                    _bucket(M, P, prof_dep[e], prof_arr[e] + ws, d0, step, D)
        # cell-side TAD via a stop: the plain profile only (at most one TAD leg)
        for o in range(opt_ptr[c], opt_ptr[c + 1]):
            if opt_kind[o] != 0:
                continue
            s = opt_stop[o]
            dur = opt_dur[o]
            lo = opt_lo[o]
            hi = opt_hi[o]
            for e in range(p0_ptr[s], p0_ptr[s + 1]):
                if p0_walk[e] + opt_walk[o] > max_walk:
                    continue
                if to_dir:  # door -> TAD -> s, board the profile's first vehicle at p0_dep
                    q = min(hi, p0_dep[e] - slack - dur)
                    if q < lo:
                        continue
                    _bucket(M, P, q - opt_pre[o], p0_arr[e], d0, step, D)
                else:  # profile to s, then TAD -> door
                    p = max(p0_arr[e] + slack, lo)
                    if p > hi:
                        continue
                    _bucket(M, P, p0_dep[e], p + dur + opt_post[o], d0, step, D)
        for i in range(D - 2, -1, -1):
            if M[i + 1] < M[i] or (M[i + 1] == M[i] and P[i + 1] > P[i]):
                M[i] = M[i + 1]
                P[i] = P[i + 1]
        w = walk_only_s[c]
        for i in range(D):
            d = d0 + i * step
            ma = M[i]
            pa = P[i]
            # direct TAD rides (continuous service inside the window)
            for o in range(opt_ptr[c], opt_ptr[c + 1]):
                if opt_kind[o] != 1:
                    continue
                p = max(d + opt_pre[o], opt_lo[o])
                if p > opt_hi[o]:
                    continue
                arr = p + opt_dur[o] + opt_post[o]
                dep = p - opt_pre[o]
                if arr < ma or (arr == ma and dep > pa):
                    ma = arr
                    pa = dep
            best = big
            pl = big
            if ma < big:
                best = ma - d
                if pa <= d_end or best <= limit_s:
                    pl = ma - pa
            if w >= 0:
                if w < best:
                    best = w
                if w < pl:
                    pl = w
            if best <= limit_s:
                times[c, i] = best
            if pl <= limit_s:
                planned[c, i] = pl
    return times, planned


# ------------------------------------------------------------------------------------------------ surface

@dataclass(eq=False)
class Surface:
    """Per-cell, per-departure travel times; see the module docstring.  ``times_s[c, i]`` /
    ``planned_s[c, i]`` are int32 seconds, :data:`UNREACHED` when beyond ``limit_min``."""

    grid: Grid
    target: Target
    direction: str
    date: dt.date
    window: tuple[dt.time, dt.time]
    step_min: int
    limit_min: int
    options: PlanOptions
    departures_s: np.ndarray
    times_s: np.ndarray
    planned_s: np.ndarray
    walk_only_s: np.ndarray  # -1 where walking alone is beyond the limit
    percentiles: tuple[int, ...] = DEFAULT_PERCENTILES
    scenario: str = ""
    stats: dict = field(default_factory=dict)
    modes: str = DEFAULT_MODES

    @property
    def n_departures(self) -> int:
        return len(self.departures_s)

    # -- statistics (minutes, NaN = not reached / outside the network)
    def stat_min(self, name: str) -> np.ndarray:
        """``"min"``, ``"p50"`` (any percentile), ``"planned_min"``, ``"planned_p50"`` in minutes."""
        planned = name.startswith("planned_")
        base = name[len("planned_"):] if planned else name
        arr = self.planned_s if planned else self.times_s
        if base == "min":
            v = arr.min(axis=1)
        elif base.startswith("p"):
            v = nearest_rank(arr, float(base[1:]))
        else:
            raise InputError("err_unknown_statistic", name=repr(name))
        out = v.astype(float) / 60.0
        out[v == UNREACHED] = np.nan
        out[~self.grid.snapped] = np.nan
        return out

    def share_reached(self) -> np.ndarray:
        """Share of the departures reaching the target within the limit (0..1; NaN outside the network)."""
        out = (self.times_s != UNREACHED).mean(axis=1)
        out[~self.grid.snapped] = np.nan
        return out

    def status(self) -> np.ndarray:
        """'outside_network' (centre > 500 m from any walkable way), 'no_service' (no departure of the
        window reaches within the limit), 'walk' (walking is the best for every departure), 'served'."""
        out = np.full(self.grid.n_cells, "served", dtype=object)
        reached = (self.times_s != UNREACHED).any(axis=1)
        out[~reached] = "no_service"
        walk_best = (self.walk_only_s >= 0) & np.all(self.times_s == self.walk_only_s[:, None], axis=1)
        out[reached & walk_best] = "walk"
        out[~self.grid.snapped] = "outside_network"
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: centre, commune, population, status, min/percentiles/share, planned."""
        g = self.grid
        df = pd.DataFrame({"cell": np.arange(g.n_cells), "lat": g.lat, "lon": g.lon, "population": g.population,
                           "status": self.status(), "min_min": self.stat_min("min")})
        for p in self.percentiles:
            df[f"p{p:g}_min"] = self.stat_min(f"p{p:g}")
        df["share_reached"] = self.share_reached()
        df["planned_min_min"] = self.stat_min("planned_min")
        df["planned_p50_min"] = self.stat_min("planned_p50")
        df["walk_min"] = np.where(self.walk_only_s >= 0, self.walk_only_s / 60.0, np.nan)
        return df

    def describe(self, stat: str = "p50", lang: str = "en") -> str:
        """'to Sous-préfecture - Tuesday 1 December 2026, departures 08:00–09:00 every 15 min - ...' in
        ``lang`` (the words of the map captions)."""
        w0, w1 = (t.strftime("%H:%M") for t in self.window)
        what = message("map_from" if self.direction == "from" else "map_to", lang)
        return (f"{what} {self.target.label} - {day_text(self.date, lang)}, "
                f"{message('map_departures', lang, w0=w0, w1=w1, step=self.step_min)} - "
                f"{modes_label(self.modes, lang)} - {stat_label(stat, lang)}")


def stat_label(stat: str, lang: str = "en") -> str:
    """'median (p50) travel time' / 'médiane (p50) du temps de trajet' (the statistic of a surface)."""
    planned = stat.startswith("planned_")
    base = stat[len("planned_"):] if planned else stat
    text = (message("map_minimum", lang) if base == "min" else message("map_median", lang) if base == "p50"
            else message("map_percentile", lang, n=base[1:]))
    return text + message("map_of_time", lang) + (message("map_planned", lang) if planned else "")


def nearest_rank(values: np.ndarray, p: float) -> np.ndarray:
    """Nearest-rank percentile along axis 1 (values int, UNREACHED = +inf)."""
    D = values.shape[1]
    rank = max(1, int(math.ceil(p / 100.0 * D))) - 1
    return np.partition(values, rank, axis=1)[:, rank]


def _stop_rows_to_tt(network, tt) -> np.ndarray:
    keys = network.stops["stop_key"].tolist()
    return np.array([tt.stop_index.get(k, -1) for k in keys], np.int64)


def target_stops(planner, tt, target: Target, options: PlanOptions, per_point: list | None = None):
    """(tt stop, walk_s, walk_m) of every target point, concatenated, and the target snaps.
    ``per_point``: filled with (lat, lon, snap, {stop key: (walk_s, walk_m)}) per snapped point."""
    stops, secs, metres, snaps = [], [], [], []
    for pt in target.points:
        snap = planner.network.walk.link(pt.lat, pt.lon, DOOR_SNAP_MAX_M)  # linked as the planner links a door
        if not snap:
            continue
        snaps.append(snap)
        s, ws, wm = planner._stop_walks(snap, tt, options)
        stops.append(s)
        secs.append(ws)
        metres.append(wm)
        if per_point is not None:
            per_point.append((pt.lat, pt.lon, snap,
                              {tt.stop_ids[i]: (int(a), float(b)) for i, a, b in zip(s, ws, wm)}))
    if not snaps:
        raise InputError("err_target_far_from_street", label=target.label, dist=f"{DOOR_SNAP_MAX_M:.0f}")
    return (np.concatenate(stops), np.concatenate(secs), np.concatenate(metres)), snaps


def compute_surface(ctx, target, date: dt.date, window: tuple[dt.time, dt.time], *, step_min: int = 5,
                    direction: str = "to", cell_m: float = DEFAULT_CELL_M, limit_min: int = DEFAULT_LIMIT_MIN,
                    percentiles=DEFAULT_PERCENTILES, options: PlanOptions | None = None,
                    timetable=None, weighting: str = "addresses", scenario: str = "",
                    modes: str = DEFAULT_MODES, planner=None, flex=None, access=None,
                    grid: Grid | None = None) -> Surface:
    """The travel-time surface of ``target`` (see :func:`resolve_target`) on ``date`` for departures in
    ``window`` every ``step_min`` minutes.  ``modes``: ``"transit+tad"`` (default) or ``"transit"``.

    Scenarios: ``timetable`` (a modified timetable), ``planner`` (a planner over a scenario network with
    extra stops; ``access`` then gives the cells' walking links to its stops), ``flex`` (a scenario
    on-demand offer).  ``grid``: the cells to evaluate (default: the context's square grid of ``cell_m``;
    e.g. :func:`mobility.analysis.grid.point_grid`)."""
    import time as _time

    t_start = _time.perf_counter()
    if direction not in ("to", "from"):
        raise InputError("err_direction")
    if step_min < 1:
        raise InputError("err_step_min")
    modes = check_modes(modes)
    opts = (options or PlanOptions()).validated()
    opts = replace(opts, allow_tad=(modes == "transit+tad"))
    planner = planner or ctx.planner
    net = planner.network
    target = resolve_target(ctx, target)
    planner._check_date(date)
    if grid is None:
        grid = grid_for(ctx, cell_m, weighting)
    if access is None:
        access = grid.access(net, opts.max_walk_m)
    tt = timetable if timetable is not None else net.timetable(
        date, walk_speed_mps=opts.walk_speed_mps, max_walk_m=opts.max_walk_m, min_transfer_s=opts.min_transfer_s)
    t0, t1 = window_seconds(planner, date, window)
    step = int(step_min) * 60
    departures = np.arange(t0, t1 + 1, step, dtype=np.int64)
    limit_s = int(limit_min) * 60
    per_point: list = []
    cands, snaps = target_stops(planner, tt, target, opts, per_point)
    rounds = opts.max_transfers + 1
    flex = flex if flex is not None else net.flex
    use_tad = modes == "transit+tad" and bool(flex) and net.drive is not None
    layer = None
    if use_tad:
        from mobility.analysis.tad import TadLayer

        layer = TadLayer(net, flex, grid, access, tt, date, planner.tz, opts, direction)
    t_prep = _time.perf_counter()
    kw = dict(min_transfer_s=opts.min_transfer_s, max_walk_m=opts.max_walk_m, max_duration_s=limit_s)
    if direction == "to":
        prof = profile_to(tt, cands, t0, t1 + limit_s, rounds, earliest_departure_s=t0, **kw)
    else:
        prof = profile_from(tt, cands, t0, t1 + limit_s, rounds, **kw)
    full = prof
    n_seed_groups = 0
    if layer is not None:
        extra = []
        for (lo_r, hi_r), seeds in layer.target_seeds(per_point).items():
            a, b = max(t0, lo_r), min(t1 + limit_s, hi_r)
            if a > b:
                continue
            src = (np.array([x[0] for x in seeds], np.int64), np.array([x[1] for x in seeds], np.int64),
                   np.array([x[2] for x in seeds], np.float64))
            runs = [lo_r] if lo_r > t0 else None
            if direction == "to":
                extra.append(profile_to(tt, src, a, b, rounds, earliest_departure_s=t0, extra_runs_s=runs, **kw))
            else:
                extra.append(profile_from(tt, src, a, b, rounds, extra_runs_s=runs, **kw))
            n_seed_groups += 1
        if extra:
            full = merge_profiles([prof, *extra])
    t_prof = _time.perf_counter()
    if layer is not None:
        opt = layer.cell_options(per_point)
    else:
        from mobility.analysis.tad import CellOptions

        opt = CellOptions.build(grid.n_cells, [])
    t_tad = _time.perf_counter()
    walk_m = np.full(grid.n_cells, np.inf)
    for snap in snaps:
        walk_m = np.minimum(walk_m, grid.walk_to_point_m(net, snap, opts.max_walk_m))
    walk_s = np.where(np.isfinite(walk_m), np.ceil(walk_m / opts.walk_speed_mps), -1).astype(np.int64)
    row_to_tt = _stop_rows_to_tt(net, tt)
    acc_stop = row_to_tt[access.stop]
    times, planned = _combine(full.ptr, full.dep_s, full.arr_s, full.walk_m, access.ptr, acc_stop,
                              access.walk_s(opts.walk_speed_mps), access.walk_m, walk_s,
                              prof.ptr, prof.dep_s, prof.arr_s, prof.walk_m, opt.ptr, opt.kind, opt.stop,
                              opt.pre_s, opt.post_s, opt.walk_m, opt.dur_s, opt.lo, opt.hi,
                              int(opts.min_transfer_s), direction == "to",
                              int(t0), step, len(departures), int(t1), float(opts.max_walk_m), limit_s)
    t_end = _time.perf_counter()
    stats = {"runs": full.n_runs, "profile_entries": full.n_entries, "route_scans": full.n_scans,
             "tad_cell_options": opt.n, "tad_target_profiles": n_seed_groups,
             "prepare_s": t_prep - t_start, "profile_s": t_prof - t_prep, "tad_s": t_tad - t_prof,
             "combine_s": t_end - t_tad, "total_s": t_end - t_start}
    return Surface(grid, target, direction, date, tuple(window), int(step_min), int(limit_min), opts, departures,
                   times, planned, walk_s, tuple(int(p) for p in percentiles), scenario, stats, modes)


def parse_window(text: str) -> tuple[dt.time, dt.time]:
    """'08:00-10:00' -> (time(8), time(10))."""
    try:
        a, b = text.replace("–", "-").split("-")
        return dt.time.fromisoformat(a.strip()), dt.time.fromisoformat(b.strip())
    except ValueError:
        raise InputError("err_not_a_window", text=text) from None
