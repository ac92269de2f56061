#!/usr/bin/env python3
"""Category request benchmark: ``plan_trip(origin, "mairie", ...)`` with the bounded site search against planning
every site in turn (the baseline, same process, same requests), answers compared.

Requests: seeded random street points near stops of the embedded data, departures 06:00-19:00 from Tuesday 1
to Saturday 5 December 2026 (the town halls are closed on Saturday), TAD booked well ahead. Each request is
answered once by each method after a warm-up (numba, the day's timetable, the sites' walks); reported:
p50/p95/mean of each, the ratio bounded / every site, how many sites each planned, and whether every answer is
identical.

Usage: ``python scripts/bench_category.py [--requests 100] [--category mairie]``.
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

from mobility.errors import InputError
from mobility.planning import services
from mobility.planning.context import load_context

BOOKED = dt.datetime(2026, 11, 20, 8, 0)


def requests(ctx, n: int, seed: int):
    stops = ctx.planner.network.stops
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        r = stops.iloc[int(rng.integers(len(stops)))]
        when = dt.datetime(2026, 12, int(rng.integers(1, 6)), int(rng.integers(6, 19)), int(rng.integers(0, 60)))
        out.append((f"{float(r.lat) + rng.uniform(-0.002, 0.002):.5f},{float(r.lon) + rng.uniform(-0.002, 0.002):.5f}",
                    when))
    return out


def answer(ctx, origin, category, when):
    counted = {"n": 0}
    real = services._plan

    def counting(*a, **k):
        counted["n"] += 1
        return real(*a, **k)

    services._plan = counting
    t = time.perf_counter()
    try:
        out = services.plan_trip(ctx, origin, category, when, booked_at=BOOKED).to_json()
    except InputError as exc:
        out = repr(exc)
    finally:
        services._plan = real
    return time.perf_counter() - t, out, counted["n"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--category", default="mairie")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    ctx = load_context()
    reqs = requests(ctx, args.requests, args.seed)
    keep = services.KEEP_RANKED
    for origin, when in reqs[:3]:  # warm-up
        answer(ctx, origin, args.category, when)
    times = {"bounded": [], "every_site": []}
    plans = {"bounded": [], "every_site": []}
    same = 0
    for origin, when in reqs:
        services.KEEP_RANKED = keep
        tb, a, nb = answer(ctx, origin, args.category, when)
        services.KEEP_RANKED = 10 ** 6
        tf, b, nf = answer(ctx, origin, args.category, when)
        services.KEEP_RANKED = keep
        times["bounded"].append(tb)
        times["every_site"].append(tf)
        plans["bounded"].append(nb)
        plans["every_site"].append(nf)
        same += a == b
    print(f"== {args.category}: {len(reqs)} requests")
    for k, v in times.items():
        print(f"  {k:10s} p50 {np.percentile(v, 50) * 1000:7.1f} ms   p95 {np.percentile(v, 95) * 1000:7.1f} ms   "
              f"mean {statistics.fmean(v) * 1000:7.1f} ms   sites planned (mean) {statistics.fmean(plans[k]):.1f}")
    print(f"  ratio bounded / every site: p50 "
          f"{np.percentile(times['bounded'], 50) / np.percentile(times['every_site'], 50):.3f}   "
          f"mean {statistics.fmean(times['bounded']) / statistics.fmean(times['every_site']):.3f}")
    print(f"  identical answers: {same} of {len(reqs)}")
    return 0 if same == len(reqs) else 1


if __name__ == "__main__":
    sys.exit(main())
