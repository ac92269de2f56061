"""Command line of the planner analytics: ``mobility isochrone``, ``mobility access``, ``mobility scenario``.

Examples::

    mobility isochrone --to france_services --date 2026-12-01 --window 08:00-10:00 --out map.png
    mobility isochrone --to france_services --out map.png --lang en --map-size large   # every commune named
    mobility isochrone --from 50.7500,2.2520 --date 2026-12-01 --window 08:00-10:00 --step-min 1 --out iso.gpkg
    mobility access --category france_services --date 2026-12-01 --window 08:00-10:00 --out table.csv
    mobility access --category france_services --no-tad          # public transport only (default: + TAD)
    mobility scenario new_site.geojson --date 2026-12-01 --window 08:00-10:00 --out diff.png --dask tcp://h:8786
    mobility scenario data/scenarios/ligne_eperlecques_tad_plateau.geojson --category france_services

Modes: by default public transport, walking and on-demand transport (TAD), every TAD ride assumed booked in
advance ("transport public et TAD (réservé à l'avance)", said in the outputs); ``--no-tad``: without TAD.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

DEFAULT_DATE = "2026-12-01"  # a school-term Tuesday of the embedded timetable

SCENARIO_HELP = """Add or remove service sites, lines or TAD zones and report the difference against the baseline
(population gaining / losing access within each threshold, per category; difference map with --out).
Modes: public transport + TAD, every TAD ride assumed booked in advance (--no-tad: public transport only).

Scenario file: GeoJSON FeatureCollection (one change per feature) or CSV (one per row), properties:
  action=add|remove, kind=site|line|tad_zone, id, name
  add site      categories="france_services;caf" + Point geometry (CSV: lat, lon)
  remove site   id=<site id>
  remove line   id=<GTFS route_id or short name>
  add line      stops="STOP_ID; LAT LON; ..." in order (existing stop ids or new stops), or a LineString
                whose vertices are new stops; stop_names; headway_min (30); first/last departure
                ("06:30"/"19:30", both directions); weekdays ("mon-fri"); speed_kmh (25, commercial speed
                on the drive-network distance between stops); short_name; route_type (3)
  add tad_zone  Polygon geometry (CSV: wkt); hubs="STOP_ID;..." or hub_site=<site id>; window
                ("07:00-19:00"); weekdays ("mon-fri"); internal (true: rides inside the zone too);
                duration_factor (1.5), duration_offset_min (5); booking_type (2), prior_notice_last_day
                (1), prior_notice_last_time ("17:00")
  remove tad_zone id=<zone location id, key or name>

Example:
  mobility scenario data/scenarios/ligne_eperlecques_tad_plateau.geojson --category france_services \\
      --category mairie --date 2026-12-01 --window 08:00-10:00 --out diff.png --csv diff.csv
"""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _window(text: str):
    from mobility.analysis.surface import parse_window
    from mobility.errors import InputError

    try:
        return parse_window(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--date", type=_date, default=_date(DEFAULT_DATE), help=f"service date (default {DEFAULT_DATE})")
    p.add_argument("--window", type=_window, default=_window("08:00-10:00"), help="departures HH:MM-HH:MM (08:00-10:00)")
    p.add_argument("--step-min", type=int, default=5, help="minutes between departures in the window (5)")
    p.add_argument("--cell-m", type=float, default=200.0, help="grid cell size in metres (200)")
    p.add_argument("--limit-min", type=int, default=90, help="longer trips count as 'no service' (90)")
    p.add_argument("--max-walk-m", type=float, default=2000.0, help="most walking in total, metres (2000)")
    p.add_argument("--walk-speed-mps", type=float, default=1.2, help="walking speed, m/s (1.2)")
    p.add_argument("--max-transfers", type=int, default=3, help="most changes of vehicle (3)")
    p.add_argument("--min-transfer-s", type=int, default=120, help="least time to change vehicle, s (120)")
    p.add_argument("--services", metavar="PATH", help="service sites CSV/GeoJSON (default: embedded)")
    p.add_argument("--communes", metavar="PATH", help="commune areas GeoJSON (default: embedded)")
    p.add_argument("--no-tad", action="store_true",
                   help="public transport + walking only (default: with on-demand TAD, every ride assumed "
                        "booked in advance)")


def _map_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=["fr", "en"], default="fr", help="language of the map's text (fr)")
    p.add_argument("--map-size", choices=["standard", "large"], default="standard",
                   help="PNG map size: standard (names of the main towns) or large (every commune named)")


def _executor_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--dask", metavar="ADDRESS", help="run the batch on a Dask scheduler (tcp://host:8786)")
    g.add_argument("--workers", type=int, metavar="N", help="run the batch on N local processes")


def _executor(args):
    if getattr(args, "dask", None):
        return args.dask
    if getattr(args, "workers", None):
        return f"processes:{args.workers}"
    return None


def _options(args):
    from mobility.planning.planner import PlanOptions

    return PlanOptions(walk_speed_mps=args.walk_speed_mps, max_walk_m=args.max_walk_m,
                       min_transfer_s=args.min_transfer_s, max_transfers=args.max_transfers).validated()


def _modes(args) -> str:
    return "transit" if getattr(args, "no_tad", False) else "transit+tad"


def _context(args):
    from mobility.planning.context import load_context

    return load_context(None, None, args.services, args.communes)


def register(sub) -> None:
    p = sub.add_parser("isochrone", help="travel-time surface and isochrones to/from a site, a category or a point")
    tgt = p.add_mutually_exclusive_group(required=True)
    tgt.add_argument("--to", dest="to", metavar="SITE_OR_CATEGORY", help="arrive at: site id, category or LAT,LON")
    tgt.add_argument("--from", dest="frm", metavar="LAT,LON", help="leave from: LAT,LON, site id or category")
    _common(p)
    p.add_argument("--percentiles", type=_ints, default=(5, 25, 50), help="percentiles over departures (5,25,50)")
    p.add_argument("--stat", default=None,
                   help="statistic mapped / contoured: min, pNN, planned_min, planned_pNN (default: p50 or the "
                        "largest --percentiles value)")
    p.add_argument("--thresholds", type=_ints, default=(15, 30, 45, 60), help="isochrone minutes (15,30,45,60)")
    p.add_argument("--out", action="append", required=True, metavar="PATH",
                   help="map.png (Lambert-93), isochrones .geojson/.gpkg or cells .csv; repeatable")
    _map_args(p)
    p.set_defaults(handler=run_isochrone)

    a = sub.add_parser("access", help="accessibility table: per commune and category, time to the nearest site")
    a.add_argument("--category", action="append", metavar="CATEGORY", help="category (repeatable; default: all)")
    _common(a)
    a.add_argument("--percentile", type=int, default=50, help="statistic over departures (50 = median)")
    a.add_argument("--out", metavar="PATH", help="CSV of the commune x category table")
    _executor_args(a)
    a.set_defaults(handler=run_access)

    s = sub.add_parser("scenario", help="add/remove sites, lines or TAD zones and compare with the baseline",
                       description=SCENARIO_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("file", help="scenario GeoJSON or CSV (see the file format above; example: "
                                "data/scenarios/ligne_eperlecques_tad_plateau.geojson)")
    s.add_argument("--category", action="append", metavar="CATEGORY",
                   help="categories to compare (default: those of the changed sites)")
    _common(s)
    s.add_argument("--percentile", type=int, default=50, help="statistic over departures (50 = median)")
    s.add_argument("--thresholds", type=_ints, default=(15, 30, 45, 60), help="minutes (15,30,45,60)")
    s.add_argument("--out", metavar="PATH", help="difference map PNG, Lambert-93 (one per category: suffixed)")
    _map_args(s)
    s.add_argument("--csv", metavar="PATH", help="table of population gaining/losing access")
    _executor_args(s)
    s.set_defaults(handler=run_scenario)


def run_isochrone(args: argparse.Namespace) -> int:
    from mobility.analysis.isochrones import write_isochrones
    from mobility.analysis.maps import render_surface
    from mobility.analysis.surface import compute_surface

    t0 = time.perf_counter()
    ctx = _context(args)
    direction = "from" if args.frm else "to"
    stat = args.stat or f"p{max(args.percentiles) if args.percentiles else 50}"
    s = compute_surface(ctx, args.frm or args.to, args.date, args.window, step_min=args.step_min,
                        direction=direction, cell_m=args.cell_m, limit_min=args.limit_min,
                        percentiles=args.percentiles, options=_options(args), modes=_modes(args))
    for out in args.out:
        suffix = Path(out).suffix.lower()
        if suffix == ".png":
            render_surface(ctx, s, out, stat, lang=args.lang, size=args.map_size)
        elif suffix in (".geojson", ".json", ".gpkg"):
            write_isochrones(s, out, args.thresholds, stat)
        elif suffix == ".csv":
            s.to_frame().to_csv(out, index=False)
        else:
            from mobility.errors import InputError

            raise InputError(f"--out {out}: expected .png, .geojson, .gpkg or .csv")
        print(f"wrote {out}")
    st = s.status()
    pop = s.grid.population
    values = s.stat_min(stat)
    print(s.describe(stat))
    for t in args.thresholds:
        share = pop[values <= t].sum() / pop.sum()
        print(f"  within {t:3d} min: {100 * share:5.1f} % of residents")
    print(f"  no service within {s.limit_min} min: {100 * pop[st == 'no_service'].sum() / pop.sum():.1f} % of residents"
          f", outside the walk network: {100 * pop[st == 'outside_network'].sum() / pop.sum():.1f} %")
    print(f"({s.grid.n_cells} cells, {s.n_departures} departures, {s.stats['runs']} rRAPTOR runs, "
          f"surface {s.stats['total_s']:.2f} s, total {time.perf_counter() - t0:.1f} s)")
    return 0


def run_access(args: argparse.Namespace) -> int:
    from mobility.analysis.access import accessibility

    t0 = time.perf_counter()
    ctx = _context(args)
    table, summary = accessibility(ctx, args.date, args.window, categories=args.category, step_min=args.step_min,
                                   cell_m=args.cell_m, limit_min=args.limit_min, percentile=args.percentile,
                                   options=_options(args), executor=_executor(args), progress=True,
                                   modes=_modes(args))
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {args.out} ({len(table)} rows)")
    else:
        print(table.to_string(index=False))
    for line in summary["summary"]:
        print(line)
    print(f"(total {time.perf_counter() - t0:.1f} s)")
    return 0


def run_scenario(args: argparse.Namespace) -> int:
    from mobility.analysis.maps import render_difference
    from mobility.analysis.comparison import compare
    from mobility.analysis.scenario import load_scenario

    import pandas as pd

    ctx = _context(args)
    changes = load_scenario(args.file)
    results = compare(ctx, changes, args.date, args.window, categories=args.category, step_min=args.step_min,
                      cell_m=args.cell_m, limit_min=args.limit_min, percentile=args.percentile,
                      thresholds_min=args.thresholds, options=_options(args), executor=_executor(args),
                      progress=True, modes=_modes(args))
    stat = f"p{args.percentile}"
    frames = []
    for r in results:
        t = r.table.copy()
        t.insert(0, "category", r.category)
        frames.append(t)
        print(f"{r.category}: " + "; ".join(c.describe() for c in changes))
        print(t.drop(columns="category").to_string(index=False))
        if args.out:
            out = Path(args.out)
            if len(results) > 1:
                out = out.with_name(f"{out.stem}_{r.category}{out.suffix}")
            render_difference(ctx, r.baseline, r.scenario, out, stat, lang=args.lang, size=args.map_size)
            print(f"wrote {out}")
    if args.csv:
        pd.concat(frames, ignore_index=True).to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    return 0
