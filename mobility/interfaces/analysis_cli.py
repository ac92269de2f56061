"""Command line of the planner analytics: ``mobility isochrone``, ``mobility access``, ``mobility scenario``.

Examples::

    mobility isochrone --to france_services --date 2026-12-01 --window 08:00-10:00 --out map.png
    mobility isochrone --to france_services --out map.png --lang en --map-size large   # every commune named
    mobility isochrone --from 50.7500,2.2520 --date 2026-12-01 --window 08:00-10:00 --step-min 1 --out iso.gpkg
    mobility access --category france_services --date 2026-12-01 --window 08:00-10:00 --out table.csv
    mobility access --category france_services --no-tad          # public transport only (default: + TAD)
    mobility scenario new_site.geojson --date 2026-12-01 --window 08:00-10:00 --out diff.png --dask tcp://h:8786
    mobility scenario data/scenarios/ligne_eperlecques_tad_plateau.geojson --category france_services
    # another territory's feeds, residents from a hexagon grid; cumulative opportunities (jobs within 30/60 min)
    mobility access --gtfs poa_eptc.zip --gtfs poa_trensurb.zip --osm poa_osm.pbf --points poa_hexgrid.csv \
        --opportunities jobs --within 30,60 --out access.csv --out access.gpkg --json

Data: ``--gtfs`` (repeatable), ``--osm``, ``--services`` as for ``mobility plan``; residents from
``--communes``/``--population`` (commune areas GeoJSON with a population property, or a points CSV ``id, lat,
lon, population, ...``).  The default date is 2026-12-01 on the embedded data (a school-term Tuesday), else
the first weekday with service of the feeds.  ``--json``: the summary as JSON on stdout.  The progress bar
is drawn only when stderr is a terminal.

Modes: by default public transport, walking and on-demand transport (TAD), every TAD ride assumed booked in
advance ("transport public et TAD (réservé à l'avance)", said in the outputs); ``--no-tad``: without TAD.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from mobility.i18n import day_text, message, number, one_of
from mobility.interfaces.cli import cli_lang, date_arg

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


def _window(text: str):
    from mobility.analysis.surface import parse_window
    from mobility.errors import InputError

    try:
        return parse_window(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(exc.text(cli_lang())) from None


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(message("err_cli_ints", cli_lang(), text=text)) from None


def _names(text: str) -> tuple[str, ...]:
    out = tuple(x.strip() for x in text.split(",") if x.strip())
    if not out:
        raise argparse.ArgumentTypeError(message("err_cli_names", cli_lang()))
    return out


def _common(p: argparse.ArgumentParser) -> None:
    from mobility.interfaces.cli import _add_data_args

    _add_data_args(p)
    p.add_argument("--date", type=date_arg, default=None,
                   help=f"service date (default: {DEFAULT_DATE} on the embedded data, else the feeds' first weekday "
                        "with service)")
    p.add_argument("--window", type=_window, default="08:00-10:00", help="departures HH:MM-HH:MM (08:00-10:00)")
    p.add_argument("--step-min", type=int, default=5, help="minutes between departures in the window (5)")
    p.add_argument("--cell-m", type=float, default=200.0, help="grid cell size in metres (200)")
    p.add_argument("--limit-min", type=int, default=90, help="longer trips count as 'no service' (90)")
    p.add_argument("--max-walk-m", type=float, default=2000.0, help="most walking in total, metres (2000)")
    p.add_argument("--walk-speed-mps", type=float, default=1.2, help="walking speed, m/s (1.2)")
    p.add_argument("--max-transfers", type=int, default=3, help="most changes of vehicle (3)")
    p.add_argument("--min-transfer-s", type=int, default=120, help="least time to change vehicle, s (120)")
    p.add_argument("--services", metavar="PATH", help="service sites CSV/GeoJSON (default: embedded)")
    p.add_argument("--communes", metavar="PATH", help="commune areas GeoJSON (default: embedded)")
    p.add_argument("--population", metavar="PATH",
                   help="residents: commune areas GeoJSON (population property) or points CSV id,lat,lon,population "
                        "(e.g. a hexagon grid; default: the communes' populations)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--no-tad", action="store_true",
                   help="public transport + walking only (default: with on-demand TAD, every ride assumed "
                        "booked in advance)")


def _map_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=["fr", "en"], default=None,
                   help="language of the map's text and of the summary (default: the locale's, French when it "
                        "is neither)")
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
    """The context of the data options; fills ``args.date`` when not given (see :func:`default_date`)."""
    from mobility.planning.context import load_context

    ctx = load_context(args.gtfs, args.osm, args.services, args.communes, population_path=args.population)
    if args.date is None:
        args.date = default_date(ctx, embedded=not args.gtfs and not args.osm)
    return ctx


def default_date(ctx, embedded: bool) -> dt.date:
    """The embedded data's school-term Tuesday, else the first weekday with service of the feeds."""
    from mobility.analysis.surface import first_service_weekday

    return date_arg(DEFAULT_DATE) if embedded else first_service_weekday(ctx.planner.network)


def _progress() -> bool:
    return sys.stderr.isatty()


def _say(args, text: str) -> None:
    """Progress lines ("wrote ...") go to stderr when stdout carries JSON."""
    print(text, file=sys.stderr if getattr(args, "json", False) else sys.stdout)


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1, default=_json_default))


def _json_default(o):
    import numpy as np

    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating, float)):
        return None if o != o else float(o)
    if isinstance(o, (dt.date, dt.time)):
        return o.isoformat()
    raise TypeError(f"not JSON: {type(o).__name__}")


def _records(df) -> list[dict]:
    """DataFrame rows as JSON-ready dicts (NaN -> null)."""
    import pandas as pd

    return json.loads(df.astype(object).where(pd.notna(df), None).to_json(orient="records", force_ascii=False))


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

    a = sub.add_parser("access", help="accessibility: per commune and category, time to the nearest site; or "
                                      "per point, opportunities reachable within T min (--opportunities)")
    a.add_argument("--category", action="append", metavar="CATEGORY", help="category (repeatable; default: all)")
    _common(a)
    a.add_argument("--percentile", type=int, default=50, help="statistic over departures (50 = median)")
    a.add_argument("--lang", choices=["fr", "en"], default=None,
                   help="language of the summary sentences (default: the locale's, French when it is neither)")
    a.add_argument("--out", action="append", metavar="PATH",
                   help="CSV of the commune x category table; with --opportunities a CSV or a GeoPackage (.gpkg) "
                        "of the points; repeatable")
    o = a.add_argument_group("cumulative opportunities (per origin point, e.g. a hexagon grid)")
    o.add_argument("--points", metavar="PATH",
                   help="origins and destinations: CSV id,lat,lon[,population],<numeric columns>")
    o.add_argument("--opportunities", type=_names, metavar="COL[,COL]",
                   help="numeric columns of --points to count (e.g. jobs,schools,healthcare)")
    o.add_argument("--within", type=_ints, default=(30, 60), metavar="MIN[,MIN]", help="cutoffs, minutes (30,60)")
    o.add_argument("--percentiles", type=_ints, default=(50,), metavar="P[,P]",
                   help="percentiles of the travel time over the departures (50)")
    o.add_argument("--decay-per-min", type=float, default=None, metavar="B",
                   help="also the gravity measure sum(opportunities * exp(-B * minutes))")
    o.add_argument("--by", choices=["auto", "origin", "destination"], default="auto",
                   help="one profile per origin or per destination (auto: the fewer)")
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
            write_isochrones(s, out, args.thresholds, stat, lang=args.lang)
        elif suffix == ".csv":
            s.to_frame().to_csv(out, index=False)
        else:
            from mobility.errors import InputError

            raise InputError("err_cli_out_suffix", out=str(out),
                             expected=one_of(".png", ".geojson", ".gpkg", ".csv"))
        _say(args, message("cli_wrote", args.lang, path=out))
    st = s.status()
    pop = s.grid.population
    values = s.stat_min(stat)
    total = pop.sum()
    within = {t: float(pop[values <= t].sum() / total) for t in args.thresholds}
    no_service = float(pop[st == "no_service"].sum() / total)
    outside = float(pop[st == "outside_network"].sum() / total)
    if args.json:
        _print_json({"command": "isochrone", "description": s.describe(stat, args.lang), "target": s.target.label,
                     "direction": direction, "date": s.date, "window": [t.strftime("%H:%M") for t in s.window],
                     "step_min": s.step_min, "statistic": stat, "modes": s.modes, "population": float(total),
                     "share_within": {str(t): v for t, v in within.items()}, "share_no_service": no_service,
                     "share_outside_network": outside, "cells": s.grid.n_cells, "departures": s.n_departures,
                     "runs": s.stats["runs"], "surface_s": s.stats["total_s"],
                     "total_s": time.perf_counter() - t0, "outputs": args.out})
        return 0
    lang = args.lang
    print(s.describe(stat, lang))
    for t in args.thresholds:
        print(message("cli_within", lang, t=t, share=number(100 * within[t], lang, 1).rjust(5)))
    print(message("cli_no_service_within", lang, limit=s.limit_min, share=number(100 * no_service, lang, 1))
          + message("cli_outside_walk_network", lang, share=number(100 * outside, lang, 1)))
    print(message("cli_iso_stats", lang, cells=s.grid.n_cells, departures=s.n_departures, runs=s.stats["runs"],
                  surface=number(s.stats["total_s"], lang, 2), total=number(time.perf_counter() - t0, lang, 1)))
    return 0


def run_access(args: argparse.Namespace) -> int:
    from mobility.errors import InputError

    if args.opportunities or args.points:
        if not (args.opportunities and args.points):
            raise InputError("err_cli_points_and_opportunities")
        return _run_opportunities(args)
    from mobility.analysis.access import accessibility

    t0 = time.perf_counter()
    for out in args.out or ():
        if Path(out).suffix.lower() != ".csv":
            raise InputError("err_cli_out_suffix", out=str(out), expected=one_of(".csv"))
    ctx = _context(args)
    table, summary = accessibility(ctx, args.date, args.window, categories=args.category, step_min=args.step_min,
                                   cell_m=args.cell_m, limit_min=args.limit_min, percentile=args.percentile,
                                   options=_options(args), executor=_executor(args), progress=_progress(),
                                   modes=_modes(args), lang=args.lang)
    for out in args.out or ():
        table.to_csv(out, index=False)
        _say(args, message("cli_wrote_rows", args.lang, path=out, n=len(table)))
    if args.json:
        _print_json({"command": "access", "date": args.date, "window": [t.strftime("%H:%M") for t in args.window],
                     "percentile": args.percentile, "modes": _modes(args), "summary": _records(summary),
                     "total_s": time.perf_counter() - t0, "outputs": args.out or []})
        return 0
    if not args.out:
        print(table.to_string(index=False))
    for line in summary["summary"]:
        print(line)
    print(message("cli_total_s", args.lang, total=number(time.perf_counter() - t0, args.lang, 1)))
    return 0


def _run_opportunities(args: argparse.Namespace) -> int:
    import numpy as np

    from mobility.analysis.opportunities import opportunity_access
    from mobility.errors import InputError
    from mobility.loaders.points import load_points

    t0 = time.perf_counter()
    for out in args.out or ():
        if Path(out).suffix.lower() not in (".csv", ".gpkg"):
            raise InputError("err_cli_out_suffix", out=str(out), expected=one_of(".csv", ".gpkg"))
    points = load_points(args.points)
    ctx = _context(args)
    res = opportunity_access(ctx, points, args.opportunities, args.date, args.window, within_min=args.within,
                             percentiles=args.percentiles, step_min=args.step_min, limit_min=args.limit_min,
                             decay_per_min=args.decay_per_min, options=_options(args), modes=_modes(args),
                             by=args.by, executor=_executor(args), progress=_progress())
    for out in args.out or ():
        res.write(out)
        _say(args, message("cli_wrote_points", args.lang, path=out, n=len(res.points)))
    summary = res.summary()
    evaluated = int(np.isfinite(res.values[:, 0, 0, 0]).sum()) if len(res.points) else 0
    w0, w1 = (t.strftime("%H:%M") for t in args.window)
    if args.json:
        _print_json({"command": "access", "measure": "cumulative_opportunities", "date": args.date,
                     "window": [w0, w1], "step_min": args.step_min, "modes": _modes(args), "points": len(res.points),
                     "evaluated": evaluated, "by": "origin" if res.direction == "from" else "destination",
                     "totals": dict(zip(res.columns, res.totals.tolist())), "summary": _records(summary),
                     "total_s": time.perf_counter() - t0, "outputs": args.out or []})
        return 0
    if not args.out:
        print(res.to_frame().to_string(index=False))
    from mobility.analysis.tad import modes_label

    lang = args.lang
    print(message("cli_opp_head", lang, day=day_text(args.date, lang), w0=w0, w1=w1,
                  modes=modes_label(_modes(args), lang), evaluated=evaluated, points=len(res.points)))
    for r in summary.itertuples():
        def num(v: float) -> str:  # (no resident evaluated: no mean)
            return number(v, lang, 1) if np.isfinite(v) else "—"

        print(message("cli_opp_measure", lang, measure=r.measure, mean=num(r.mean), share=num(100 * r.share)))
    print(message("cli_opp_stats_origin" if res.direction == "from" else "cli_opp_stats_destination", lang,
                  n=res.stats["sources"], total=number(time.perf_counter() - t0, lang, 1)))
    return 0


def run_scenario(args: argparse.Namespace) -> int:
    from mobility.analysis.maps import render_difference
    from mobility.analysis.comparison import compare
    from mobility.analysis.scenario import load_scenario
    from mobility.domain.categories import category_label

    import pandas as pd

    ctx = _context(args)
    changes = load_scenario(args.file)
    results = compare(ctx, changes, args.date, args.window, categories=args.category, step_min=args.step_min,
                      cell_m=args.cell_m, limit_min=args.limit_min, percentile=args.percentile,
                      thresholds_min=args.thresholds, options=_options(args), executor=_executor(args),
                      progress=_progress(), modes=_modes(args))
    stat = f"p{args.percentile}"
    frames = []
    for r in results:
        t = r.table.copy()
        t.insert(0, "category", r.category)
        frames.append(t)
        if not args.json:
            print(message("cli_scn_head", args.lang, category=category_label(r.category, args.lang),
                          changes="; ".join(c.describe(args.lang) for c in changes)))
            print(t.drop(columns="category").to_string(index=False))
        if args.out:
            out = Path(args.out)
            if len(results) > 1:
                out = out.with_name(f"{out.stem}_{r.category}{out.suffix}")
            render_difference(ctx, r.baseline, r.scenario, out, stat, lang=args.lang, size=args.map_size)
            _say(args, message("cli_wrote", args.lang, path=out))
    if args.csv:
        pd.concat(frames, ignore_index=True).to_csv(args.csv, index=False)
        _say(args, message("cli_wrote", args.lang, path=args.csv))
    if args.json:
        _print_json({"command": "scenario", "date": args.date, "window": [t.strftime("%H:%M") for t in args.window],
                     "percentile": args.percentile, "modes": _modes(args),
                     "changes": [c.describe(args.lang) for c in changes],
                     "categories": [{"category": f["category"].iloc[0], "rows": _records(f.drop(columns="category"))}
                                    for f in frames]})
    return 0
