"""Scenarios: add or remove service sites or lines, and compare with the baseline.

Scenario file (GeoJSON FeatureCollection or CSV), one change per feature / row:

* ``action`` = ``add`` | ``remove``; ``kind`` = ``site`` | ``line`` | ``zone``;
* add site: ``id`` (optional), ``name``, ``categories`` ("france_services;caf"), a Point geometry (or
  ``lat``/``lon`` columns);
* remove site: ``id`` (a site of the catalogue);
* remove line: ``id`` = the GTFS ``route_id`` (or its short name): its trips are removed from the
  timetable of the day (exact);
* add line, add/remove TAD zone: not supported yet (InputError) -- adding a line needs a timetable
  (stop sequence + times), TAD zones need on-demand legs in the surfaces.

Site changes are exact: the category's target set gains / loses the site.  A surface with an added
site is never worse at any cell (the earliest arrival is a minimum over more sites).

:func:`compare` runs baseline and scenario surfaces (through an executor) per category and reports,
per threshold, the population gaining / losing access (median travel time within the threshold), and
per cell the difference (map: :func:`mobility.analysis.maps.render_difference`).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.errors import InputError


@dataclass(frozen=True)
class Change:
    action: str
    kind: str
    id: str = ""
    name: str = ""
    categories: tuple[str, ...] = ()
    lat: float = float("nan")
    lon: float = float("nan")

    def describe(self) -> str:
        what = self.name or self.id
        return f"{self.action} {self.kind} {what}".strip()


def _change(props: dict, lat=None, lon=None, where: str = "") -> Change:
    action = str(props.get("action", "")).strip().lower()
    kind = str(props.get("kind", "site")).strip().lower() or "site"
    if action not in ("add", "remove"):
        raise InputError(f"scenario {where}: action must be 'add' or 'remove', not {action!r}")
    if kind not in ("site", "line", "zone"):
        raise InputError(f"scenario {where}: kind must be 'site', 'line' or 'zone', not {kind!r}")
    cats = tuple(c.strip() for c in str(props.get("categories") or "").split(";") if c.strip())
    lat = float(props["lat"]) if lat is None and props.get("lat") not in (None, "") else lat
    lon = float(props["lon"]) if lon is None and props.get("lon") not in (None, "") else lon
    ch = Change(action, kind, str(props.get("id") or props.get("route_id") or "").strip(),
                str(props.get("name") or "").strip(), cats,
                float("nan") if lat is None else float(lat), float("nan") if lon is None else float(lon))
    if kind == "zone" or (kind == "line" and action == "add"):
        raise InputError(f"scenario {where}: '{action} {kind}' is not supported yet (sites add/remove and "
                         "line removal are)")
    if kind == "site" and action == "add":
        if not cats or not np.isfinite(ch.lat) or not np.isfinite(ch.lon):
            raise InputError(f"scenario {where}: an added site needs categories and a position")
    if action == "remove" and not ch.id:
        raise InputError(f"scenario {where}: a removal needs an id")
    return ch


def load_scenario(path: str | Path) -> tuple[Change, ...]:
    path = Path(path)
    if not path.exists():
        raise InputError(f"scenario file not found: {path}")
    changes = []
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            feats = json.loads(path.read_text(encoding="utf-8"))["features"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}: not a GeoJSON FeatureCollection ({exc})") from None
        for i, f in enumerate(feats, 1):
            geom = f.get("geometry") or {}
            lat = lon = None
            if geom.get("type") == "Point":
                lon, lat = geom["coordinates"][:2]
            changes.append(_change(f.get("properties") or {}, lat, lon, f"feature {i}"))
    else:
        with open(path, newline="", encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh), 2):
                changes.append(_change(row, None, None, f"line {i}"))
    if not changes:
        raise InputError(f"{path}: no change in the scenario")
    return tuple(changes)


def affected_categories(ctx, changes) -> list[str]:
    cats: list[str] = []
    for c in changes:
        if c.kind != "site":
            continue
        site_cats = c.categories if c.action == "add" else ctx.catalogue.get(c.id).categories
        cats += [k for k in site_cats if k not in cats]
    return cats


def scenario_inputs(ctx, changes, target, date: dt.date, options):
    """(Target with the site changes applied, timetable with the line changes or None)."""
    from mobility.analysis.surface import Target, TargetPoint, resolve_target

    base = resolve_target(ctx, target)
    points = list(base.points)
    for c in changes:
        if c.kind != "site":
            continue
        if c.action == "remove":
            ctx.catalogue.get(c.id)  # NotFoundError if unknown
            points = [p for p in points if p.site_id != c.id]
        elif base.kind == "category" and base.category in c.categories or base.kind == "site" and c.id == \
                (base.points[0].site_id if base.points else ""):
            points.append(TargetPoint(c.lat, c.lon, c.id or f"new:{c.name}", c.name or "new site"))
    new_target = base.with_points(points)
    removed = {c.id for c in changes if c.kind == "line" and c.action == "remove"}
    tt = None
    if removed:
        tt0 = ctx.planner.network.timetable(date, walk_speed_mps=options.walk_speed_mps,
                                            max_walk_m=options.max_walk_m, min_transfer_s=options.min_transfer_s)
        tt = without_routes(tt0, removed)
    return new_target, tt


def without_routes(tt, route_ids: set[str]):
    """A copy of a forward timetable where the routes (GTFS route_id or short name) carry nobody."""
    hit = {i for i, (rid, short) in enumerate(zip(tt.route_orig_ids, tt.route_short_names))
           if rid in route_ids or short in route_ids or tt.route_ids[i] in route_ids}
    if not hit:
        raise InputError(f"unknown line(s) {sorted(route_ids)}: route_id or short name of the timetable expected")
    pats = np.isin(tt.pattern_route, list(hit))
    mask = np.repeat(pats, np.diff(tt.pattern_stop_ptr))
    board = tt.pattern_can_board.copy()
    alight = tt.pattern_can_alight.copy()
    board[mask] = 0
    alight[mask] = 0
    return replace(tt, pattern_can_board=board, pattern_can_alight=alight)


@dataclass
class ScenarioResult:
    category: str
    baseline: object  # Surface
    scenario: object  # Surface
    table: pd.DataFrame  # per threshold: population gaining / losing access


def difference_table(base, scen, thresholds_min=(15, 30, 45, 60), stat: str = "p50") -> pd.DataFrame:
    pop = base.grid.population
    a, b = base.stat_min(stat), scen.stat_min(stat)
    rows = []
    for t in thresholds_min:
        ina = np.nan_to_num(a, nan=np.inf) <= t
        inb = np.nan_to_num(b, nan=np.inf) <= t
        rows.append({"threshold_min": t, "population_baseline": round(float(pop[ina].sum())),
                     "population_scenario": round(float(pop[inb].sum())),
                     "population_gaining": round(float(pop[inb & ~ina].sum())),
                     "population_losing": round(float(pop[ina & ~inb].sum()))})
    return pd.DataFrame(rows)


def compare(ctx, changes, date: dt.date, window, *, categories=None, step_min: int = 5, cell_m: float = 200.0,
            limit_min: int = 90, percentile: int = 50, thresholds_min=(15, 30, 45, 60), options=None,
            executor=None, progress: bool = False) -> list[ScenarioResult]:
    """Baseline vs scenario for each category (default: the categories of the changed sites)."""
    from mobility.analysis.executors import SurfaceJob, register_context, run_jobs
    from mobility.planning.planner import PlanOptions

    cats = list(categories or affected_categories(ctx, changes))
    if not cats:
        raise InputError("the scenario changes no site: name the categories to compare (--category)")
    key = register_context(ctx)
    opts = options or PlanOptions()
    jobs = []
    for cat in cats:
        for scen in ((), tuple(changes)):
            jobs.append(SurfaceJob(key, cat, date, tuple(window), step_min, "to", cell_m, limit_min, (int(percentile),),
                                   opts, scen, cat))
    res = run_jobs(jobs, executor, progress=progress, desc="scenario surfaces")
    out = []
    stat = f"p{int(percentile)}"
    for i, cat in enumerate(cats):
        base, scen = res[2 * i].surface(ctx), res[2 * i + 1].surface(ctx)
        out.append(ScenarioResult(cat, base, scen, difference_table(base, scen, thresholds_min, stat)))
    return out
