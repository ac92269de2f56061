"""RAPTOR engine versus the brute-force time-expanded reference on random small feeds (hypothesis)."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobility.network.timetable import build_timetable
from mobility.routing.raptor import INF, earliest_arrival, latest_departure, pareto_journeys
from reference import feed_from_spec, ref_pareto, ref_pareto_arrive_by

DATE = dt.date(2024, 5, 14)
DAY = 86400
K_MAX = 4
UNRESTRICTED = 12


@st.composite
def scenarios(draw):
    n_stops = draw(st.integers(5, 15))
    stop_ids = [f"S{i}" for i in range(n_stops)]
    stops = [dict(stop_id=s, wheelchair_boarding=draw(st.sampled_from([0, 1, 1, 2]))) for s in stop_ids]
    # around midnight at the start (previous-day trips after 24:00) or at the end (next-day trips) of the day
    base = draw(st.sampled_from([0, DAY - 3600]))
    span = 3 * 3600
    minute = lambda lo, hi: st.integers(lo // 60, hi // 60).map(lambda m: m * 60)
    trips = []
    n_routes = draw(st.integers(2, 6))
    served: list[str] = []
    firsts, lasts = [], []
    for r in range(n_routes):
        length = draw(st.integers(2, min(6, n_stops)))
        seq = draw(st.permutations(stop_ids))[:length]
        if served and draw(st.booleans()):  # connect to the network built so far
            hub = draw(st.sampled_from(served))
            seq = [hub] + [x for x in seq if x != hub][:length - 1]
        served += [x for x in seq if x not in served]
        firsts.append(seq[0])
        lasts.append(seq[-1])
        n_trips = draw(st.integers(1, 4))
        for j in range(n_trips):
            start = base + draw(minute(0, span - 1800))
            day = draw(st.sampled_from([-1, 0, 0, 1] if base == 0 else [-1, 0, 1, 1]))
            gtfs_start = start - day * DAY
            if gtfs_start < 0:
                day, gtfs_start = 0, start
            t = gtfs_start
            rows = []
            for i, s in enumerate(seq):
                arr = t
                dep = arr + draw(st.sampled_from([0, 0, 60]))
                pick = draw(st.sampled_from([0] * 8 + [1, 2, 3]))
                drop = draw(st.sampled_from([0] * 8 + [1, 2, 3]))
                rows.append((s, arr, dep, pick, drop))
                t = dep + draw(minute(60, 900))
            trip = dict(trip_id=f"r{r}t{j}", route_id=f"R{r}", service_id={-1: "P", 0: "T", 1: "N"}[day],
                        stops=rows, wheelchair=draw(st.sampled_from([0, 1, 1, 2])))
            kind = draw(st.sampled_from(["sched"] * 4 + ["headway", "exact"]))
            if kind != "sched":
                # template starts at 0; window inside the query span
                offs = [(s, a - rows[0][1], d - rows[0][1], p, q) for (s, a, d, p, q) in rows]
                trip["stops"] = offs
                w0 = gtfs_start
                w1 = w0 + draw(minute(600, 2400))
                head = draw(st.sampled_from([240, 360, 600, 900]))
                trip["frequencies"] = [(w0, w1, head, 1 if kind == "exact" else 0)]
            trips.append(trip)
    n_fp = draw(st.integers(0, 10))
    fps = []
    for _ in range(n_fp):
        a, b = draw(st.sampled_from(stop_ids)), draw(st.sampled_from(stop_ids))
        if draw(st.booleans()):
            a, b = draw(st.sampled_from(lasts) | st.sampled_from(served)), draw(st.sampled_from(served))
        if a != b:
            fps.append((a, b, draw(minute(60, 600)), float(draw(st.integers(10, 800)))))
    origin_stops = st.sampled_from(firsts) | st.sampled_from(served) | st.sampled_from(stop_ids)
    dest_stops = st.sampled_from(lasts) | st.sampled_from(served) | st.sampled_from(stop_ids)
    src = [(draw(origin_stops), base + draw(minute(0, span // 2)), float(draw(st.integers(0, 500))))
           for _ in range(draw(st.integers(1, 2)))]
    egr = [(draw(dest_stops), draw(minute(0, 600)), float(draw(st.integers(0, 500))))
           for _ in range(draw(st.integers(1, 2)))]
    tgt = [(s, base + draw(minute(span // 2, span + 1800)), float(draw(st.integers(0, 500))))
           for s in draw(st.lists(dest_stops, min_size=1, max_size=2))]
    acc = [(draw(origin_stops), draw(minute(0, 600)), float(draw(st.integers(0, 500))))
           for _ in range(draw(st.integers(1, 2)))]
    slack = draw(st.sampled_from([0, 60, 120]))
    wheelchair = draw(st.sampled_from([False, False, False, True]))
    feed = feed_from_spec("f", stops, trips, {DATE - dt.timedelta(days=1): {"P"}, DATE: {"T"},
                                              DATE + dt.timedelta(days=1): {"N"}})
    footpaths = pd.DataFrame(fps, columns=["from_stop_id", "to_stop_id", "duration_s", "walk_m"])
    return feed, footpaths, src, egr, tgt, acc, slack, wheelchair


def _idx(tt, cands):
    return (np.array([tt.stop_index[s] for s, _, _ in cands], np.int64),
            np.array([t for _, t, _ in cands], np.int64), np.array([w for _, _, w in cands], np.float64))


def _check_journey(tt, j, slack, forward):
    legs = j.legs
    assert legs[0].kind == "access" and legs[-1].kind == "egress"
    assert j.departure_s == legs[0].start_s and j.arrival_s == legs[-1].end_s
    ready = legs[0].end_s
    prev_ride = None
    walk = legs[0].walk_m + legs[-1].walk_m
    rides = 0
    for leg in legs[1:-1]:
        if leg.kind == "transfer":
            assert prev_ride is not None and leg.from_stop == prev_ride.to_stop
            assert leg.start_s == prev_ride.end_s and leg.end_s == leg.start_s + leg.duration_s
            ready = leg.end_s + slack
            walk += leg.walk_m
            continue
        assert leg.kind == "ride"
        rides += 1
        if prev_ride is not None and (legs[legs.index(leg) - 1].kind == "ride"):
            assert leg.from_stop == prev_ride.to_stop
            ready = prev_ride.end_s + slack
        p = leg.pattern
        p0 = int(tt.pattern_stop_ptr[p])
        stops = tt.pattern_stops[p0:int(tt.pattern_stop_ptr[p + 1])]
        assert stops[leg.board_pos] == leg.from_stop and stops[leg.alight_pos] == leg.to_stop
        assert leg.board_pos < leg.alight_pos
        assert tt.pattern_can_board[p0 + leg.board_pos] and tt.pattern_can_alight[p0 + leg.alight_pos]
        arr, dep = tt.trip_times(leg.trip)
        assert tt.trip_pattern(leg.trip) == p
        if leg.headway_based:
            wait = int(tt.pattern_headway[p]) // 2
            assert tt.pattern_freq_start[p] <= leg.run_start_s < tt.pattern_freq_end[p]
            assert leg.start_s == leg.run_start_s + dep[leg.board_pos]
            assert leg.end_s == leg.run_start_s + arr[leg.alight_pos]
            if forward:
                assert leg.run_start_s == max(int(tt.pattern_freq_start[p]), ready + wait - int(dep[leg.board_pos]))
            else:
                assert leg.run_start_s >= ready + wait - int(dep[leg.board_pos])
        else:
            assert leg.start_s == dep[leg.board_pos] and leg.end_s == arr[leg.alight_pos]
            assert leg.start_s >= ready
        prev_ride = leg
    assert legs[-1].from_stop == prev_ride.to_stop and legs[-1].start_s == prev_ride.end_s
    assert rides == j.n_rides
    assert abs(walk - j.walk_m) < 1e-6


#: more examples: RAPTOR_REF_EXAMPLES=1000 pytest tests/test_raptor_reference.py
MAX_EXAMPLES = int(os.environ.get("RAPTOR_REF_EXAMPLES", "60"))


@pytest.mark.slow  # 60 random networks against the brute force (~20 s): CI's second step
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_engine_matches_reference(case):
    feed, footpaths, src, egr, tgt, acc, slack, wheelchair = case
    tt = build_timetable(feed, DATE, footpaths=footpaths)
    kw = dict(footpaths=footpaths, min_transfer_s=slack, wheelchair=wheelchair)

    # ---- depart-after: Pareto set (arrival, vehicles, walk) for at most K_MAX vehicles
    res = earliest_arrival(tt, _idx(tt, src), K_MAX, min_transfer_s=slack, wheelchair=wheelchair, bag_capacity=32)
    journeys = pareto_journeys(res, _idx(tt, egr))
    got = sorted((j.arrival_s, j.n_rides, j.walk_m) for j in journeys)
    want = ref_pareto(feed, DATE, src, egr, max_trips=K_MAX, **kw)
    assert got == sorted(want)
    for j in journeys:
        _check_journey(tt, j, slack, True)
    # earliest arrival for every K, also with plain RAPTOR and with destination pruning
    plain = earliest_arrival(tt, _idx(tt, src), K_MAX, min_transfer_s=slack, wheelchair=wheelchair, pareto=False)
    pruned = earliest_arrival(tt, _idx(tt, src), K_MAX, min_transfer_s=slack, wheelchair=wheelchair,
                              egress=_idx(tt, egr), bag_capacity=32)
    assert sorted((j.arrival_s, j.n_rides, j.walk_m) for j in pareto_journeys(pruned, _idx(tt, egr))) == got
    for K in range(1, K_MAX + 1):
        ref_k = min((a for a, k, _ in want if k <= K), default=INF)
        assert res.destination_times(_idx(tt, egr))[K] == ref_k
        assert plain.destination_times(_idx(tt, egr))[K] == ref_k
        assert pruned.destination_times(_idx(tt, egr))[K] == ref_k
    # unrestricted
    unres = earliest_arrival(tt, _idx(tt, src), UNRESTRICTED, min_transfer_s=slack, wheelchair=wheelchair,
                             pareto=False)
    want_u = ref_pareto(feed, DATE, src, egr, **kw)
    assert unres.destination_times(_idx(tt, egr))[-1] == min((a for a, _, _ in want_u), default=INF)

    # ---- arrive-by: Pareto set (departure, vehicles, walk)
    rb = latest_departure(tt, _idx(tt, tgt), K_MAX, min_transfer_s=slack, wheelchair=wheelchair, bag_capacity=32)
    jb = pareto_journeys(rb, _idx(tt, acc))
    got_b = sorted((j.departure_s, j.n_rides, j.walk_m) for j in jb)
    want_b = ref_pareto_arrive_by(feed, DATE, tgt, acc, max_trips=K_MAX, **kw)
    assert got_b == sorted(want_b)
    for j in jb:
        _check_journey(tt, j, slack, False)
        last = j.legs[-1]
        assert any(tt.stop_index[s] == last.from_stop and last.start_s <= t for s, t, _ in tgt)
    pruned_b = latest_departure(tt, _idx(tt, tgt), K_MAX, min_transfer_s=slack, wheelchair=wheelchair,
                                access=_idx(tt, acc), bag_capacity=32)
    assert sorted((j.departure_s, j.n_rides, j.walk_m) for j in pareto_journeys(pruned_b, _idx(tt, acc))) == got_b
    for K in range(1, K_MAX + 1):
        ref_k = max((d for d, k, _ in want_b if k <= K), default=-INF)
        assert rb.destination_times(_idx(tt, acc))[K] == ref_k
        assert pruned_b.destination_times(_idx(tt, acc))[K] == ref_k
    unres_b = latest_departure(tt, _idx(tt, tgt), UNRESTRICTED, min_transfer_s=slack, wheelchair=wheelchair,
                               pareto=False)
    want_ub = ref_pareto_arrive_by(feed, DATE, tgt, acc, **kw)
    assert unres_b.destination_times(_idx(tt, acc))[-1] == max((d for d, _, _ in want_ub), default=-INF)
    if os.environ.get("RAPTOR_REF_STATS"):
        print("STATS", len(want), len(want_b), sum(l.headway_based for j in journeys + jb for l in j.rides),
              max((j.n_rides for j in journeys), default=0), sum(l.kind == "transfer" for j in journeys for l in j.legs),
              min((j.legs[1].day_offset for j in journeys), default=0), max((j.legs[1].day_offset for j in journeys), default=0))
