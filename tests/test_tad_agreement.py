"""Planner and analytics share one on-demand ride model: on a feed with stop-level safe durations, the
travel-time surface and the planner give the same time for (cell, departure) pairs that use TAD."""

from __future__ import annotations

import csv
import datetime as dt
import shutil

import numpy as np
import pytest

DAY = dt.date(2026, 12, 1)
WINDOW = (dt.time(8, 0), dt.time(10, 0))
BOOKED = dt.datetime(2026, 11, 30, 8, 0)  # analytics assume rides booked in advance (the day before)
#: stop-level safe_duration_* (2021 draft: factor, offset in minutes) given to the zone rows of TAD-EPER
FACTOR, OFFSET_MIN = 1.1, 12


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    from mobility.config import DEFAULT_COMMUNES_PATH, DEFAULT_GTFS_PATHS, DEFAULT_SERVICES_PATH
    from mobility.planning.context import load_context

    dst = tmp_path_factory.mktemp("gtfs") / "audomarois-safe-durations"
    shutil.copytree(DEFAULT_GTFS_PATHS[0], dst)
    path = dst / "stop_times.txt"
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols, rows = list(reader.fieldnames) + ["safe_duration_factor", "safe_duration_offset"], list(reader)
    for r in rows:
        if r["trip_id"].startswith("TAD-EPER") and r["location_id"]:
            r["safe_duration_factor"], r["safe_duration_offset"] = str(FACTOR), str(OFFSET_MIN)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, cols, restval="")
        w.writeheader()
        w.writerows(rows)
    return load_context([dst], None, DEFAULT_SERVICES_PATH, DEFAULT_COMMUNES_PATH)


def test_the_feed_has_stop_level_safe_durations(ctx):
    flex = ctx.planner.network.flex
    hops = [h for h in flex.hops if flex.trips[h.trip].trip_id.startswith("TAD-EPER")]
    assert hops
    for h in hops:
        assert flex.trips[h.trip].hop_ride_s(h, 1000.0) == pytest.approx(FACTOR * 1000 + OFFSET_MIN * 60)


@pytest.mark.slow  # multi-second; CI's second step runs it
def test_surface_and_planner_agree_on_200_tad_pairs(ctx):
    from mobility.analysis.surface import UNREACHED, compute_surface
    from mobility.errors import NoRouteError

    with_tad = compute_surface(ctx, "svc-024", DAY, WINDOW, step_min=10)
    without = compute_surface(ctx, "svc-024", DAY, WINDOW, step_min=10, modes="transit")
    t, b = with_tad.times_s.astype(np.int64), without.times_s.astype(np.int64)
    cells, deps = np.nonzero((t != UNREACHED) & (t < b))  # the pairs that TAD serves better
    assert len(cells) >= 200
    pick = np.random.default_rng(12).choice(len(cells), 200, replace=False)
    origin = ctx.planner.service_day_origin(DAY).replace(tzinfo=None)
    site = with_tad.target.points[0]
    mismatches = []
    for c, i in zip(cells[pick], deps[pick]):
        when = origin + dt.timedelta(seconds=int(with_tad.departures_s[i]))
        try:
            res = ctx.planner.plan((float(with_tad.grid.lat[c]), float(with_tad.grid.lon[c])), (site.lat, site.lon),
                                   when, booked_at=BOOKED)
            best = int((min(it.arrival for it in res.itineraries).replace(tzinfo=None) - when).total_seconds())
        except NoRouteError:
            best = UNREACHED
        if best != t[c, i]:
            mismatches.append((int(c), int(i), int(t[c, i]), best))
    assert not mismatches, mismatches[:10]
