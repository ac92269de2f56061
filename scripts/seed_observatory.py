#!/usr/bin/env python3
"""Seed a demo observatory journal: a month of realistic plan requests replayed through the real planner.

    python scripts/seed_observatory.py --db sqlite:///demo.sqlite --start 2026-11-02 --days 30 --requests 400

Residents, operators and API clients ask trips from addresses of every commune (drawn by population) to the
services people need (town halls, CAF, France services, hospital...), for today or the next days, at office
hours; some type bad input, some ask after the TAD booking deadline (the booking time is the request time).
Each request goes through :func:`mobility.planning.services.plan_trip` on the embedded data and is journaled
by :func:`mobility.observatory.journal.entry_from_answer`, as the web app does; some answer the survey.
Deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mobility.errors import MobilityError  # noqa: E402
from mobility.observatory import journal as jn  # noqa: E402
from mobility.observatory.db import engine_for  # noqa: E402
from mobility.observatory.surveys import load_survey, record_answers  # noqa: E402

TZ = ZoneInfo("Europe/Paris")
#: what people go to, with how often (a centrale de mobilité's calls, roughly)
DESTINATIONS = [("mairie", 18), ("caf", 12), ("france_services", 12), ("cpam", 8), ("france_travail", 9),
                ("hospital", 8), ("gare", 6), ("pmi", 4), ("sous_prefecture", 3), ("cias", 3),
                ("relais_petite_enfance", 2), ("svc-001", 4), ("svc-008", 3), ("Aire-sur-la-Lys", 2)]
CHANNELS = [("resident", 55), ("operator", 30), ("api", 15)]
BAD_INPUTS = ["", "zzqx wvvb", "48.8566,2.3522", "svc-999", "x" * 210]


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted)
    return rng.choices(values, weights=weights, k=1)[0]


def seed(ctx, engine, start: dt.date, days: int, n: int, seed_: int = 14, survey_share: float = 0.2,
         verbose: bool = False) -> dict[str, int]:
    """Replay ``n`` requests made over ``days`` days from ``start`` into the journal of ``engine``."""
    from mobility.planning.planner import PlanOptions
    from mobility.planning.services import plan_trip

    rng = random.Random(seed_)
    survey = load_survey()
    communes = ctx.communes
    addresses = ctx.planner.network.addresses
    by_city = {c: g for c, g in addresses.groupby("city")} if len(addresses) else {}
    weighted_communes = [(name, max(int(pop), 1)) for name, pop in zip(communes["name"], communes["population"])
                         if name in by_city]
    entries: list[jn.Entry] = []
    surveyed: list[tuple[str, dict, dt.datetime]] = []
    counts = {"requests": 0, "surveys": 0}
    t0 = time.time()
    for i in range(n):
        day = start + dt.timedelta(days=rng.randrange(days))
        while day.weekday() == 6 and rng.random() < 0.8:  # few requests on Sundays
            day = start + dt.timedelta(days=rng.randrange(days))
        asked = dt.datetime.combine(day, dt.time(rng.randint(7, 19), rng.randrange(60)), tzinfo=TZ)
        channel = _pick(rng, CHANNELS)
        commune = _pick(rng, weighted_communes)
        row = by_city[commune].iloc[rng.randrange(len(by_city[commune]))]
        origin = f"{row['housenumber']} {row['street']}, {commune}" if rng.random() < 0.8 else commune
        destination = _pick(rng, DESTINATIONS)
        if rng.random() < 0.06:  # a typo, a place outside the territory, an unknown site...
            if rng.random() < 0.5:
                origin = rng.choice(BAD_INPUTS)
            else:
                destination = rng.choice(BAD_INPUTS[1:])
        travel_day = asked.date() + dt.timedelta(days=rng.choice([0, 0, 1, 1, 1, 2, 3, 7]))
        when = dt.datetime.combine(travel_day, dt.time(rng.choice([8, 9, 9, 10, 10, 11, 14, 15, 16]),
                                                       rng.choice([0, 15, 30, 45])))
        if travel_day == asked.date() and when.time() <= asked.time():
            when = asked.replace(tzinfo=None) + dt.timedelta(minutes=30)
        arrive_by = rng.random() < 0.5
        round_trip = rng.random() < 0.3
        wheelchair = rng.random() < 0.05
        answer = error = None
        try:
            trip = plan_trip(ctx, origin, destination, when, arrive_by=arrive_by,
                             options=PlanOptions(wheelchair=wheelchair), return_after_min=60 if round_trip else None,
                             booked_at=asked.replace(tzinfo=None))
            answer = trip.to_json()
        except MobilityError as exc:
            error = exc
        entry = jn.entry_from_answer(ctx, channel, origin=origin, destination=destination, when=when, arrive_by=arrive_by,
                                     round_trip=round_trip, wheelchair=wheelchair, lang="fr", answer=answer,
                                     error=error, at=asked)
        entries.append(entry)
        if channel != "api" and answer is not None and rng.random() < survey_share:
            surveyed.append((entry.ref, _answers(rng, entry), asked + dt.timedelta(minutes=2)))
        if verbose and (i + 1) % 50 == 0:
            print(f"{i + 1}/{n} requests ({time.time() - t0:.0f} s)", file=sys.stderr)
    jn.write_entries(engine, entries)
    counts["requests"] = len(entries)
    for ref, answers, at in surveyed:
        record_answers(engine, survey, ref, answers, at=at)
        counts["surveys"] += 1
    return counts


def _answers(rng: random.Random, entry: jn.Entry) -> dict:
    """Answers that follow the outcome: an unmet need is less useful and names its obstacles."""
    unmet = entry.outcome in jn.UNMET
    answers: dict = {"useful": rng.choice(["no", "partly"] if unmet else ["yes", "yes", "partly"]),
                     "will_travel": rng.choice(["no", "maybe"] if unmet else ["yes", "yes", "maybe"])}
    obstacles = []
    if unmet:
        obstacles.append(rng.choice(["no_bus_time", "no_bus_time", "too_long"]))
    if entry.tad_booking and rng.random() < 0.5:
        obstacles.append("booking")
    if rng.random() < 0.15:
        obstacles.append(rng.choice(["cost", "mobility", "other"]))
    if obstacles:
        answers["obstacles"] = obstacles
    if rng.random() < 0.1:
        answers["comment"] = rng.choice(["Il faudrait un bus plus tôt le matin.", "Pas de retour l'après-midi.",
                                         "Réserver la veille, c'est difficile.", "Très pratique, merci."])
    return answers


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", help="database URL (default: MOBILITY_DB_URL or data/observatory/journal.sqlite)")
    p.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 11, 2), help="first day (2026-11-02)")
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--requests", type=int, default=400)
    p.add_argument("--seed", type=int, default=14)
    a = p.parse_args(argv)
    from mobility.planning.context import load_context

    ctx = load_context()
    counts = seed(ctx, engine_for(a.db), a.start, a.days, a.requests, a.seed, verbose=True)
    print(f"journaled {counts['requests']} requests and {counts['surveys']} survey answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
