#!/usr/bin/env python3
"""TAD benchmark: door-to-door p50 with on-demand transport on vs off, same queries, embedded data.

Queries (fixed seed): half between random street points near stops (as scripts/bench.py), half with
one end at a random point inside a TAD zone (the queries TAD changes), departures 07:00-18:00 on a
weekday, depart-at and arrive-by alternating, booked the day before at 10:00.  One warm-up query
per mode first (numba, timetable, drive searches).  Prints both p50s and the ratio (target <= 2).

Usage: ``python scripts/bench_tad.py [--queries 200]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mobility.errors import InputError, NoRouteError  # noqa: E402
from mobility.planning.planner import PlanOptions, Planner  # noqa: E402

DAY = dt.date(2026, 12, 1)
BOOKED_AT = dt.datetime(2026, 11, 30, 10, 0)


def queries(planner: Planner, n: int, seed: int = 7):
    import shapely

    rng = np.random.default_rng(seed)
    stops = planner.network.stops
    stops = stops[(stops["snap_edge"] >= 0) & (stops["snap_dist_m"] < 100)]
    zones = planner.network.flex.zones

    def near_stop():
        s = stops.iloc[int(rng.integers(0, len(stops)))]
        return float(s.lat) + rng.uniform(-0.001, 0.001), float(s.lon) + rng.uniform(-0.001, 0.001)

    def in_zone():
        z = zones[int(rng.integers(0, len(zones)))].geometry
        x0, y0, x1, y1 = z.bounds
        while True:
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if z.contains(shapely.Point(x, y)) and planner.network.walk.snap(y, x, 200) is not None:
                return y, x

    out = []
    for i in range(n):
        a, b = near_stop(), near_stop()
        if i % 2 and zones:
            if rng.random() < 0.5:
                a = in_zone()
            else:
                b = in_zone()
        when = dt.datetime.combine(DAY, dt.time()) + dt.timedelta(minutes=int(rng.integers(7 * 60, 18 * 60)))
        out.append((a, b, when, bool(i % 4 >= 2)))
    return out


def run(planner: Planner, qs, allow_tad: bool) -> tuple[list[float], int]:
    opts = PlanOptions(allow_tad=allow_tad)
    a, b, when, ab = qs[0]
    try:
        planner.plan(a, b, when, arrive_by=ab, options=opts, booked_at=BOOKED_AT)
    except (NoRouteError, InputError):
        pass
    times, with_tad = [], 0
    for a, b, when, ab in qs:
        t0 = time.perf_counter()
        try:
            res = planner.plan(a, b, when, arrive_by=ab, options=opts, booked_at=BOOKED_AT)
            with_tad += any(leg.mode == "tad" for it in res.itineraries for leg in it.legs)
        except (NoRouteError, InputError):
            pass
        times.append(time.perf_counter() - t0)
    return times, with_tad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    planner = Planner.load()
    qs = queries(planner, args.queries)
    off, _ = run(planner, qs, False)
    on, n_tad = run(planner, qs, True)
    p50_off, p50_on = statistics.median(off) * 1000, statistics.median(on) * 1000
    print(f"queries: {len(qs)} ({n_tad} answered with a TAD option)")
    print(f"TAD off: p50 {p50_off:.1f} ms, p95 {np.percentile(off, 95) * 1000:.1f} ms")
    print(f"TAD on:  p50 {p50_on:.1f} ms, p95 {np.percentile(on, 95) * 1000:.1f} ms")
    print(f"ratio on/off p50: {p50_on / p50_off:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
