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


def test_zones_at_tests_a_few_zones_each_and_many_with_a_tree(embedded_planner, monkeypatch):
    """Up to ``_FEW_ZONES`` zones each is tested (an array call), beyond them an STRtree is queried: the same
    zones at every point, on the embedded TAD zones and on a ring of 40 overlapping ones."""
    import numpy as np

    from mobility.network import flex as flex_module

    ring = [Zone(f"z{i}", f"z{i}", 0, f"Z{i}", shapely.Point(2.2 + 0.02 * np.cos(i / 6), 50.7 + 0.02 * np.sin(i / 6))
                 .buffer(0.015)) for i in range(40)]
    rng = np.random.default_rng(3)
    for zones in (embedded_planner.network.flex.zones, ring):
        x0, y0, x1, y1 = shapely.GeometryCollection([z.geometry for z in zones]).bounds
        points = np.c_[rng.uniform(y0 - 0.01, y1 + 0.01, 600), rng.uniform(x0 - 0.01, x1 + 0.01, 600)]
        answers = []
        for few in (64, 0):
            monkeypatch.setattr(flex_module, "_FEW_ZONES", few)
            svc = FlexService(zones=list(zones))
            answers.append([svc.zones_at(float(a), float(b)) for a, b in points])
        assert answers[0] == answers[1] and sum(map(bool, answers[0])) > 50


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
        # stop-level safe_duration_factor 1 / safe_duration_offset 20 min (trips.txt has none)
        hop = svc.hops[0]
        assert svc.trips[hop.trip].hop_ride_s(hop, 600.0) == pytest.approx(600 + 20 * 60)
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


# ------------------------------------------------------------------ synthetic additions to the embedded feed
# A copy of the embedded feed plus: a "ligne virtuelle" (fixed times, pickup_type / drop_off_type 2 with
# booking rules), a night TAD in the Fauquembergues zone whose window crosses midnight (22:00-25:30, only
# on Thursday 3 December, stop-level safe_duration_* of the 2021 draft), and a real-time booking rule.

ARQUES_MAIRIE = (50.7403888, 2.3207973)
#: another point of the Fauquembergues zone, 3.5 km from IN_FAUQ_ZONE (a ride inside the zone)
FAUQ_ZONE_B = (50.566929, 2.189759)
VL_ROWS = [  # trip_id, arrival, departure, stop_id, seq, pickup_type, drop_off_type, pickup rule, drop-off rule
    ("VL-1005", "10:05:00", "10:05:00", "62325_MAIRIE", 1, 2, 1, "RES_VEILLE", ""),
    ("VL-1005", "10:50:00", "10:50:00", "62040_MAIRIE", 2, 1, 0, "", ""),
    ("VL-1405", "14:05:00", "14:05:00", "62040_MAIRIE", 1, 0, 1, "", ""),
    ("VL-1405", "14:50:00", "14:50:00", "62325_MAIRIE", 2, 1, 2, "", "RES_J2H"),
]


@pytest.fixture(scope="module")
def synthetic_planner(embedded_planner, tmp_path_factory):
    import csv
    import dataclasses
    import shutil
    import threading
    from collections import OrderedDict

    from mobility.config import DEFAULT_GTFS_PATHS
    from mobility.loaders.gtfs import load_feed
    from mobility.planning.planner import Planner

    src = DEFAULT_GTFS_PATHS[0]
    dst = tmp_path_factory.mktemp("gtfs") / "audomarois-plus"
    shutil.copytree(src, dst)

    def append(name: str, rows: list[dict]) -> None:
        with open(dst / name, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            cols, old = list(reader.fieldnames), list(reader)
        cols += [c for r in rows for c in r if c not in cols]
        with open(dst / name, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, cols, restval="")
            w.writeheader()
            w.writerows(old + rows)

    append("booking_rules.txt", [{"booking_rule_id": "RES_TR", "booking_type": "0",
                                  "phone_number": "+33 3 53 48 00 00"}])
    append("routes.txt", [{"route_id": "VL", "agency_id": "HDF", "route_short_name": "VL",
                           "route_long_name": "Ligne virtuelle Fauquembergues – Arques", "route_type": "3"},
                          {"route_id": "TAD-NUIT", "agency_id": "HDF", "route_short_name": "TAD Nuit",
                           "route_long_name": "TAD de nuit Fauquembergues", "route_type": "3"}])
    append("calendar_dates.txt", [{"service_id": "NUIT_JEU", "date": "20261203", "exception_type": "1"}])
    append("trips.txt", [{"route_id": "VL", "service_id": "LAV", "trip_id": "VL-1005", "trip_headsign": "Arques"},
                         {"route_id": "VL", "service_id": "LAV", "trip_id": "VL-1405",
                          "trip_headsign": "Fauquembergues"},
                         {"route_id": "TAD-NUIT", "service_id": "NUIT_JEU", "trip_id": "TAD-NUIT-JEU",
                          "trip_headsign": "TAD de nuit"}])
    rows = [{"trip_id": t, "arrival_time": a, "departure_time": d, "stop_id": s, "stop_sequence": str(q),
             "pickup_type": str(pt), "drop_off_type": str(dt_), "timepoint": "1", "pickup_booking_rule_id": pr,
             "drop_off_booking_rule_id": dr} for t, a, d, s, q, pt, dt_, pr, dr in VL_ROWS]
    rows.append({"trip_id": "TAD-NUIT-JEU", "location_id": "TAD-FAUQ", "stop_sequence": "1", "pickup_type": "2",
                 "drop_off_type": "2", "timepoint": "0", "start_pickup_drop_off_window": "22:00:00",
                 "end_pickup_drop_off_window": "25:30:00", "pickup_booking_rule_id": "RES_TR",
                 "drop_off_booking_rule_id": "RES_TR", "safe_duration_factor": "1.2",
                 "safe_duration_offset": "10"})
    append("stop_times.txt", rows)
    feed = load_feed(dst, feed_id=embedded_planner.network.feeds[0].feed_id).load_all()
    net = embedded_planner.network
    net2 = dataclasses.replace(net, feeds=[feed], flex=build_flex([feed], net.stops, net.drive),
                               _timetables=OrderedDict(), _lock=threading.Lock())
    return Planner(net2)


def _ride_legs(result, trip_id):
    return [leg for it in result.itineraries for leg in it.legs if leg.trip_id == trip_id]


def test_ligne_virtuelle_is_booked_like_a_tad(synthetic_planner):
    p = synthetic_planner
    st = p.network.feeds[0].stop_times
    row = st[(st["trip_id"] == "VL-1005") & (st["stop_sequence"] == 1)].iloc[0]
    assert row["pickup_booking_rule_id"] == "RES_VEILLE" and row["drop_off_booking_rule_id"] == ""
    assert (st[~st["trip_id"].str.startswith("VL")]["pickup_booking_rule_id"] == "").all()
    assert p.network.flex.fixed_rules["VL-1005"] == (("RES_VEILLE", None), (None, None))
    when = dt.datetime.combine(DAY, dt.time(10))
    res = p.plan(MSP_FAUQ, ARQUES_MAIRIE, when, booked_at=BEFORE)
    legs = _ride_legs(res, "VL-1005")
    assert legs, "the ligne virtuelle is the way to Arques at 10:00"
    b = legs[0].booking
    assert b["deadline"] == "2026-11-30T17:00:00+01:00" and b["rule_id"] == "RES_VEILLE"
    assert b["phone"] == "+33 3 53 48 00 00" and b["message"].startswith("Réservation la veille")
    assert b["instructions"] == "Réserver au 03 53 48 00 00 avant le lundi 30 novembre à 17:00"
    assert "Monday 30 November" in b["instructions_en"]
    js = res.to_json()["itineraries"]
    assert any(leg.get("booking") for it in js for leg in it["legs"] if leg.get("trip_id") == "VL-1005")
    # other rides carry no booking
    assert all(leg.booking is None for it in res.itineraries for leg in it.legs
               if leg.mode not in ("tad", "walk") and leg.trip_id != "VL-1005")
    # after the deadline: the run is removed before the search (not merely filtered out)
    try:
        late = p.plan(MSP_FAUQ, ARQUES_MAIRIE, when, booked_at=AFTER)
        assert not _ride_legs(late, "VL-1005")
    except NoRouteError:
        pass
    from mobility.planning.virtual_lines import bookable_timetable

    tt = p.network.timetable(DAY, walk_speed_mps=1.2, max_walk_m=2000.0, min_transfer_s=120)
    closed = bookable_timetable(p.network, p.axis, tt, p.localize(AFTER))
    assert closed is not tt and closed.n_trips == tt.n_trips
    # booked well ahead, nothing is closed (at BEFORE, Monday's own runs of the timetable already are)
    assert bookable_timetable(p.network, p.axis, tt, p.localize(dt.datetime(2026, 11, 20, 9))) is tt
    # arrive-by uses the same restricted timetable
    res = p.plan(MSP_FAUQ, ARQUES_MAIRIE, dt.datetime.combine(DAY, dt.time(11)), arrive_by=True, booked_at=BEFORE)
    assert _ride_legs(res, "VL-1005")


def test_ligne_virtuelle_drop_off_rule_exact_deadline(synthetic_planner):
    """RES_J2H (2 h before the trip) on the drop-off: the deadline counts from the boarding (14:05)."""
    p = synthetic_planner
    when = dt.datetime.combine(DAY, dt.time(14))
    res = p.plan(ARQUES_MAIRIE, MSP_FAUQ, when, booked_at=dt.datetime.combine(DAY, dt.time(11)))
    legs = _ride_legs(res, "VL-1405")
    assert legs and legs[0].booking["deadline"] == "2026-12-01T12:05:00+01:00"
    assert legs[0].booking["rule_id"] == "RES_J2H"
    # 12:30: before the bound used ahead of the search (14:50 - 2 h) but after the exact deadline
    for booked in (dt.time(12, 30), dt.time(13, 0)):
        try:
            res = p.plan(ARQUES_MAIRIE, MSP_FAUQ, when, booked_at=dt.datetime.combine(DAY, booked))
        except NoRouteError:
            continue
        assert not _ride_legs(res, "VL-1405")


def _night(res):
    return [leg for leg in _tad_legs(res) if leg.trip_id == "TAD-NUIT-JEU"]


def test_window_across_midnight_belongs_to_the_previous_service_day(synthetic_planner):
    p = synthetic_planner
    thursday, friday = dt.date(2026, 12, 3), dt.date(2026, 12, 4)
    booked = dt.datetime(2026, 12, 1, 10, 0)
    res = p.plan(IN_FAUQ_ZONE, FAUQ_ZONE_B, dt.datetime.combine(friday, dt.time(0, 30)), booked_at=booked)
    legs = _night(res)
    assert legs, "the Thursday night ride (window 22:00-25:30) serves a request at Friday 00:30"
    leg = legs[0]
    assert leg.window["service_date"] == "2026-12-03"
    assert leg.window["pickup"]["start"] == "2026-12-03T22:00:00+01:00"
    assert leg.window["pickup"]["end"] == "2026-12-04T01:30:00+01:00"
    assert leg.departure.replace(tzinfo=None) == dt.datetime.combine(friday, dt.time(0, 30))
    res = p.plan(IN_FAUQ_ZONE, FAUQ_ZONE_B, dt.datetime.combine(thursday, dt.time(23, 0)), booked_at=booked)
    leg = _night(res)[0]
    assert leg.window["service_date"] == "2026-12-03"
    assert leg.departure.replace(tzinfo=None) == dt.datetime.combine(thursday, dt.time(23, 0))
    assert leg.booking["rule_id"] == "RES_TR"
    # Thursday 00:30: the night service did not run on Wednesday
    res = p.plan(IN_FAUQ_ZONE, FAUQ_ZONE_B, dt.datetime.combine(thursday, dt.time(0, 30)), booked_at=booked)
    assert not _night(res)
    # after 25:30 (Friday 01:45) the window is closed
    try:
        res = p.plan(IN_FAUQ_ZONE, FAUQ_ZONE_B, dt.datetime.combine(friday, dt.time(1, 45)), booked_at=booked)
        assert not _night(res)
    except NoRouteError:
        pass


def test_stop_level_safe_duration_is_used(synthetic_planner):
    flex = synthetic_planner.network.flex
    trip = next(t for t in flex.trips if t.trip_id == "TAD-NUIT-JEU")
    hop = next(h for h in flex.hops if flex.trips[h.trip] is trip)
    assert flex.trips[hop.trip].hop_ride_s(hop, 1000.0) == pytest.approx(1.2 * 1000 + 600)
    # the embedded trips have neither stop- nor trip-level values: the documented default
    other = next(t for t in flex.trips if t.trip_id == "TAD-FAUQ-INTERNE")
    assert other.ride_s(1000.0, 0, 1) == pytest.approx(1.5 * 1000 + 300)


def test_safe_duration_precedence_stop_then_trip_then_default():
    from mobility.network.flex import DEFAULT_DURATION_FACTOR, DEFAULT_DURATION_OFFSET_S, FlexRow, FlexTrip

    def row(f=float("nan"), o=float("nan")):
        return FlexRow(0, (), 0, 3600, False, True, True, None, None, False, False, f, o)

    trip = FlexTrip(0, "t", "r", "s", "", 2.0, 60.0, (row(1.1, 4), row(), row(o=7)))
    assert trip.ride_s(100.0, 0, 1) == pytest.approx(1.1 * 100 + 240)   # alight row has none: board row's
    assert trip.ride_s(100.0, 0, 2) == pytest.approx(100 + 420)         # alight row's (factor missing: 1)
    assert trip.ride_s(100.0, 1, 1) == pytest.approx(2.0 * 100 + 60)    # trips.txt values
    assert trip.ride_s(100.0) == pytest.approx(2.0 * 100 + 60)
    plain = FlexTrip(0, "t", "r", "s", "", DEFAULT_DURATION_FACTOR, DEFAULT_DURATION_OFFSET_S, (row(),))
    assert plain.ride_s(100.0, 0, 0) == pytest.approx(1.5 * 100 + 300)


def test_late_night_request_finds_the_next_service_day_ride(embedded_planner):
    """Tuesday 22:00 in the Fauquembergues zone: the next TAD is Wednesday 07:00 (within the 12 h horizon)."""
    res = embedded_planner.plan(IN_FAUQ_ZONE, MSP_FAUQ, dt.datetime.combine(DAY, dt.time(22)), booked_at=BEFORE)
    legs = _tad_legs(res)
    assert legs, "a TAD ride on the next service day is expected"
    leg = legs[0]
    assert leg.window["service_date"] == "2026-12-02"
    assert leg.departure.replace(tzinfo=None) == dt.datetime(2026, 12, 2, 7, 0)
    assert leg.booking["deadline"] == "2026-12-01T17:00:00+01:00"
    # a shorter horizon excludes it
    with pytest.raises(NoRouteError):
        embedded_planner.plan(IN_FAUQ_ZONE, MSP_FAUQ, dt.datetime.combine(DAY, dt.time(22)), booked_at=BEFORE,
                              options=PlanOptions(max_hours=6))


def test_restrict_trips_splits_patterns_and_keeps_the_search_exact(embedded_planner):
    import numpy as np

    from mobility.network.timetable import restrict_trips
    from mobility.routing.raptor import INF, earliest_arrival

    tt = embedded_planner.network.timetable(DAY, walk_speed_mps=1.2, max_walk_m=2000.0, min_transfer_s=120)
    ones = np.ones(len(tt.trip_dep), np.uint8)
    assert restrict_trips(tt, ones, ones) is tt
    rng = np.random.default_rng(1)
    board = (rng.random(len(tt.trip_dep)) > 0.3).astype(np.uint8)
    rt = restrict_trips(tt, board, ones)
    assert sorted(rt.trip_ids) == sorted(tt.trip_ids) and rt.n_patterns > tt.n_patterns
    for p in range(rt.n_patterns):  # FIFO inside every (sub-)pattern
        n = int(rt.pattern_stop_ptr[p + 1] - rt.pattern_stop_ptr[p])
        T = int(rt.pattern_trip_ptr[p + 1] - rt.pattern_trip_ptr[p])
        a = rt.trip_arr[rt.trip_times_ptr[p]:rt.trip_times_ptr[p + 1]].reshape(T, n)
        assert (np.diff(a, axis=0) >= 0).all()
    # same search on both: the restricted one is never earlier, and equal where nothing was restricted
    src = (np.array([tt.stop_index[k] for k in ("62765_GARE",)]), np.array([8 * 3600]), np.array([0.0]))
    full = earliest_arrival(tt, src, 4).arrival_s[-1]
    part = earliest_arrival(rt, src, 4).arrival_s[-1]
    assert (part >= full).all()
    assert (earliest_arrival(restrict_trips(tt, ones, ones), src, 4).arrival_s[-1] == full).all()
    # closing every boarding at the source stop leaves it unreachable by any ride from there
    closed = ones.copy()
    sp, tb = tt.pattern_stop_ptr, tt.trip_times_ptr
    s0 = int(src[0][0])
    for p in range(tt.n_patterns):
        stops = tt.pattern_stops[sp[p]:sp[p + 1]]
        n = len(stops)
        for i in np.flatnonzero(stops == s0):
            closed[int(tb[p]) + i:int(tb[p + 1]):n] = 0
    res = earliest_arrival(restrict_trips(tt, closed, ones), src, 4)
    assert (res.arrival_s[-1][np.arange(tt.n_stops) != s0] >= INF).all()


def test_trip_level_safe_duration_offset_is_in_seconds(embedded_planner, tmp_path):
    """Adopted GTFS (trips.txt): safe_duration_offset in seconds; the 2021 stop-level draft: minutes."""
    import csv
    import shutil

    from mobility.config import DEFAULT_GTFS_PATHS
    from mobility.loaders.gtfs import load_feed

    dst = tmp_path / "feed"
    shutil.copytree(DEFAULT_GTFS_PATHS[0], dst)
    with open(dst / "trips.txt", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols, rows = list(reader.fieldnames) + ["safe_duration_factor", "safe_duration_offset"], list(reader)
    for r in rows:
        if r["trip_id"] == "TAD-FAUQ-INTERNE":
            r["safe_duration_factor"], r["safe_duration_offset"] = "1.3", "90"
    with open(dst / "trips.txt", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, cols, restval="")
        w.writeheader()
        w.writerows(rows)
    net = embedded_planner.network
    flex = build_flex([load_feed(dst).load_all()], net.stops, net.drive)
    trip = next(t for t in flex.trips if t.trip_id == "TAD-FAUQ-INTERNE")
    assert trip.duration_offset_s == 90.0
    assert trip.ride_s(1000.0, 0, 1) == pytest.approx(1.3 * 1000 + 90)
