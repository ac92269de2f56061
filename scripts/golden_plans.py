"""Record (or check) the answers of a fixed corpus of door-to-door plans on the embedded data.

The corpus is drawn with a fixed seed: origins and destinations among the address points and the stops of
the network (rural addresses inside the on-demand zones included), weekdays and weekends of the first week
of December 2026, depart-at and arrive-by, some step-free requests. Each answer is reduced to what a
traveller is told: per itinerary, departure, arrival, transfers, walking (metres) and the legs (mode, route,
trip, from/to stop, times). A refactoring of the planner must leave every answer identical:

    python scripts/golden_plans.py --out tests/data/golden_plans.json    # record
    python scripts/golden_plans.py --check tests/data/golden_plans.json  # compare, list the differences
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from pathlib import Path

N_PLANS = 500
SEED = 20261201
BOOKED_AT = dt.datetime(2026, 11, 25, 9, 0)  # before every booking deadline of the week


def corpus(planner, n: int = N_PLANS, seed: int = SEED) -> list[dict]:
    """``n`` requests drawn with ``seed`` over the planner's streets and stops."""
    from mobility.planning.context import load_context

    rng = random.Random(seed)
    ctx = load_context()
    addr = ctx.geocoder._addr  # the address points of the OSM extract
    stops = planner.network.stops
    points = [(float(a), float(b)) for a, b in zip(addr["lat"], addr["lon"])]
    stop_points = [(float(a), float(b)) for a, b in zip(stops["lat"], stops["lon"])]
    out = []
    for i in range(n):
        pick = (lambda: rng.choice(stop_points)) if i % 5 == 0 else (lambda: rng.choice(points))
        o, d = pick(), pick()
        day = dt.date(2026, 12, 1) + dt.timedelta(days=rng.randrange(7))
        when = dt.datetime.combine(day, dt.time(rng.randrange(5, 22), rng.randrange(0, 60, 5)))
        out.append({"from": [round(o[0], 6), round(o[1], 6)], "to": [round(d[0], 6), round(d[1], 6)],
                    "when": when.isoformat(timespec="minutes"), "arrive_by": rng.random() < 0.3,
                    "wheelchair": rng.random() < 0.1})
    return out


def answer(planner, req: dict) -> dict | str:
    """The reduced answer to ``req``, or the error class and message."""
    from mobility.errors import MobilityError
    from mobility.planning.planner import PlanOptions

    try:
        res = planner.plan(tuple(req["from"]), tuple(req["to"]), dt.datetime.fromisoformat(req["when"]),
                           arrive_by=req["arrive_by"], options=PlanOptions(wheelchair=req["wheelchair"]),
                           booked_at=BOOKED_AT)
    except MobilityError as exc:
        return f"{type(exc).__name__}: {exc}"
    return {"itineraries": [
        {"departure": it.departure.isoformat(), "arrival": it.arrival.isoformat(), "transfers": it.transfers,
         "walk_m": round(it.walk_m), "legs": [
             [leg.mode, (leg.route or {}).get("id"), leg.trip_id, leg.origin.stop_id, leg.destination.stop_id,
              leg.departure.strftime("%H:%M:%S"), leg.arrival.strftime("%H:%M:%S")] for leg in it.legs]}
        for it in res.itineraries]}


def record(planner) -> list[dict]:
    return [{"request": req, "answer": answer(planner, req)} for req in corpus(planner)]


def differences(planner, golden: list[dict]) -> list[tuple[int, dict, object, object]]:
    """(index, request, recorded, now) of every answer that changed."""
    out = []
    for i, entry in enumerate(golden):
        now = json.loads(json.dumps(answer(planner, entry["request"])))
        if now != entry["answer"]:
            out.append((i, entry["request"], entry["answer"], now))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", type=Path, help="record the corpus and its answers here")
    group.add_argument("--check", type=Path, help="compare today's answers with this recording")
    args = parser.parse_args(argv)
    from mobility.planning.planner import Planner

    planner = Planner.load()
    if args.out:
        rows = record(planner)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        found = sum(1 for r in rows if isinstance(r["answer"], dict))
        print(f"{len(rows)} plans recorded ({found} with itineraries) in {args.out}")
        return 0
    diffs = differences(planner, json.loads(args.check.read_text(encoding="utf-8")))
    for i, req, old, new in diffs:
        print(f"#{i} {json.dumps(req)}\n  recorded: {json.dumps(old)[:400]}\n  now:      {json.dumps(new)[:400]}")
    print(f"{len(diffs)} of the recorded answers changed")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
