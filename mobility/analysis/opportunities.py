"""Cumulative-opportunity accessibility: per origin point (hexagon), how many opportunities are reachable.

Inputs: a point set (:func:`mobility.loaders.points.load_points`: ``id, lat, lon, population, jobs, ...``,
e.g. ``poa_hexgrid.csv``), the opportunity columns (any numeric column: jobs, schools, healthcare), the
cutoffs ``within_min`` (30, 60), the departure window and the percentiles over its departures.

What is computed, for an origin ``o``, a destination ``j`` (a point with opportunities) and the departures
``d_i`` of the window (see :mod:`mobility.analysis.surface`: ``T(o, j, d_i) = EA(o -> j, leaving at d_i) -
d_i``, the planner's earliest arrival door to door, not reached beyond ``limit_min``):

* ``t_p(o, j)``: the nearest-rank percentile ``p`` of ``T(o, j, d_i)`` over the departures (not reached
  counting as +inf) -- per destination first, then counted, as r5's / r5r's ``accessibility`` does;
* cumulative ``A_p,T(o) = sum_j opp_j * [t_p(o, j) <= T]`` for each cutoff ``T`` (``{col}_{T}min_p{p}``);
* with ``decay_per_min = b`` (negative exponential gravity): ``G_p(o) = sum_j opp_j * exp(-b * t_p(o, j)
  / 1 min)`` over the destinations reached within ``limit_min`` (``{col}_gravity_p{p}``).

An origin or destination farther than the planner's door snap from any walkable street is not evaluated
(origin row NaN, status "outside_network"; destination never reached).  ``o`` to itself is the walk from
the door to its street and back, as the planner answers it, so an origin counts its own opportunities.

How: the same range-RAPTOR surfaces as the isochrones (:func:`~mobility.analysis.surface.compute_surface`
on a :func:`~mobility.analysis.grid.point_grid`): one profile per origin ("from", cells = destinations)
or, when there are fewer destinations, one reverse profile per destination ("to", cells = origins) --
the same numbers either way.  The sources are split into picklable :class:`OpportunityJob` chunks run by
an executor of :mod:`mobility.analysis.executors` (in process, process pool, Dask); each job returns its
partial sums and the chunks are added in job order, so every executor gives identical results.

Summaries (:meth:`OpportunityAccess.summary`), population-weighted over the evaluated origins:
``mean`` (opportunities reachable by the average resident), ``share`` (``mean`` / all opportunities).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mobility.errors import InputError
from mobility.i18n import one_of
from mobility.planning.planner import PlanOptions

DEFAULT_WITHIN_MIN = (30, 60)
DEFAULT_CHUNK = 16

_GRIDS: dict[tuple, Any] = {}  # per process: (context key, points digest) -> point grid


@dataclass(frozen=True)
class OpportunityJob:
    """A chunk of sources (rows of ``lat``/``lon``) whose partial sums one worker computes (picklable)."""

    context_key: tuple
    lat: np.ndarray  # every point of the set
    lon: np.ndarray
    origins: np.ndarray  # point rows
    destinations: np.ndarray  # point rows
    weights: np.ndarray  # (n_destinations, n_columns) opportunities
    sources: np.ndarray  # origin positions ("from") or destination positions ("to") of this chunk
    direction: str  # "from": one profile per origin; "to": one per destination
    date: dt.date
    window: tuple[dt.time, dt.time]
    step_min: int
    limit_min: int
    percentiles: tuple[int, ...]
    within_min: tuple[int, ...]
    decay_per_min: float | None
    options: PlanOptions = field(default_factory=PlanOptions)
    modes: str = "transit+tad"


def _point_grid(ctx, key: tuple, lat: np.ndarray, lon: np.ndarray):
    """The point grid of these coordinates, memoised per process (snaps + walking links are the cost)."""
    from mobility.analysis.grid import point_grid

    digest = hashlib.sha1(np.ascontiguousarray(lat).tobytes() + np.ascontiguousarray(lon).tobytes()).hexdigest()
    k = (key, digest)
    if k not in _GRIDS:
        _GRIDS[k] = point_grid(pd.DataFrame({"lat": lat, "lon": lon}), ctx.planner.network)
    return _GRIDS[k]


def _measures(tp: np.ndarray, reached: np.ndarray, within_s: np.ndarray, decay: float | None) -> np.ndarray:
    """(n, n_within + gravity) indicator / weight of each cell for one percentile's times ``tp``."""
    cols = [(reached & (tp <= w)).astype(float) for w in within_s]
    if decay is not None:
        cols.append(np.where(reached, np.exp(-decay * tp / 60.0), 0.0))
    return np.column_stack(cols)


def run_opportunity_job(job: OpportunityJob) -> tuple[np.ndarray, np.ndarray]:
    """(partial sums ``(n_origins, n_columns, n_percentiles, n_measures)``, evaluated origins mask)."""
    from mobility.analysis.executors import worker_context
    from mobility.analysis.surface import UNREACHED, Target, TargetPoint, compute_surface, nearest_rank

    ctx = worker_context(job.context_key)
    per_origin = job.direction == "from"
    cells_rows = job.destinations if per_origin else job.origins
    src_rows = job.origins if per_origin else job.destinations
    grid = _point_grid(ctx, job.context_key, job.lat[cells_rows], job.lon[cells_rows])
    within_s = np.array(job.within_min, np.int64) * 60
    n_meas = len(within_s) + (job.decay_per_min is not None)
    n_o, n_k, n_p = len(job.origins), job.weights.shape[1], len(job.percentiles)
    out = np.zeros((n_o, n_k, n_p, n_meas))
    evaluated = np.zeros(n_o, bool) if per_origin else grid.snapped.copy()
    for s in job.sources:
        row = int(src_rows[s])
        target = Target(f"point {row}", (TargetPoint(float(job.lat[row]), float(job.lon[row])),), "point")
        try:
            surf = compute_surface(ctx, target, job.date, job.window, step_min=job.step_min,
                                   direction=job.direction, limit_min=job.limit_min, percentiles=job.percentiles,
                                   options=job.options, modes=job.modes, grid=grid)
        except InputError:  # the source is off the walk network: not evaluated / never reached
            continue
        for pi, p in enumerate(job.percentiles):
            tp = nearest_rank(surf.times_s, float(p)).astype(np.int64)
            m = _measures(tp, (tp != UNREACHED) & grid.snapped, within_s, job.decay_per_min)
            if per_origin:  # sum over the destinations (the cells)
                out[s, :, pi, :] = job.weights.T @ m
            else:  # this destination's opportunities, to every origin (the cells)
                out[:, :, pi, :] += job.weights[s][None, :, None] * m[:, None, :]
        if per_origin:
            evaluated[s] = True
    return out, evaluated


@dataclass
class OpportunityAccess:
    """Per-origin cumulative (and gravity) opportunities; see the module docstring."""

    points: pd.DataFrame  # the origin points (id, lat, lon, population, ...)
    columns: tuple[str, ...]
    percentiles: tuple[int, ...]
    within_min: tuple[int, ...]
    decay_per_min: float | None
    values: np.ndarray  # (n_origins, n_columns, n_percentiles, n_measures); NaN rows: not evaluated
    totals: np.ndarray  # all opportunities per column
    date: dt.date
    window: tuple[dt.time, dt.time]
    step_min: int
    limit_min: int
    modes: str
    direction: str
    stats: dict = field(default_factory=dict)

    def _names(self):
        for ki, col in enumerate(self.columns):
            for pi, p in enumerate(self.percentiles):
                for wi, w in enumerate(self.within_min):
                    yield f"{col}_{w}min_p{p}", ki, pi, wi, w
                if self.decay_per_min is not None:
                    yield f"{col}_gravity_p{p}", ki, pi, len(self.within_min), None

    def count(self, column: str, within_min: int, percentile: int) -> np.ndarray:
        """Opportunities of ``column`` reachable within ``within_min`` at percentile ``percentile``."""
        return self.values[:, self.columns.index(column), self.percentiles.index(percentile),
                           self.within_min.index(within_min)]

    def to_frame(self) -> pd.DataFrame:
        p = self.points
        df = pd.DataFrame({"id": p["id"].to_numpy(), "lat": p["lat"].to_numpy(), "lon": p["lon"].to_numpy(),
                           "population": p["population"].to_numpy(float) if "population" in p else np.nan})
        df["status"] = np.where(np.isnan(self.values[:, 0, 0, 0]), "outside_network", "evaluated")
        for name, ki, pi, mi, _ in self._names():
            df[name] = self.values[:, ki, pi, mi]
        return df

    def summary(self) -> pd.DataFrame:
        """Population-weighted mean reachable per (column, percentile, cutoff or gravity) and its share."""
        pop = self.points["population"].to_numpy(float) if "population" in self.points else np.ones(len(self.points))
        rows = []
        for name, ki, pi, mi, w in self._names():
            v = self.values[:, ki, pi, mi]
            ok = np.isfinite(v) & (pop > 0)
            mean = float((v[ok] * pop[ok]).sum() / pop[ok].sum()) if ok.any() else float("nan")
            rows.append({"measure": name, "opportunity": self.columns[ki], "percentile": self.percentiles[pi],
                         "within_min": w if w is not None else "gravity", "mean": mean,
                         "share": mean / self.totals[ki] if self.totals[ki] > 0 else float("nan"),
                         "population": float(pop[ok].sum())})
        return pd.DataFrame(rows)

    def write(self, path) -> str:
        """``.csv`` (one row per origin) or ``.gpkg`` (points, layer "access", EPSG:4326)."""
        from pathlib import Path

        path = Path(path)
        df = self.to_frame()
        if path.suffix.lower() == ".gpkg":
            import geopandas as gpd

            w0, w1 = (t.strftime("%H:%M") for t in self.window)
            gdf = gpd.GeoDataFrame(df.assign(date=self.date.isoformat(), window=f"{w0}-{w1}", modes=self.modes),
                                   geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
            gdf.to_file(path, layer="access", driver="GPKG")
        elif path.suffix.lower() == ".csv":
            df.to_csv(path, index=False)
        else:
            raise InputError("err_cli_out_suffix", out=str(path), expected=one_of(".csv", ".gpkg"))
        return str(path)


def opportunity_access(ctx, points: pd.DataFrame, columns, date: dt.date, window, *,
                       within_min=DEFAULT_WITHIN_MIN, percentiles=(50,), step_min: int = 5, limit_min: int = 90,
                       decay_per_min: float | None = None, options: PlanOptions | None = None,
                       modes: str = "transit+tad", origins=None, by: str = "auto", executor=None,
                       chunk: int = DEFAULT_CHUNK, progress: bool = False) -> OpportunityAccess:
    """Cumulative opportunities of ``columns`` of ``points`` from every origin (``origins``: point rows,
    default all).  ``by``: "origin" (a profile per origin), "destination" (per destination) or "auto"
    (the fewer).  ``executor``: see :func:`mobility.analysis.executors.make_executor`."""
    import time

    from mobility.analysis.executors import make_executor, register_context
    from mobility.analysis.surface import window_seconds
    from mobility.loaders.points import weight_column

    t_start = time.perf_counter()
    cols = tuple(str(c).strip().lower() for c in columns)
    if not cols:
        raise InputError("err_opp_no_column")
    within = tuple(int(w) for w in within_min)
    if not within or min(within) <= 0:
        raise InputError("err_opp_cutoffs")
    if max(within) > limit_min:
        raise InputError("err_opp_cutoff_limit", cutoff=max(within), limit=limit_min)
    pcts = tuple(int(p) for p in percentiles)
    if not pcts or min(pcts) < 1 or max(pcts) > 100:
        raise InputError("err_opp_percentiles")
    if decay_per_min is not None and not decay_per_min > 0:
        raise InputError("err_opp_decay")
    if by not in ("auto", "origin", "destination"):
        raise InputError("err_opp_by")
    ctx.planner._check_date(date)
    window_seconds(ctx.planner, date, window)  # the window is valid
    weights_all = np.column_stack([weight_column(points, c) for c in cols])
    dest = np.nonzero(weights_all.sum(axis=1) > 0)[0]
    orig = np.arange(len(points)) if origins is None else np.asarray(origins, np.int64)
    direction = {"origin": "from", "destination": "to"}.get(by, "to" if len(dest) < len(orig) else "from")
    n_src = len(orig) if direction == "from" else len(dest)
    key = register_context(ctx)
    lat, lon = points["lat"].to_numpy(float), points["lon"].to_numpy(float)
    opts = (options or PlanOptions()).validated()
    jobs = [OpportunityJob(key, lat, lon, orig, dest, weights_all[dest], np.arange(a, min(a + chunk, n_src)),
                           direction, date, tuple(window), int(step_min), int(limit_min), pcts, within,
                           decay_per_min, opts, modes) for a in range(0, n_src, chunk)]
    results = make_executor(executor).map(run_opportunity_job, jobs, progress=progress, desc="profiles")
    n_meas = len(within) + (decay_per_min is not None)
    values = np.zeros((len(orig), len(cols), len(pcts), n_meas))
    evaluated = np.zeros(len(orig), bool)
    for part, ev in results:
        values += part
        evaluated = (evaluated | ev) if direction == "from" else ev
    values[~evaluated] = np.nan
    return OpportunityAccess(points.iloc[orig].reset_index(drop=True), cols, pcts, within, decay_per_min, values,
                             weights_all.sum(axis=0), date, tuple(window), int(step_min), int(limit_min), modes,
                             direction, {"sources": n_src, "jobs": len(jobs), "total_s": time.perf_counter() - t_start})
