"""On-demand transport (TAD, GTFS-Flex v2) in door-to-door planning: embedded Audomarois data and real flex feeds."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely

from mobility.errors import NoRouteError
from mobility.network.flex import FlexService, Zone, build_flex
from mobility.planning.itinerary import format_itinerary
from mobility.planning.planner import PlanOptions

#: a farm road in the Fauquembergues TAD zone, about 7 km from the nearest stop
IN_FAUQ_ZONE = (50.54309509508218, 2.2215832450358017)
#: svc-001 Maison des services publics, Fauquembergues (data/services.csv)
MSP_FAUQ = (50.593427, 2.100941)
GARE = (50.7539, 2.2669)
DAY = dt.date(2026, 12, 1)  # a Tuesday
BEFORE = dt.datetime(2026, 11, 30, 10, 0)  # before the "day before 17:00" deadline
AFTER = dt.datetime(2026, 11, 30, 17, 30)


def _tad_legs(result):
    return [leg for it in result.itineraries for leg in it.legs if leg.mode == "tad"]


def test_zone_resident_reaches_the_maison_des_services_by_tad(embedded_planner):
    res = embedded_planner.plan(IN_FAUQ_ZONE, MSP_FAUQ, dt.datetime.combine(DAY, dt.time(9)), booked_at=BEFORE)
    legs = _tad_legs(res)
    assert legs, "a TAD option is expected"
    leg = legs[0]
    assert leg.booking["deadline"] == "2026-11-30T17:00:00+01:00"
    assert leg.booking["instructions"] == "Réserver au 03 53 48 00 00 avant le lundi 30 novembre à 17:00"
    assert leg.booking["rule_id"] == "RES_VEILLE" and leg.booking["phone"]
    assert leg.window["pickup"]["start"].startswith("2026-12-01T07:00")
    assert dt.time(7) <= leg.departure.time() and leg.arrival.time() <= dt.time(19)
    it = next(i for i in res.itineraries if any(x.mode == "tad" for x in i.legs))
    assert "Réserver au 03 53 48 00 00 avant le lundi 30 novembre à 17:00" in format_itinerary(it)
    js = res.to_json()["itineraries"][0]["legs"]
    assert any(x["mode"] == "tad" and "booking" in x and "window" in x for x in js)
    # ride time = 1.5 x driving + 5 min (no safe_duration_* in the feed): longer than 5 min
    assert leg.duration_s > 300


def test_after_the_deadline_no_tad_is_offered(embedded_planner):
    when = dt.datetime.combine(DAY, dt.time(9))
    try:
        res = embedded_planner.plan(IN_FAUQ_ZONE, MSP_FAUQ, when, booked_at=AFTER)
    except NoRouteError:
        return
    assert not _tad_legs(res)


def test_no_tad_option_and_arrive_by_tad_plus_bus(embedded_planner):
    when = dt.datetime.combine(DAY, dt.time(15))
    with pytest.raises(NoRouteError):
        embedded_planner.plan(IN_FAUQ_ZONE, GARE, when, arrive_by=True, booked_at=BEFORE,
                              options=PlanOptions(allow_tad=False))
    res = embedded_planner.plan(IN_FAUQ_ZONE, GARE, when, arrive_by=True, booked_at=BEFORE)
    it = res.itineraries[0]
    assert [leg.mode for leg in it.legs][:2] == ["tad", "bus"]
    assert it.arrival <= when.replace(tzinfo=it.arrival.tzinfo)
    tad, bus = it.legs[0], it.legs[1]
    assert (bus.departure - tad.arrival).total_seconds() >= 120  # change slack after the estimated ride
    assert sum(1 for leg in it.legs if leg.mode == "tad") == 1


def test_bus_then_tad_to_the_door_depart_at(embedded_planner):
    res = embedded_planner.plan(GARE, IN_FAUQ_ZONE, dt.datetime.combine(DAY, dt.time(11, 30)), booked_at=BEFORE)
    it = res.itineraries[0]
    assert it.legs[-1].mode == "tad" and it.legs[-1].destination.stop_id is None
    assert any(leg.mode == "bus" for leg in it.legs)


def test_zone_borders_and_overlapping_zones():
    square = shapely.box(2.0, 50.0, 2.1, 50.1)
    other = shapely.box(2.05, 50.0, 2.2, 50.1)
    svc = FlexService(zones=[Zone("a", "a", 0, "A", square), Zone("b", "b", 0, "B", other)])
    assert svc.zones_at(50.05, 2.1) == [0, 1]  # on the border of A, inside B
    assert svc.zones_at(50.05, 2.02) == [0]
    assert svc.zones_at(50.05, 2.2000001) == [1]  # a few centimetres outside: border tolerance
    assert svc.zones_at(50.05, 2.21) == []


def test_embedded_flex_model(embedded_planner):
    flex = embedded_planner.network.flex
    assert len(flex.zones) == 4 and len(flex.hops) == 12 and not flex.warnings
    assert {r.rule_id for r in flex.rules.values()} == {"RES_J2H", "RES_VEILLE"}


# ------------------------------------------------------------------------------------------ real data

@pytest.mark.realdata
@pytest.mark.parametrize("name", ["aspen-flex-on-demand.gtfs", "aspen-flex-on-demand.2021-11-draft-columns.gtfs.zip",
                                  "lincoln-county-flex.gtfs.zip", "ruralcommunity-flex-vt-us.zip"])
def test_real_flex_feeds_load(realdata, name):
    from mobility.loaders.gtfs import load_feed

    feed = load_feed(realdata / "gtfs_flex" / name).load_all()
    svc = build_flex([feed])
    if name.startswith("aspen"):
        assert len(svc.zones) == 1 and svc.hops and not svc.warnings
    else:  # pre-standard (Trillium) flex columns: a clear warning, no crash
        assert not svc.hops
        assert any("pre-standard" in w and "not supported" in w for w in svc.warnings)


@pytest.fixture(scope="module")
def cobb(realdata):
    from mobility.planning.planner import Planner

    base = realdata / "cobb_county"
    return Planner.load([base / "cobblinc-bus-30-only.gtfs.zip", base / "cobblinc-scheduled-deviated-flex.gtfs"],
                        base / "cobb-county.filtered.osm.pbf")


@pytest.mark.realdata
def test_cobb_bus_and_flex_zone(cobb):
    bus_side, zone_side = (33.84329, -84.583633), (33.86701256815635, -84.61787939071655)
    booked = dt.datetime(2021, 11, 30, 12, 0)
    assert len(cobb.network.flex.zones) == 3
    res = cobb.plan(bus_side, zone_side, dt.datetime(2021, 12, 1, 10, 0), booked_at=booked)
    modes = [leg.mode for leg in res.itineraries[0].legs]
    assert "bus" in modes and modes[-1] == "tad"
    res = cobb.plan(zone_side, bus_side, dt.datetime(2021, 12, 1, 14, 0), arrive_by=True, booked_at=booked)
    modes = [leg.mode for leg in res.itineraries[0].legs]
    assert modes[0] == "tad" and "bus" in modes
    leg = res.itineraries[0].legs[0]
    assert leg.booking["phone"] == "(770) 528-1053" and leg.booking["deadline"].endswith("-05:00")
