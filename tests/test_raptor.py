"""Hand-made cases for the timetable builder and the RAPTOR kernels."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mobility.errors import InputError
from mobility.network.timetable import build_timetable, day_shift_s
from mobility.routing.raptor import INF, earliest_arrival, latest_departure, pareto_journeys
from reference import feed_from_spec, ref_earliest_arrival, ref_latest_departure

D = dt.date(2024, 5, 14)
PREV, NEXT = D - dt.timedelta(days=1), D + dt.timedelta(days=1)
H = 3600


def _feed(trips, stops="ABCDEF", services=None, fid="f", **stop_kw):
    stop_rows = [dict(stop_id=s, **stop_kw.get(s, {})) for s in stops] if isinstance(stops, str) else stops
    return feed_from_spec(fid, stop_rows, trips, services or {D: {"T"}})


def _trip(tid, route, rows, service="T", **kw):
    return dict(trip_id=tid, route_id=route, service_id=service, stops=rows, **kw)


def _q(tt, stop, t, walk=0.0):
    return (np.array([tt.stop_index[stop]]), np.array([t]), np.array([walk]))


def _arrival(tt, src, dest, t, rounds=4, **kw):
    res = earliest_arrival(tt, _q(tt, src, t), rounds, **kw)
    return res, int(res.arrival_s[-1, tt.stop_index[dest]])


# ------------------------------------------------------------------------------------------ timetable

def test_patterns_and_csr_layout():
    feed = _feed([_trip("t1", "R", [("A", 100, 100), ("B", 200, 210), ("C", 300, 300)]),
                  _trip("t2", "R", [("A", 50, 50), ("B", 150, 160), ("C", 250, 250)]),
                  _trip("t3", "R", [("A", 70, 70), ("C", 400, 400)])])
    tt = build_timetable(feed, D)
    assert tt.n_patterns == 2 and tt.n_trips == 3
    p = int(tt.stop_patterns[tt.stop_pattern_ptr[tt.stop_index["B"]]])
    assert [tt.stop_ids[s] for s in tt.pattern_stop_list(p)] == ["A", "B", "C"]
    trips = range(tt.pattern_trip_ptr[p], tt.pattern_trip_ptr[p + 1])
    assert [tt.trip_ids[t] for t in trips] == ["t2", "t1"]          # sorted by first departure
    arr, dep = tt.trip_times(tt.pattern_trip_ptr[p] + 1)
    assert list(arr) == [100, 200, 300] and list(dep) == [100, 210, 300]
    p0 = tt.pattern_stop_ptr[p]
    assert tt.pattern_can_board[p0 + 2] == 0 and tt.pattern_can_alight[p0] == 0
    assert tt.trip_arr.dtype == np.int64 and tt.pattern_stops.dtype == np.int32


def test_overtaking_trips_are_split_into_fifo_patterns():
    feed = _feed([_trip("slow", "R", [("A", 1000, 1000), ("B", 2000, 2000), ("C", 3000, 3000)]),
                  _trip("fast", "R", [("A", 1200, 1200), ("B", 1500, 1500), ("C", 2000, 2000)])])
    tt = build_timetable(feed, D)
    assert tt.n_patterns == 2
    for p in range(tt.n_patterns):
        n = len(tt.pattern_stop_list(p))
        T = tt.pattern_trip_ptr[p + 1] - tt.pattern_trip_ptr[p]
        block = tt.trip_dep[tt.trip_times_ptr[p]:tt.trip_times_ptr[p + 1]].reshape(T, n)
        assert np.all(np.diff(block, axis=0) >= 0)
    _, a = _arrival(tt, "A", "C", 900)
    assert a == 2000
    _, a = _arrival(tt, "A", "B", 1100)
    assert a == 1500


def test_previous_day_trip_after_midnight_and_next_day_trip():
    feed = _feed([_trip("late", "R", [("A", 24 * H + 600, 24 * H + 600), ("B", 25 * H, 25 * H)], service="Y"),
                  _trip("early", "R", [("A", 600, 600), ("B", 1200, 1200)], service="N")],
                 services={PREV: {"Y"}, NEXT: {"N"}})
    tt = build_timetable(feed, D)
    res, a = _arrival(tt, "A", "B", 0)
    assert a == H
    ride = res.journeys_to(tt.stop_index["B"])[0].rides[0]
    assert ride.trip_id == "late" and ride.day_offset == -1 and ride.start_s == 600
    res, a = _arrival(tt, "A", "B", 86000)
    assert a == 86400 + 1200
    assert res.journeys_to(tt.stop_index["B"])[0].rides[0].day_offset == 1


def test_day_shift_follows_daylight_saving():
    assert day_shift_s("Europe/Paris", "Europe/Paris", dt.date(2024, 3, 31), -1) == -82800
    assert day_shift_s("Europe/Paris", "Europe/Paris", dt.date(2024, 4, 1), -1) == -86400
    assert day_shift_s("Europe/Paris", "Europe/Paris", dt.date(2024, 3, 30), 1) == 82800
    assert day_shift_s("UTC", "UTC", D, 1) == 86400


def test_multi_feed_namespacing():
    f1 = _feed([_trip("t", "R", [("A", 100, 100), ("B", 200, 200)])], stops="AB", fid="one")
    f2 = _feed([_trip("t", "R", [("B", 300, 300), ("C", 400, 400)])], stops="BC", fid="two")
    tt = build_timetable([f1, f2], D, footpaths=pd.DataFrame(dict(from_stop_id=["one:B"], to_stop_id=["two:B"],
                                                                   duration_s=[30], walk_m=[40.0])))
    assert set(tt.stop_ids) == {"one:A", "one:B", "two:B", "two:C"}
    i = tt.stop_index["two:B"]
    assert (tt.stop_feed[i], tt.stop_orig_ids[i]) == (1, "B")
    assert set(tt.trip_ids) == {"one:t", "two:t"}
    res = earliest_arrival(tt, _q(tt, "one:A", 0), 3)
    j = res.journeys_to(tt.stop_index["two:C"])
    assert [leg.kind for leg in j[0].legs] == ["access", "ride", "transfer", "ride"]
    assert j[0].arrival_s == 400 and j[0].walk_m == 40.0


# ------------------------------------------------------------------------------------------ transfers

def test_transfer_slack_same_stop_and_after_footpath():
    feed = _feed([_trip("t1", "R1", [("A", 0, 0), ("B", 1000, 1000)]),
                  _trip("t2", "R2", [("B", 1030, 1030), ("C", 1500, 1500)]),
                  _trip("t3", "R2", [("B", 1200, 1200), ("C", 1700, 1700)]),
                  _trip("t4", "R3", [("D", 1100, 1100), ("E", 1300, 1300)]),
                  _trip("t5", "R3", [("D", 1160, 1160), ("E", 1350, 1350)])])
    fp = pd.DataFrame(dict(from_stop_id=["B"], to_stop_id=["D"], duration_s=[100], walk_m=[120.0]))
    tt = build_timetable(feed, D, footpaths=fp)
    assert _arrival(tt, "A", "C", 0, min_transfer_s=0)[1] == 1500
    assert _arrival(tt, "A", "C", 0, min_transfer_s=60)[1] == 1700
    assert _arrival(tt, "A", "E", 0, min_transfer_s=0)[1] == 1300
    assert _arrival(tt, "A", "E", 0, min_transfer_s=60)[1] == 1350   # footpath 100 s + slack 60 s
    # the stored default applies when the query gives none; never to access
    tt60 = build_timetable(feed, D, footpaths=fp, min_transfer_s=60)
    assert _arrival(tt60, "A", "C", 0)[1] == 1700
    assert _arrival(tt60, "B", "C", 1030)[1] == 1500


def test_pickup_dropoff_forbids_and_booking_flags():
    feed = _feed([_trip("t1", "R", [("A", 0, 0, 0, 0), ("B", 100, 100, 1, 1), ("C", 200, 200, 2, 3)])])
    tt = build_timetable(feed, D)
    assert _arrival(tt, "A", "B", 0)[1] == INF      # no drop-off at B
    assert _arrival(tt, "B", "C", 0)[1] == INF      # no pickup at B
    res, a = _arrival(tt, "A", "C", 0)
    assert a == 200
    ride = res.journeys_to(tt.stop_index["C"])[0].rides[0]
    assert ride.alight_booking and not ride.board_booking


# ---------------------------------------------------------------------------------------- frequencies

def test_headway_frequency_expected_wait_is_half_headway():
    feed = _feed([_trip("f", "R", [("A", 0, 0), ("B", 600, 660), ("C", 1200, 1200)],
                        frequencies=[(H, 2 * H, 600, 0)])])
    tt = build_timetable(feed, D)
    assert tt.n_trips == 1 and tt.pattern_is_freq[0] == 1
    # ready at 4000 at A: expected wait 300 s (not 600) -> run starts 4300
    res, a = _arrival(tt, "A", "C", 4000)
    assert a == 4300 + 1200
    ride = res.journeys_to(tt.stop_index["C"])[0].rides[0]
    assert ride.headway_based and ride.run_start_s == 4300 and ride.start_s == 4300
    assert _arrival(tt, "A", "C", 3000)[1] == H + 1200        # before the first vehicle: wait for it
    assert _arrival(tt, "B", "C", 4000)[1] == 4000 + 300 + 540  # mid-route boarding: same rule
    assert _arrival(tt, "A", "C", 6950)[1] == INF              # 6950 + 300 >= end
    # arrive-by is the exact inverse
    for deadline in (H + 1200, 5500, 5499, 2 * H + 1200, 9000):
        rb = latest_departure(tt, _q(tt, "C", deadline), 2)
        dep = int(rb.departure_s[-1, tt.stop_index["A"]])
        if dep > -INF:
            assert _arrival(tt, "A", "C", dep)[1] <= deadline
            assert _arrival(tt, "A", "C", dep + 1)[1] > deadline
        else:
            assert _arrival(tt, "A", "C", 0)[1] > deadline
    assert latest_departure(tt, _q(tt, "C", 9000), 2).departure_s[-1, tt.stop_index["A"]] == 2 * H - 1 - 300


def test_exact_times_frequency_expansion():
    feed = _feed([_trip("f", "R", [("A", 0, 0), ("B", 600, 600)], frequencies=[(H, H + 1800, 600, 1)])])
    tt = build_timetable(feed, D)
    assert tt.n_trips == 3 and set(tt.trip_kind.tolist()) == {1}
    assert sorted(tt.trip_dep[::2].tolist()) == [H, H + 600, H + 1200]
    assert _arrival(tt, "A", "B", H + 1)[1] == H + 600 + 600
    assert _arrival(tt, "A", "B", H + 1201)[1] == INF


# ------------------------------------------------------------------------------------------ wheelchair

def test_wheelchair_filtering_stops_trips_and_parent_inheritance():
    stops = [dict(stop_id="P", location_type=1, wheelchair_boarding=1),
             dict(stop_id="A", parent_station="P", wheelchair_boarding=0),
             dict(stop_id="B", wheelchair_boarding=1), dict(stop_id="C", wheelchair_boarding=2),
             dict(stop_id="E", wheelchair_boarding=1)]
    feed = _feed([_trip("ok", "R1", [("A", 500, 500), ("B", 900, 900)], wheelchair=1),
                  _trip("no", "R1", [("A", 100, 100), ("B", 300, 300)], wheelchair=2),
                  _trip("c", "R2", [("A", 100, 100), ("C", 200, 200), ("E", 300, 300)], wheelchair=1)],
                 stops=stops)
    tt = build_timetable(feed, D)
    assert "P" not in tt.stop_index and tt.stop_parent_ids[tt.stop_index["A"]] == "P"
    assert tt.stop_wheelchair[tt.stop_index["A"]] == 1
    assert _arrival(tt, "A", "B", 0)[1] == 300
    assert _arrival(tt, "A", "B", 0, wheelchair=True)[1] == 900
    assert _arrival(tt, "A", "C", 0, wheelchair=True)[1] == INF
    assert _arrival(tt, "A", "E", 0, wheelchair=True)[1] == 300   # passing through C on board is fine


# ------------------------------------------------------------------------------------------------ pareto

def test_pareto_set_keeps_fewer_transfers_and_less_walking_options():
    feed = _feed([_trip("direct", "R1", [("A", 100, 100), ("F", 5000, 5000)]),
                  _trip("a1", "R2", [("A", 200, 200), ("B", 1000, 1000)]),
                  _trip("b1", "R3", [("C", 1200, 1200), ("F", 4000, 4000)]),   # via a 300 m footpath B -> C
                  _trip("b2", "R4", [("B", 1300, 1300), ("F", 4500, 4500)])])  # same-stop change at B
    fp = pd.DataFrame(dict(from_stop_id=["B"], to_stop_id=["C"], duration_s=[120], walk_m=[300.0]))
    tt = build_timetable(feed, D, footpaths=fp)
    src = _q(tt, "A", 0, 50.0)
    egress = (np.array([tt.stop_index["F"]]), np.array([60]), np.array([70.0]))
    res = earliest_arrival(tt, src, 4)
    got = {(j.arrival_s, j.n_transfers, j.walk_m) for j in pareto_journeys(res, egress)}
    assert got == {(4060, 1, 420.0), (4560, 1, 120.0), (5060, 0, 120.0)}
    srcs = [("A", 0, 50.0)]
    assert ref_earliest_arrival(feed, D, srcs, [("F", 60, 70.0)], footpaths=fp) == 4060
    assert ref_earliest_arrival(feed, D, srcs, [("F", 60, 70.0)], footpaths=fp, max_trips=1) == 5060
    assert ref_earliest_arrival(feed, D, srcs, [("F", 60, 70.0)], footpaths=fp, max_walk_m=200) == 4560
    # plain RAPTOR: earliest arrival per round only
    plain = earliest_arrival(tt, src, 4, pareto=False)
    assert {(j.arrival_s, j.n_transfers) for j in pareto_journeys(plain, egress)} == {(4060, 1), (5060, 0)}
    # walking limit
    lim = earliest_arrival(tt, src, 4, max_walk_m=200)
    assert {j.arrival_s for j in pareto_journeys(lim, egress)} == {4560, 5060}
    # arrive-by mirror: deadline 4600 at F -> departures from A
    rb = latest_departure(tt, (np.array([tt.stop_index["F"]]), np.array([4600]), np.array([70.0])), 4)
    dep = {(j.departure_s, j.n_transfers, j.walk_m) for j in
           pareto_journeys(rb, (np.array([tt.stop_index["A"]]), np.array([30]), np.array([50.0])))}
    assert dep == {(170, 1, 120.0)}   # the 420 m option leaves no later
    assert ref_latest_departure(feed, D, [("F", 4600, 70.0)], [("A", 30, 50.0)], footpaths=fp) == 170


def test_bag_capacity_keeps_earliest_arrival_exact():
    # many trade-offs between walking and arrival at F; capacity 2 must still find the earliest arrival
    trips, fps = [], []
    for i in range(6):
        trips.append(_trip(f"a{i}", f"RA{i}", [("A", 100, 100), (f"X{i}", 200, 200)]))
        trips.append(_trip(f"b{i}", f"RB{i}", [(f"Y{i}", 1000 + 100 * i, 1000 + 100 * i), ("F", 2000 + 100 * i, 2000 + 100 * i)]))
        fps.append((f"X{i}", f"Y{i}", 60, 600.0 - 100 * i))
    stops = ["A", "F"] + [f"X{i}" for i in range(6)] + [f"Y{i}" for i in range(6)]
    feed = _feed(trips, stops=[dict(stop_id=s) for s in stops])
    fp = pd.DataFrame(fps, columns=["from_stop_id", "to_stop_id", "duration_s", "walk_m"])
    tt = build_timetable(feed, D, footpaths=fp)
    eg = (np.array([tt.stop_index["F"]]), np.array([0]), np.array([0.0]))
    full = pareto_journeys(earliest_arrival(tt, _q(tt, "A", 0), 3, bag_capacity=16), eg)
    assert len(full) == 6
    small = pareto_journeys(earliest_arrival(tt, _q(tt, "A", 0), 3, bag_capacity=2), eg)
    assert min(j.arrival_s for j in small) == 2000
    assert min(j.walk_m for j in small) == 100.0


def test_input_errors():
    tt = build_timetable(_feed([_trip("t", "R", [("A", 0, 0), ("B", 10, 10)])]), D)
    with pytest.raises(InputError):
        earliest_arrival(tt, (np.array([99]), np.array([0]), np.array([0.0])), 2)
    with pytest.raises(InputError):
        earliest_arrival(tt, _q(tt, "A", 0), 0)
    assert tt.reversed().reversed() is tt and tt.reversed().is_reversed


# ------------------------------------------------------------------------------------------ label arrays

def _chain_feed():
    trips = [_trip(f"t{i}", f"R{i % 3}", [("A", 100 * i, 100 * i), ("B", 100 * i + 500, 100 * i + 500),
                                          ("C", 100 * i + 900, 100 * i + 900)]) for i in range(6)]
    trips.append(_trip("d", "RD", [("D", 0, 0), ("E", 400, 400), ("F", 800, 800)]))
    fp = pd.DataFrame(dict(from_stop_id=["B", "E"], to_stop_id=["E", "B"], duration_s=[60, 60], walk_m=[80.0, 80.0]))
    return build_timetable(_feed(trips), D, footpaths=fp)


def _labels(res) -> dict:
    """Every label of a result (the slots that hold one), as plain values."""
    out = {}
    for side in ("L", "R"):
        t = getattr(res, f"{side}_t")
        for k, s, slot in zip(*np.nonzero(t < INF)):
            fields = [n for n in ("t", "w", "pat", "trip", "run", "bpos", "apos", "par", "from", "fp")
                      if hasattr(res, f"{side}_{n}")]
            out[(side, int(k), int(s), int(slot))] = tuple(getattr(res, f"{side}_{n}")[k, s, slot].item() for n in fields)
    return out


def test_recycled_label_arrays_answer_as_fresh_ones():
    """Label arrays are reused by the next search of the same shape, which empties the stops the previous
    one wrote: a search after another (reaching other stops) has exactly the labels of a first search."""
    tt = _chain_feed()
    first = earliest_arrival(tt, _q(tt, "A", 0), 3)
    alone = _labels(first)
    del first  # its arrays go back for the next search
    other = earliest_arrival(tt, _q(tt, "D", 0), 3)
    assert _labels(other) and _labels(other) != alone
    del other
    again = earliest_arrival(tt, _q(tt, "A", 0), 3)
    assert _labels(again) == alone
    assert int(again.arrival_s[-1, tt.stop_index["C"]]) == 900


def test_label_arrays_still_referred_to_are_not_recycled():
    tt = _chain_feed()
    res = earliest_arrival(tt, _q(tt, "A", 0), 3)
    kept = res.L_t[1]  # a view that outlives its result
    before = kept.copy()
    del res
    for start in ("D", "E", "B"):
        earliest_arrival(tt, _q(tt, start, 50), 3)
    assert np.array_equal(kept, before)


def _sequential_pareto(res, eg) -> list[tuple]:
    """The destination filter as a plain scan (reference): candidates by (time, vehicles, walk), each kept
    unless an earlier kept one dominates it."""
    stops, secs, walk = eg
    cand = []
    for k in range(1, res.L_t.shape[0]):
        for e, s in enumerate(stops):
            for b in range(res.L_t.shape[2]):
                if res.L_t[k, s, b] < INF and res.L_w[k, s, b] + walk[e] <= res.max_walk_m:
                    cand.append((int(res.L_t[k, s, b] + secs[e]), k, float(res.L_w[k, s, b] + walk[e])))
    cand.sort()
    kept = []
    for c in cand:
        if not any(d[0] <= c[0] and d[1] <= c[1] and (not res.pareto or d[2] <= c[2]) for d in kept):
            kept.append(c)
    return sorted(kept)


@pytest.mark.parametrize("pareto", [True, False])
def test_destination_filter_matches_a_sequential_scan(pareto):
    tt = _chain_feed()
    rng = np.random.default_rng(7)
    for _ in range(20):
        src = (rng.integers(0, tt.n_stops, 3), rng.integers(0, 600, 3), rng.uniform(0, 300, 3))
        eg = (rng.integers(0, tt.n_stops, 4), rng.integers(0, 300, 4), rng.uniform(0, 300, 4))
        res = earliest_arrival(tt, src, 3, pareto=pareto, max_walk_m=700.0)
        got = sorted((j.arrival_s, j.n_rides, j.walk_m - 0.0) for j in pareto_journeys(res, eg))
        want = _sequential_pareto(res, eg)
        assert [g[:2] for g in got] == [w[:2] for w in want]
        assert np.allclose([g[2] for g in got], [w[2] for w in want])


def _footpath_feed():
    """Three lines and footpaths between every pair of stops (storage order: by target stop, not duration)."""
    trips = [_trip(f"a{i}", "RA", [("A", 600 * i, 600 * i), ("B", 600 * i + 300, 600 * i + 300)]) for i in range(4)]
    trips += [_trip(f"c{i}", "RC", [("C", 600 * i + 100, 600 * i + 100), ("D", 600 * i + 700, 600 * i + 700)])
              for i in range(4)]
    trips += [_trip(f"e{i}", "RE", [("E", 450 * i, 450 * i), ("F", 450 * i + 200, 450 * i + 200)]) for i in range(5)]
    stops = "ABCDEF"
    pairs = [(a, b) for a in stops for b in stops if a != b]
    rng = np.random.default_rng(3)
    dur = rng.integers(30, 600, len(pairs))
    fp = pd.DataFrame(dict(from_stop_id=[a for a, _ in pairs], to_stop_id=[b for _, b in pairs], duration_s=dur,
                           walk_m=dur * 1.2 + rng.uniform(0, 30, len(pairs))))
    return build_timetable(_feed(trips), D, footpaths=fp)


def test_scan_arrays_order_each_stops_footpaths_by_duration():
    from dataclasses import replace

    from mobility.routing.raptor import _scan_arrays

    tt = _footpath_feed()
    order, low_walk_m, rises = _scan_arrays(tt)
    for s in range(tt.n_stops):
        a, b = tt.footpath_ptr[s], tt.footpath_ptr[s + 1]
        mine = order[a:b]
        assert sorted(mine.tolist()) == list(range(a, b))  # a permutation of the stop's own footpaths
        assert (np.diff(tt.footpath_dur[mine]) >= 0).all()
        walks = tt.footpath_walk[mine].astype(float)
        assert np.allclose(low_walk_m[a:b], [walks[i:].min() for i in range(b - a)])
    assert rises.tolist() == [1] * tt.n_patterns
    backwards = replace(tt, trip_arr=tt.trip_arr[::-1].copy())  # arrivals that go back along each pattern
    assert _scan_arrays(backwards)[2].tolist() == [0] * tt.n_patterns


def test_destination_pruning_keeps_the_same_journeys_on_the_embedded_network(embedded_planner):
    """With egress candidates the kernel prunes -- and stops a stop's footpath loop early, skips the vehicles
    already pruned: the journeys to the destination are those of the search without pruning, legs included
    (on the Audomarois timetable of a weekday)."""
    from mobility.planning.planner import PlanOptions

    tt = embedded_planner._timetable(dt.date(2026, 12, 1), PlanOptions().validated())
    rng = np.random.default_rng(5)
    for _ in range(60):
        src = (rng.integers(0, tt.n_stops, 3), rng.integers(6 * H, 18 * H, 3), rng.uniform(0, 500, 3))
        eg = (rng.integers(0, tt.n_stops, 3), rng.integers(0, 600, 3), rng.uniform(0, 500, 3))
        plain = pareto_journeys(earliest_arrival(tt, src, 4, max_walk_m=2000.0), eg)
        pruned = pareto_journeys(earliest_arrival(tt, src, 4, max_walk_m=2000.0, egress=eg), eg)
        assert pruned == plain


def test_journeys_without_legs_say_what_the_built_journeys_say(embedded_planner):
    """``pareto_journeys(select=...)`` is given the journeys before their legs are built: their departure,
    arrival, rides and walk are the built journeys' own (both directions, access/egress durations included), in
    the same order; only the journeys selected are built, in the order selected."""
    from mobility.planning.planner import PlanOptions

    tt = embedded_planner._timetable(dt.date(2026, 12, 1), PlanOptions().validated())
    rng = np.random.default_rng(11)
    seen = 0
    for i in range(80):
        ends = (rng.integers(0, tt.n_stops, 4), rng.integers(6 * H, 18 * H, 4), rng.uniform(0, 500, 4),
                rng.integers(0, 400, 4))
        cands = (rng.integers(0, tt.n_stops, 4), rng.integers(0, 600, 4), rng.uniform(0, 500, 4))
        if i % 2:
            res = latest_departure(tt, ends, 4, max_walk_m=2000.0, access=cands)
        else:
            res = earliest_arrival(tt, ends, 4, max_walk_m=2000.0, egress=cands)
        built = pareto_journeys(res, cands)
        given = []
        picked = pareto_journeys(res, cands, select=lambda sm: given.extend(sm) or sm[::-2])
        assert [(s.legs, s.departure_s, s.arrival_s, s.n_rides, s.walk_m) for s in given] == [
            ((), j.departure_s, j.arrival_s, j.n_rides, j.walk_m) for j in built]
        assert picked == built[::-2]
        seen += len(built)
    assert seen > 50  # the draws do reach journeys


def test_journey_legs_are_plain_leg_dataclasses():
    """Journeys build their legs without the dataclass constructor (speed): they are the same Leg objects."""
    import dataclasses

    from mobility.routing.raptor import Leg

    tt = _chain_feed()
    res = earliest_arrival(tt, _q(tt, "A", 0), 3)
    journeys = pareto_journeys(res, ([tt.stop_index["F"], tt.stop_index["C"]], [60, 0], [50.0, 0.0]))
    assert journeys
    for j in journeys:
        for leg in j.legs:
            again = Leg(**{f.name: getattr(leg, f.name) for f in dataclasses.fields(Leg)})
            assert type(leg) is Leg and leg == again and hash(leg) == hash(again) and repr(leg) == repr(again)
            with pytest.raises(dataclasses.FrozenInstanceError):
                leg.start_s = 0


def test_searches_in_threads_run_without_the_gil_and_find_the_same_labels(embedded_planner):
    """The kernel releases the GIL (``nogil``): searches in four threads at once, each on label arrays of its
    own, give the labels of the same searches run one after the other."""
    import threading

    from mobility.routing import raptor

    assert raptor._raptor_kernel.targetoptions.get("nogil") is True
    from mobility.planning.planner import PlanOptions

    tt = embedded_planner._timetable(dt.date(2026, 12, 1), PlanOptions().validated())
    rng = np.random.default_rng(4)
    queries = [(np.array([s], np.int64), np.array([t], np.int64), np.zeros(1))
               for s, t in zip(rng.integers(0, tt.n_stops, 40), rng.integers(6 * 3600, 19 * 3600, 40))]

    def labels(q):  # times, and walks where a slot holds a label
        res = earliest_arrival(tt, q, 4)
        return res.L_t.copy(), np.where(res.L_t < INF, res.L_w, 0.0)

    expected = [labels(q) for q in queries]
    got: list = [None] * len(queries)

    def work(first):
        for i in range(first, len(queries), 4):
            got[i] = labels(queries[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(got, expected))
    assert sum(int((e[0] < INF).sum()) for e in expected) > 100
