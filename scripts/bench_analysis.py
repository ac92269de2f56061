"""Benchmark of the planner analytics on the embedded data (run: .venv/bin/python scripts/bench_analysis.py).

* one site's surface, 2-hour window every minute, 200 m grid (target: <= 2 s), public transport only and
  public transport + TAD (every TAD ride assumed booked in advance);
* the accessibility table, all communes x all categories (target: <= 30 s), both modes;
* memory (peak traced Python allocations of one surface, and the process max RSS);
* the naive method -- one door-to-door ``ctx.planner.plan`` per (cell, departure) -- timed on a sample
  and extrapolated to the same cells x departures, as a ratio.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import resource
import statistics
import time
import tracemalloc

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", default="svc-017", help="site id (default: Gare de Saint-Omer, the busiest hub)")
    ap.add_argument("--date", default="2026-12-01")
    ap.add_argument("--naive-samples", type=int, default=60, help="door-to-door queries in the naive sample")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from mobility.analysis.access import accessibility
    from mobility.analysis.surface import compute_surface, grid_for
    from mobility.errors import NoRouteError
    from mobility.planning.context import load_context
    from mobility.planning.planner import PlanOptions

    day = dt.date.fromisoformat(args.date)
    window = (dt.time(8), dt.time(10))
    t = time.perf_counter()
    ctx = load_context()
    print(f"context loaded in {time.perf_counter() - t:.2f} s")
    site = ctx.catalogue.get(args.site) if args.site else None
    t = time.perf_counter()
    grid = grid_for(ctx, 200.0)
    grid.access(ctx.planner.network, 2000.0)
    print(f"grid: {grid.n_cells} cells of 200 m ({int(grid.snapped.sum())} on the walk network), "
          f"built with walking links in {time.perf_counter() - t:.2f} s (once per process)")
    modes_list = ("transit", "transit+tad")
    t = time.perf_counter()
    for m in modes_list:
        compute_surface(ctx, args.site, day, window, step_min=1, modes=m)  # warm-up: numba, timetable, TAD caches
    print(f"warm-up (numba cache, timetable, TAD drive times / zone cells, once per process): "
          f"{time.perf_counter() - t:.2f} s")

    surfaces, medians = {}, {}
    print(f"\n[1] surface to {site.name if site else args.site} ({args.site}), {day} 08:00-10:00 every minute:")
    for m in modes_list:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            s = compute_surface(ctx, args.site, day, window, step_min=1, modes=m)
            times.append(time.perf_counter() - t)
        surfaces[m], medians[m] = s, statistics.median(times)
        st = s.stats
        print(f"    {m:12s} median {medians[m]:.3f} s over {args.repeat} runs (target <= 2 s) "
              f"({s.n_departures} departures x {grid.n_cells} cells); {st['runs']} rRAPTOR runs, "
              f"{st['profile_entries']} profile entries, {st['tad_cell_options']} TAD cell options; profile "
              f"{st['profile_s']:.3f} s, TAD {st['tad_s']:.3f} s, combine {st['combine_s']:.3f} s")
        tracemalloc.start()
        compute_surface(ctx, args.site, day, window, step_min=1, modes=m)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"    {'':12s} memory: peak traced allocations {peak / 2**20:.1f} MiB during one surface; "
              f"per-departure arrays {(s.times_s.nbytes + s.planned_s.nbytes) / 2**20:.1f} MiB")
    sb, st_ = surfaces["transit"], surfaces["transit+tad"]
    gained = (sb.status() == "no_service") & (st_.status() == "served")
    print(f"    TAD: {int(gained.sum())} cells ({sb.grid.population[gained].sum():.0f} residents) with no service "
          f"by public transport alone are served with TAD")

    cats = ctx.catalogue.categories()
    print(f"\n[2] accessibility table: {len(ctx.communes)} communes x {len(cats)} categories, every minute "
          f"08:00-10:00 (target <= 30 s):")
    for m in modes_list:
        t = time.perf_counter()
        table, summary = accessibility(ctx, day, window, step_min=1, modes=m)
        acc_s = time.perf_counter() - t
        print(f"    {m:12s} {acc_s:.2f} s, {len(table)} rows")
        print("    " + summary.loc[summary["category"] == "france_services", "summary"].iloc[0])

    # naive: one door-to-door query per (cell, departure) on a sample, same modes as the surface
    names = {f.name for f in dataclasses.fields(PlanOptions)}
    booked = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(8))
    for m in modes_list:
        s = surfaces[m]
        opts = PlanOptions(**({"allow_tad": m == "transit+tad"} if "allow_tad" in names else {}))
        rng = np.random.default_rng(0)
        cells = rng.choice(np.nonzero(grid.snapped)[0], args.naive_samples, replace=True)
        deps = rng.integers(0, s.n_departures, args.naive_samples)
        origin = ctx.planner.service_day_origin(day).replace(tzinfo=None)
        t = time.perf_counter()
        agree = 0
        for c, i in zip(cells, deps):
            when = origin + dt.timedelta(seconds=int(s.departures_s[i]))
            try:
                res = ctx.planner.plan((float(grid.lat[c]), float(grid.lon[c])), (site.lat, site.lon), when,
                                       options=opts, booked_at=booked)
                v = int((min(it.arrival for it in res.itineraries).replace(tzinfo=None) - when).total_seconds())
            except NoRouteError:
                v = None
            mine = int(s.times_s[c, i])
            ref = v if v is not None and v <= s.limit_min * 60 else 2**31 - 1
            agree += mine == ref
        per_query = (time.perf_counter() - t) / args.naive_samples
        n_queries = int(grid.snapped.sum()) * s.n_departures
        naive_total = per_query * n_queries
        print(f"\n[3] naive method, {m} (ctx.planner.plan per cell and departure, booked the day before): "
              f"{per_query * 1000:.1f} ms per query on {args.naive_samples} sampled (cell, departure) pairs "
              f"({agree}/{args.naive_samples} agree exactly with the surface);\n    {n_queries} queries -> "
              f"~{naive_total / 3600:.1f} h; ratio naive / rRAPTOR surface = {naive_total / medians[m]:,.0f}x")
    print(f"\nprocess max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
