"""Planner options on the embedded data: wheelchair, walking limit and speed, transfers, change slack, errors."""

from __future__ import annotations

import datetime as dt

import pytest

from mobility.errors import InputError, NoRouteError, NotFoundError
from mobility.planning.planner import PlanOptions

CLETY_MAIRIE = (50.6533, 2.18185)        # stop 62229_MAIRIE: wheelchair_boarding = 2
SAINT_OMER_GARE = (50.75349, 2.26702)
WHEN = dt.datetime(2026, 12, 1, 7, 0)
NO_TAD = dict(allow_tad=False)


def _ride_stops(result):
    return {leg.origin.stop_id for it in result.itineraries for leg in it.rides} | \
           {leg.destination.stop_id for it in result.itineraries for leg in it.rides}


def test_wheelchair_avoids_inaccessible_stops(embedded_planner):
    normal = embedded_planner.plan(CLETY_MAIRIE, SAINT_OMER_GARE, WHEN, options=PlanOptions(**NO_TAD))
    assert "62229_MAIRIE" in _ride_stops(normal)
    try:
        step_free = embedded_planner.plan(CLETY_MAIRIE, SAINT_OMER_GARE, WHEN,
                                          options=PlanOptions(wheelchair=True, **NO_TAD))
    except NoRouteError:
        return  # no accessible way at all is a correct answer too
    stops = embedded_planner.network.stops.set_index("stop_key")
    for it in step_free.itineraries:
        for leg in it.rides:
            for sid in (leg.origin.stop_id, leg.destination.stop_id):
                assert sid not in {"62229_MAIRIE", "62229_ROUTE_DE_DOHEM", "62229_ROUTE_DE_PIHEM"}
                assert sid in stops.index


def test_walking_limit_and_speed(embedded_planner):
    res = embedded_planner.plan(CLETY_MAIRIE, SAINT_OMER_GARE, WHEN, options=PlanOptions(max_walk_m=800, **NO_TAD))
    assert all(it.walk_m <= 800 + 1e-6 for it in res.itineraries)
    for speed in (0.6, 1.5):
        res = embedded_planner.plan((50.7505, 2.2560), (50.7470, 2.2660), WHEN,
                                    options=PlanOptions(walk_speed_mps=speed, **NO_TAD))
        walks = [leg for it in res.itineraries for leg in it.legs if leg.mode == "walk" and leg.distance_m > 5]
        assert walks
        for leg in walks:
            assert leg.duration_s == pytest.approx(leg.distance_m / speed, abs=1.0)


def test_max_transfers_and_change_slack(embedded_planner):
    # Thérouanne -> Fauquembergues needs a change at Saint-Omer (R4 then R3)
    origin, dest = (50.62920, 2.25058), (50.59350, 2.10088)
    res = embedded_planner.plan(origin, dest, WHEN, options=PlanOptions(min_transfer_s=600, **NO_TAD))
    changes = [it for it in res.itineraries if it.transfers >= 1]
    assert changes
    for it in changes:
        rides = it.rides
        for a, b in zip(rides, rides[1:]):
            assert (b.departure - a.arrival).total_seconds() >= 600
    with pytest.raises(NoRouteError):
        embedded_planner.plan(origin, dest, WHEN, options=PlanOptions(max_transfers=0, max_walk_m=500, **NO_TAD))


@pytest.mark.parametrize("kwargs, words", [
    (dict(walk_speed_mps=10), "walk_speed_mps"),
    (dict(max_walk_m=-1), "max_walk_m"),
    (dict(max_transfers=20), "max_transfers"),
])
def test_out_of_range_options_are_named(embedded_planner, kwargs, words):
    with pytest.raises(InputError, match=words):
        embedded_planner.plan(CLETY_MAIRIE, SAINT_OMER_GARE, WHEN, options=PlanOptions(**kwargs))


def test_unknown_stop_and_impossible_request(embedded_planner):
    with pytest.raises(NotFoundError, match="unknown stop id"):
        embedded_planner.plan("stop:NOPE", SAINT_OMER_GARE, WHEN)
    with pytest.raises(InputError, match="outside the timetable's service dates"):
        embedded_planner.plan(CLETY_MAIRIE, SAINT_OMER_GARE, dt.datetime(2031, 1, 1, 8, 0))
    # a Sunday night with no bus and too far to walk
    with pytest.raises(NoRouteError):
        embedded_planner.plan(CLETY_MAIRIE, SAINT_OMER_GARE, dt.datetime(2026, 12, 6, 23, 0),
                              options=PlanOptions(max_hours=2, **NO_TAD))


def test_stop_to_stop_queries(embedded_planner):
    res = embedded_planner.plan("stop:62229_MAIRIE", "stop:62765_GARE", WHEN, options=PlanOptions(**NO_TAD))
    first = res.itineraries[0]
    assert first.rides and first.legs[0].origin.name == "Cléty Mairie"


def test_per_leg_walking_limit(embedded_planner):
    """--max-walk-leg-m bounds every walk (to and from stops, between stops, all the way) within the total;
    a limit above every walk of the answer leaves it unchanged."""
    a, b, when = (50.740317, 2.2473), (50.714749, 2.332023), dt.datetime(2026, 12, 7, 5, 0)
    total = embedded_planner.plan(a, b, when, options=PlanOptions(**NO_TAD))
    walks = [round(leg.distance_m) for it in total.itineraries for leg in it.legs if leg.mode == "walk"]
    assert walks == [403, 202]  # Lumbres, rue du Château: 403 m to the stop
    same = embedded_planner.plan(a, b, when, options=PlanOptions(max_walk_leg_m=450, **NO_TAD))
    assert [it.to_json() for it in same.itineraries] == [it.to_json() for it in total.itineraries]
    for limit in (400.0, 250.0):
        try:
            res = embedded_planner.plan(a, b, when, options=PlanOptions(max_walk_leg_m=limit, **NO_TAD))
        except NoRouteError:
            continue
        legs = [leg.distance_m for it in res.itineraries for leg in it.legs if leg.mode == "walk"]
        assert max(legs) <= limit + 1e-6
    with pytest.raises(InputError, match="max_walk_leg_m"):
        PlanOptions(max_walk_leg_m=-1).validated()
