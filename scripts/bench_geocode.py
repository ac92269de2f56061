#!/usr/bin/env python3
"""Geocoder benchmark on the embedded data: look-up latency p50/p95 for typed, sloppy and reverse queries.

Queries are built from the embedded address points (a deterministic sample): the exact label, then the
same text lower-cased without accents and with abbreviations ("rue" -> "r", "saint" -> "st"), then
reverse geocoding of the points. Prints the latencies and the share of queries whose first answer is the
address the query was built from. Usage: ``python scripts/bench_geocode.py [--queries 1000]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mobility.planning.context import load_context  # noqa: E402


def sloppy(text: str) -> str:
    """What a caller might type: no accents, lower case, abbreviations, no commas."""
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(",", " ")
    for word, abbr in ((" rue ", " r "), ("saint-", "st "), ("sainte-", "ste "), (" avenue ", " av "),
                       (" place ", " pl "), (" route ", " rte ")):
        t = t.replace(word, abbr)
    return " ".join(t.split())


def timed(fn, items) -> tuple[list[float], list]:
    lat, out = [], []
    for x in items:
        t = time.perf_counter()
        out.append(fn(x))
        lat.append(time.perf_counter() - t)
    return lat, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args(argv)
    t = time.perf_counter()
    ctx = load_context()
    print(f"context loaded in {time.perf_counter() - t:.2f} s")
    addr = ctx.planner.network.addresses
    rng = np.random.default_rng(5)
    rows = addr.iloc[rng.choice(len(addr), size=min(args.queries, len(addr)), replace=False)]
    exact = [f"{r.housenumber} {r.street}, {r.city}" for r in rows.itertuples()]
    typed = [sloppy(q) for q in exact]
    ctx.geocoder.search(exact[0])  # warm-up
    for name, queries in (("exact labels", exact), ("sloppy typing", typed)):
        lat, results = timed(lambda q: ctx.geocoder.search(q, 5), queries)
        hits = sum(1 for res, r in zip(results, rows.itertuples())
                   if res and res[0].kind == "address" and abs(res[0].lat - r.lat) < 1e-6 and abs(res[0].lon - r.lon) < 1e-6)
        print(f"{name:14s} p50 {1000 * statistics.median(lat):6.2f} ms  p95 {1000 * float(np.percentile(lat, 95)):6.2f} ms"
              f"  first answer right {hits}/{len(queries)}")
    pts = list(zip(rows["lat"].to_numpy() + 1e-4, rows["lon"].to_numpy() - 1e-4))
    lat, _ = timed(lambda p: ctx.geocoder.reverse(*p), pts)
    print(f"{'reverse':14s} p50 {1000 * statistics.median(lat):6.2f} ms  p95 {1000 * float(np.percentile(lat, 95)):6.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
