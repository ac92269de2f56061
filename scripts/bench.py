#!/usr/bin/env python3
"""Routing benchmark: network build (cold, cached), door-to-door latency, and the brute-force ratio.

For each data set (the embedded Audomarois data; Porto Alegre from ../shared/realdata when present):

* cold build: parse GTFS + OSM, link stops, footpaths (no cache);
* cached start: a fresh Python process loading the planner from the on-disk cache (wall time);
* door-to-door latency p50/p95 over N random queries (random street points near stops, random
  departure between 06:00 and 20:00 on one weekday), after one warm-up query (numba, timetable);
* the same kind of queries through the brute-force reference of the tests (a time-expanded graph
  searched with networkx Dijkstra), on a sample, as a speed ratio measured in the same run.

Usage: ``python scripts/bench.py [--queries 1000] [--reference-sample 20] [--only audomarois]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from mobility.errors import InputError, NoRouteError  # noqa: E402
from mobility.network.build import build_network, load_network  # noqa: E402
from mobility.planning.planner import PlanOptions, Planner  # noqa: E402

REALDATA = ROOT.parent / "shared" / "realdata"
#: runs the brute-force reference instantiates after the query time (its graph grows with it)
REFERENCE_HORIZON_S = 3 * 3600


def datasets() -> dict[str, tuple[list[Path] | None, Path | None, dt.date]]:
    out: dict = {"audomarois": (None, None, dt.date(2026, 12, 1))}
    if REALDATA.is_dir():
        out["porto_alegre"] = ([REALDATA / "porto_alegre/poa_eptc.zip", REALDATA / "porto_alegre/poa_trensurb.zip"],
                               REALDATA / "porto_alegre/poa_osm.pbf", dt.date(2019, 5, 13))
    return out


def random_queries(planner: Planner, day: dt.date, n: int, seed: int):
    """(origin, destination, departure) triples: points up to ~150 m from linked stops."""
    stops = planner.network.stops
    stops = stops[(stops["snap_edge"] >= 0) & (stops["snap_dist_m"] < 100)]
    rng = np.random.default_rng(seed)
    a = stops.iloc[rng.integers(0, len(stops), n)]
    b = stops.iloc[rng.integers(0, len(stops), n)]
    jitter = rng.uniform(-0.001, 0.001, size=(n, 4))
    minutes = rng.integers(6 * 60, 20 * 60, n)
    return [((float(x.lat) + j[0], float(x.lon) + j[1]), (float(y.lat) + j[2], float(y.lon) + j[3]),
             dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=int(m)))
            for x, y, j, m in zip(a.itertuples(), b.itertuples(), jitter, minutes)]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def reference_query(planner: Planner, origin, destination, when: dt.datetime, opts: PlanOptions):
    """Earliest arrival by the brute-force reference, with the engine's own access/egress walks."""
    from reference import ref_earliest_arrival

    net = planner.network
    tt = net.timetable(when.date(), walk_speed_mps=opts.walk_speed_mps, max_walk_m=opts.max_walk_m,
                       min_transfer_s=opts.min_transfer_s)
    so = planner._snap_door(planner.place(origin), False, "origin")
    sd = planner._snap_door(planner.place(destination), False, "destination")
    acc = planner._stop_walks(so, tt, opts)
    egr = planner._stop_walks(sd, tt, opts)
    t0 = int((planner.localize(when) - planner.service_day_origin(when.date())).total_seconds())
    footpaths = net.footpath_frame(walk_speed_mps=opts.walk_speed_mps, max_walk_m=opts.max_walk_m)
    sources = [(tt.stop_ids[s], t0 + int(w), float(m)) for s, w, m in zip(*acc)]
    egress = [(tt.stop_ids[s], int(w), float(m)) for s, w, m in zip(*egr)]
    # the brute force instantiates every run of the window: 3 hours keeps Porto Alegre within memory
    horizon = REFERENCE_HORIZON_S
    return ref_earliest_arrival(net.feeds, when.date(), sources, egress, footpaths=footpaths,
                                min_transfer_s=opts.min_transfer_s, max_trips=opts.max_transfers + 1,
                                max_walk_m=opts.max_walk_m, time_window=(t0, t0 + horizon))


def bench(name: str, gtfs, osm, day: dt.date, n_queries: int, n_ref: int) -> dict:
    out: dict = {"dataset": name}
    from mobility.config import DEFAULT_GTFS_PATHS, DEFAULT_OSM_PATH

    gtfs_paths = gtfs or list(DEFAULT_GTFS_PATHS)
    osm_path = osm or DEFAULT_OSM_PATH
    t = time.perf_counter()
    build_network(gtfs_paths, osm_path)
    out["build_cold_s"] = time.perf_counter() - t
    load_network(gtfs_paths, osm_path)  # make sure the cache entry exists
    t = time.perf_counter()
    net = load_network(gtfs_paths, osm_path)
    out["load_cached_in_process_s"] = time.perf_counter() - t
    code = ("import sys, time; t=time.perf_counter(); from mobility.planning.planner import Planner; "
            f"Planner.load({[str(p) for p in gtfs_paths]!r}, {str(osm_path)!r}); print(time.perf_counter()-t)")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=os.environ.copy())
    out["start_cached_process_s"] = time.perf_counter() - t

    planner = Planner(net)
    opts = PlanOptions(allow_tad=False)  # fixed lines + walking: what the brute force models
    queries = random_queries(planner, day, n_queries, seed=42)
    try:  # warm-up: numba kernel load/compile and the day's timetable
        planner.plan(*queries[0][:2], queries[0][2], options=opts)
    except (NoRouteError, InputError):
        pass
    lat, found = [], 0
    for o, d, when in queries:
        t = time.perf_counter()
        try:
            planner.plan(o, d, when, options=opts)
            found += 1
        except (NoRouteError, InputError):
            pass
        lat.append(time.perf_counter() - t)
    out.update(queries=len(lat), with_itinerary=found, p50_ms=1000 * percentile(lat, 50),
               p95_ms=1000 * percentile(lat, 95), mean_ms=1000 * statistics.fmean(lat))

    if n_ref:
        sample = queries[:n_ref]
        t_ref, t_eng = [], []
        for o, d, when in sample:
            t = time.perf_counter()
            try:
                planner.plan(o, d, when, options=opts)
            except (NoRouteError, InputError):
                continue
            t_eng.append(time.perf_counter() - t)
            t = time.perf_counter()
            reference_query(planner, o, d, when, opts)
            t_ref.append(time.perf_counter() - t)
        out.update(reference_sample=len(sample), reference_mean_ms=1000 * statistics.fmean(t_ref),
                   engine_mean_ms_same_sample=1000 * statistics.fmean(t_eng),
                   speedup_vs_reference=statistics.fmean(t_ref) / statistics.fmean(t_eng))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--reference-sample", type=int, default=20)
    parser.add_argument("--only", choices=sorted(datasets()), help="one data set")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOBILITY_CACHE_DIR", tempfile.mkdtemp(prefix="mobility-bench-"))
    for name, (gtfs, osm, day) in datasets().items():
        if args.only and name != args.only:
            continue
        r = bench(name, gtfs, osm, day, args.queries, args.reference_sample)
        print(f"== {name}")
        for k, v in r.items():
            print(f"  {k:28s} {v:.3f}" if isinstance(v, float) else f"  {k:28s} {v}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
