#!/usr/bin/env python3
"""Door-to-door benchmark of this tree against a baseline git revision, in the same run, with the answers compared.

The baseline revision is exported (``git archive``) to a temporary folder; both trees then answer the same seeded
random door-to-door queries (street points up to ~150 m from stops, departures 06:00-20:00 on one weekday, fixed
lines and walking) in worker processes run alternately block by block, so machine noise hits both alike. Each
worker warms up (numba, the day's timetable) before timing. Reported per data set: p50/p95/mean latency of each
tree, the ratios (this tree / baseline: < 1 is faster), and the answers compared query by query: identical
(same itineraries: times, changes, walking, legs), or changed. Every change is listed with the first option's
arrival and walking before and after; it counts as door linking when the earliest arrival is no later (or a route
appears where there was none), which is all that linking a door to more ways can do. ``--link-tolerance-m 0``
links this tree's doors as the baseline did: every answer must then be identical.

Usage: ``python scripts/bench_doors.py --baseline b410f79 [--queries 1000] [--blocks 4] [--only audomarois]
[--link-tolerance-m 0]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"


def datasets() -> dict[str, tuple[list[str] | None, str | None, str]]:
    out: dict = {"audomarois": (None, None, "2026-12-01")}
    if REALDATA.is_dir():
        out["porto_alegre"] = ([str(REALDATA / "porto_alegre/poa_eptc.zip"), str(REALDATA / "porto_alegre/poa_trensurb.zip")],
                               str(REALDATA / "porto_alegre/poa_osm.pbf"), "2019-05-13")
    return out


def random_queries(stops, day: dt.date, n: int, seed: int):
    """(origin, destination, departure) triples: points up to ~150 m from linked stops (as scripts/bench.py)."""
    stops = stops[(stops["snap_edge"] >= 0) & (stops["snap_dist_m"] < 100)]
    rng = np.random.default_rng(seed)
    a = stops.iloc[rng.integers(0, len(stops), n)]
    b = stops.iloc[rng.integers(0, len(stops), n)]
    jitter = rng.uniform(-0.001, 0.001, size=(n, 4))
    minutes = rng.integers(6 * 60, 20 * 60, n)
    return [((float(x.lat) + j[0], float(x.lon) + j[1]), (float(y.lat) + j[2], float(y.lon) + j[3]),
             dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=int(m)))
            for x, y, j, m in zip(a.itertuples(), b.itertuples(), jitter, minutes)]


def summary(result) -> list:
    """What a user is told, per itinerary: times, changes, walking (0.1 m), and the legs."""
    out = []
    for it in result.itineraries:
        js = it.to_json()
        out.append({"departure": js["departure"], "arrival": js["arrival"], "transfers": js["transfers"],
                    "walk_m": round(float(js["walk_m"]), 1),
                    "legs": [[leg["mode"], (leg.get("from") or {}).get("stop_id"), (leg.get("to") or {}).get("stop_id"),
                              leg["departure"][11:19], leg["arrival"][11:19]] for leg in js["legs"]]})
    return out


def worker(args) -> int:
    """Answer queries [start, stop) of a data set with the tree on sys.path; write latencies and answers."""
    from mobility.errors import InputError, NoRouteError
    from mobility.planning.planner import Planner, PlanOptions

    if args.link_tolerance_m is not None:  # this tree only: 0 links every door to its nearest edge, as before
        from mobility.network import streets

        streets.LINK_TOLERANCE_M = args.link_tolerance_m
        streets.StreetNetwork.link.__kwdefaults__["tolerance_m"] = args.link_tolerance_m
        streets.StreetNetwork.link_many.__kwdefaults__["tolerance_m"] = args.link_tolerance_m

    gtfs, osm, day = datasets()[args.dataset]
    planner = Planner.load(gtfs, osm)
    opts = PlanOptions(allow_tad=False)
    queries = random_queries(planner.network.stops, dt.date.fromisoformat(day), args.queries, args.seed)
    for o, d, when in queries[:3]:  # warm-up
        try:
            planner.plan(o, d, when, options=opts)
        except (InputError, NoRouteError):
            pass
    rows = []
    for i in range(args.start, min(args.stop, len(queries))):
        o, d, when = queries[i]
        t = time.perf_counter()
        try:
            ans = summary(planner.plan(o, d, when, options=opts))
        except NoRouteError:
            ans = "no route"
        except InputError as exc:
            ans = f"input error: {exc}"
        rows.append({"i": i, "s": time.perf_counter() - t, "answer": ans})
    Path(args.out).write_text(json.dumps(rows))
    return 0


def export(rev: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="bench-doors-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def run_block(tree: Path, cache: Path, dataset: str, n: int, start: int, stop: int, seed: int,
              link_tolerance_m: float | None = None) -> list[dict]:
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    env = dict(os.environ, PYTHONPATH=str(tree), MOBILITY_CACHE_DIR=str(cache))
    extra = [] if link_tolerance_m is None else ["--link-tolerance-m", str(link_tolerance_m)]
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", "--dataset", dataset,
                    "--queries", str(n), "--start", str(start), "--stop", str(stop), "--seed", str(seed),
                    "--out", str(out), *extra], check=True, env=env, cwd=str(tree))
    rows = json.loads(out.read_text())
    out.unlink()
    return rows


def _best(ans):
    return ans[0] if isinstance(ans, list) and ans else None


def _walks_less(a, b) -> bool:
    """Whether answer ``b`` changes ``a`` as linking a door to more ways can: more walks become possible,
    so the earliest arrival can only come sooner (a route may appear where there was none); the other
    options of the Pareto set may change with it. A later best arrival, or a route lost, is not that."""
    if a == "no route":
        return isinstance(b, list)
    if not (isinstance(a, list) and isinstance(b, list) and a and b):
        return False
    return min(y["arrival"] for y in b) <= min(x["arrival"] for x in a)


def compare(base: dict[int, dict], now: dict[int, dict]) -> dict:
    same, shorter, other = 0, [], []
    for i in sorted(base):
        a, b = base[i]["answer"], now[i]["answer"]
        if a == b:
            same += 1
            continue
        ba, bb = _best(a), _best(b)
        entry = {"query": i, "before": (ba["arrival"], ba["walk_m"]) if ba else a,
                 "after": (bb["arrival"], bb["walk_m"]) if bb else b}
        if _walks_less(a, b):
            shorter.append(entry)
        else:
            other.append(entry)
    return {"identical": same, "shorter_walk": shorter, "other_changes": other}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="b410f79", help="git revision to compare with (b410f79: before the "
                                                              "compiled street searches)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", choices=sorted(datasets()))
    parser.add_argument("--link-tolerance-m", type=float, default=None,
                        help="this tree's door-link tolerance (0: nearest edge only, as the baseline: every answer "
                             "must then be identical)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--stop", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    base_tree = export(args.baseline)
    caches = {"baseline": Path(tempfile.mkdtemp(prefix="bench-doors-cache-")),
              "this": Path(tempfile.mkdtemp(prefix="bench-doors-cache-"))}
    trees = {"baseline": base_tree, "this": ROOT}
    for name in datasets():
        if args.only and name != args.only:
            continue
        rows: dict[str, dict[int, dict]] = {"baseline": {}, "this": {}}
        edges = np.linspace(0, args.queries, args.blocks + 1).astype(int)
        for b, (start, stop) in enumerate(zip(edges[:-1], edges[1:])):
            order = ("baseline", "this") if b % 2 == 0 else ("this", "baseline")
            for which in order:
                tol = args.link_tolerance_m if which == "this" else None
                for r in run_block(trees[which], caches[which], name, args.queries, int(start), int(stop), args.seed,
                                   tol):
                    rows[which][r["i"]] = r
        print(f"== {name} ({args.queries} queries, baseline {args.baseline})")
        stats = {}
        for which in ("baseline", "this"):
            lat = [r["s"] for r in rows[which].values()]
            stats[which] = (np.percentile(lat, 50) * 1000, np.percentile(lat, 95) * 1000, statistics.fmean(lat) * 1000)
            print(f"  {which:9s} p50 {stats[which][0]:7.2f} ms   p95 {stats[which][1]:7.2f} ms   "
                  f"mean {stats[which][2]:7.2f} ms")
        print(f"  ratio this/baseline: p50 {stats['this'][0] / stats['baseline'][0]:.3f}   "
              f"p95 {stats['this'][1] / stats['baseline'][1]:.3f}   mean {stats['this'][2] / stats['baseline'][2]:.3f}")
        cmp = compare(rows["baseline"], rows["this"])
        print(f"  answers: {cmp['identical']} identical, {len(cmp['shorter_walk'])} changed as door linking can "
              f"(earliest arrival no later), {len(cmp['other_changes'])} other changes")
        for e in cmp["shorter_walk"]:
            print(f"    door linking  #{e['query']}: {e['before']} -> {e['after']}")
        for e in cmp["other_changes"]:
            print(f"    OTHER CHANGE  #{e['query']}: {json.dumps(e['before'])[:200]} -> {json.dumps(e['after'])[:200]}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
