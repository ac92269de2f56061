#!/usr/bin/env python3
"""RAPTOR kernel benchmark: the single search (``earliest_arrival``) and the range search (``profile_from``) of
this tree against the same kernels at a baseline git revision, compiled and timed in the same process.

Both versions run the same random searches (seeded: sources around random stops, departures 06:00-20:00)
interleaved block by block, so machine noise hits both alike; the answers are compared too (arrival times and
profile entries must be identical). Reported: the fastest block of each (the least disturbed by other work on
the machine), the ratio this tree / baseline (< 1 is faster), and the ratio of the medians.

Usage: ``python scripts/bench_kernels.py --baseline HEAD~1 [--searches 300] [--blocks 7] [--only audomarois]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REALDATA = ROOT.parent / "shared" / "realdata"


def baseline_modules(rev: str):
    """``raptor`` and ``range_raptor`` as they were at ``rev``, importable side by side with today's."""
    folder = Path(tempfile.mkdtemp(prefix="bench-kernels-"))
    pkg = folder / "baseline_routing"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    mods = {}
    for name in ("raptor", "range_raptor"):
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:mobility/routing/{name}.py"], check=True,
                             capture_output=True, text=True).stdout
        src = src.replace("from mobility.routing.raptor import", "from baseline_routing.raptor import")
        (pkg / f"{name}.py").write_text(src)
    sys.path.insert(0, str(folder))
    for name in ("raptor", "range_raptor"):
        spec = importlib.util.spec_from_file_location(f"baseline_routing.{name}", pkg / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[f"baseline_routing.{name}"] = mod
        spec.loader.exec_module(mod)
        mods[name] = mod
    return mods["raptor"], mods["range_raptor"]


def searches(tt, n: int, seed: int):
    """(sources, t0) pairs: 1-4 access stops near a random stop, a departure between 06:00 and 20:00."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        s = rng.integers(0, tt.n_stops, rng.integers(1, 5))
        walk_s = rng.integers(0, 900, len(s))
        t0 = int(rng.integers(6 * 3600, 20 * 3600))
        out.append(((s.astype(np.int64), (t0 + walk_s).astype(np.int64), (walk_s * 1.2).astype(np.float64)), t0))
    return out


def run_single(mod, tt, qs):
    return [mod.earliest_arrival(tt, src, 4, max_walk_m=2000.0).times_s for src, _ in qs]


def run_range(mod, tt, qs):
    out = []
    for (stops, times, walk), t0 in qs:
        p = mod.profile_from(tt, (stops, times - t0, walk), t0, t0 + 3600, 4, max_walk_m=2000.0)
        out.append((p.ptr, p.dep_s, p.arr_s, p.walk_m, p.rounds))
    return out


def same(a, b) -> bool:
    return all(all(np.array_equal(x, y) for x, y in zip(u, v)) if isinstance(u, tuple) else np.array_equal(u, v)
               for u, v in zip(a, b))


def bench(name: str, tt, base_raptor, base_range, n: int, blocks: int) -> dict:
    from mobility.routing import range_raptor, raptor

    qs = searches(tt, n, seed=7)
    rq = qs[: max(10, n // 3)]  # range searches are several times longer
    # warm-up: compile both versions, check that they agree
    assert same(run_single(raptor, tt, qs), run_single(base_raptor, tt, qs)), f"{name}: single searches differ"
    assert same(run_range(range_raptor, tt, rq), run_range(base_range, tt, rq)), f"{name}: profiles differ"
    times: dict[str, list[float]] = {k: [] for k in ("single_new", "single_base", "range_new", "range_base")}
    for _ in range(blocks):
        for key, fn, mod, q in (("single_base", run_single, base_raptor, qs), ("single_new", run_single, raptor, qs),
                                ("range_base", run_range, base_range, rq), ("range_new", run_range, range_raptor, rq)):
            t = time.perf_counter()
            fn(mod, tt, q)
            times[key].append(time.perf_counter() - t)
    # the fastest block of each: the least disturbed by whatever else the machine runs
    best = {k: min(v) for k, v in times.items()}
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"dataset": name, "single_searches": len(qs), "range_searches": len(rq), "blocks": blocks,
            **{f"{k}_min_s": round(v, 4) for k, v in best.items()},
            "single_ratio": round(best["single_new"] / best["single_base"], 3),
            "range_ratio": round(best["range_new"] / best["range_base"], 3),
            "single_ratio_median": round(med["single_new"] / med["single_base"], 3),
            "range_ratio_median": round(med["range_new"] / med["range_base"], 3)}


def timetables(only: str | None):
    from mobility.network.build import load_network

    sets = {"audomarois": (None, None, dt.date(2026, 12, 1))}
    if REALDATA.is_dir():
        sets["porto_alegre"] = ([REALDATA / "porto_alegre/poa_eptc.zip", REALDATA / "porto_alegre/poa_trensurb.zip"],
                                REALDATA / "porto_alegre/poa_osm.pbf", dt.date(2019, 5, 13))
    for name, (gtfs, osm, day) in sets.items():
        if only and name != only:
            continue
        net = load_network(gtfs, osm)
        yield name, net.timetable(day, walk_speed_mps=1.2, max_walk_m=2000.0, min_transfer_s=120)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="git revision of the baseline kernels (e.g. HEAD~1)")
    ap.add_argument("--searches", type=int, default=300)
    ap.add_argument("--blocks", type=int, default=7)
    ap.add_argument("--only", help="one data set (audomarois, porto_alegre)")
    args = ap.parse_args(argv)
    base_raptor, base_range = baseline_modules(args.baseline)
    for name, tt in timetables(args.only):
        print(bench(name, tt, base_raptor, base_range, args.searches, args.blocks), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
