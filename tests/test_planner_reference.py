"""Door-to-door exactness on the embedded data: the planner against an independent brute force.

The reference walks on the networkx walk graph of :func:`mobility.loaders.osm.walk_graph` (not the CSR
arrays the planner uses), with the door and each stop inserted as virtual nodes on their snapped edges,
and searches a time-expanded graph of the timetable (``tests/reference.py``). On random queries the
planner's earliest arrival (depart-at) and latest departure (arrive-by) must equal the reference's.
"""

from __future__ import annotations

import datetime as dt
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from mobility.errors import NoRouteError
from mobility.loaders.osm import load_osm, walk_graph
from mobility.planning.planner import PlanOptions
from reference import ref_earliest_arrival, ref_latest_departure

DAY = dt.date(2026, 12, 1)  # a Tuesday in term time
# at most 9 vehicles: the reference below is unrestricted (one layer, much smaller), so this is exact
# unless a 10-vehicle journey were faster, which would make the test fail, never pass wrongly
OPTS = PlanOptions(max_walk_m=1500, min_transfer_s=120, max_transfers=8)
#: the planner's search horizon; the reference instantiates only the runs that overlap it
HORIZON_S = int(OPTS.max_hours * 3600)


@pytest.fixture(scope="module")
def walk_nx(embedded_planner) -> nx.Graph:
    """The walk graph of the OSM loader, as an undirected graph weighted by length (metres)."""
    G = walk_graph(load_osm(embedded_planner.network.osm_path))
    H = nx.Graph()
    for u, v, data in G.edges(data=True):
        w = float(data["length"])
        if not H.has_edge(u, v) or H[u][v]["w"] > w:
            H.add_edge(u, v, w=w)
    return H


def _street_distances(H: nx.Graph, walk, door, stop_snaps, stop_ids) -> dict[str, float]:
    """Metres from a door (its links to the network: each a straight line, then along its edge) to every stop
    along the networkx graph (door and stops as virtual nodes)."""
    H = H.copy()

    def attach(name, snap, extra=0.0):
        uid, vid = int(walk.node_ids[snap.u]), int(walk.node_ids[snap.v])
        length = float(walk.length_m[snap.edge])
        for node, w in ((uid, extra + snap.fraction * length), (vid, extra + (1 - snap.fraction) * length)):
            if not H.has_edge(name, node) or H[name][node]["w"] > w:
                H.add_edge(name, node, w=w)
        return (min(uid, vid), max(uid, vid))

    door_edges = {attach("DOOR", link, link.dist_m): link for link in door}
    for sid, snap in zip(stop_ids, stop_snaps):
        if snap is None:
            continue
        link = door_edges.get(attach(("STOP", sid), snap))
        if link is not None:  # same street segment: straight along it
            length = float(walk.length_m[snap.edge])
            fa = link.fraction if link.u == snap.u else 1 - link.fraction
            w = link.dist_m + abs(snap.fraction - fa) * length
            if not H.has_edge("DOOR", ("STOP", sid)) or H["DOOR"][("STOP", sid)]["w"] > w:
                H.add_edge("DOOR", ("STOP", sid), w=w)
    dist = nx.single_source_dijkstra_path_length(H, "DOOR", weight="w")
    out = {}
    for sid, snap in zip(stop_ids, stop_snaps):
        if snap is not None and ("STOP", sid) in dist:
            out[sid] = dist[("STOP", sid)] + snap.dist_m
    return out


def _reference(planner, walk_nx, origin, destination, when: dt.datetime, arrive_by: bool):
    net = planner.network
    walk = net.walk
    so = walk.link(*origin, 500)
    sd = walk.link(*destination, 500)
    snaps = net.stop_snaps(False)
    ids = net.stops["stop_key"].tolist()
    stop_snaps = [snaps[i] for i in range(len(ids))]
    d_o = _street_distances(walk_nx, walk, so, stop_snaps, ids)
    d_d = _street_distances(walk_nx, walk, sd, stop_snaps, ids)
    speed = OPTS.walk_speed_mps
    t0 = int((when.replace(tzinfo=planner.tz) - planner.service_day_origin(when.date())).total_seconds())
    acc = [(s, math.ceil(m / speed), m) for s, m in d_o.items() if m <= OPTS.max_walk_m]
    egr = [(s, math.ceil(m / speed), m) for s, m in d_d.items() if m <= OPTS.max_walk_m]
    footpaths = net.footpath_frame(walk_speed_mps=speed, max_walk_m=OPTS.max_walk_m)
    # walking all the way: door to door on the same graph
    H_o = _street_distances(walk_nx, walk, so, list(sd), [f"DEST{i}" for i in range(len(sd))])
    walk_m = min(H_o.values(), default=math.inf)
    walk_only = walk_m <= OPTS.max_walk_m
    window = (t0 - HORIZON_S, t0) if arrive_by else (t0, t0 + HORIZON_S)
    common = dict(footpaths=footpaths, min_transfer_s=OPTS.min_transfer_s, max_trips=None,
                  max_walk_m=OPTS.max_walk_m, time_window=window)
    if arrive_by:
        best = ref_latest_departure(net.feeds, when.date(), [(s, t0 - secs, m) for s, secs, m in egr], acc, **common)
        if walk_only:
            wdep = t0 - math.ceil(walk_m / speed)
            best = wdep if best is None else max(best, wdep)
    else:
        best = ref_earliest_arrival(net.feeds, when.date(), [(s, t0 + secs, m) for s, secs, m in acc], egr, **common)
        if walk_only:
            warr = t0 + math.ceil(walk_m / speed)
            best = warr if best is None else min(best, warr)
    return best


def _queries(planner, n: int, seed: int):
    """Random street points near random stops (most queries then have a transit answer)."""
    stops = planner.network.stops
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a, b = stops.iloc[rng.integers(len(stops))], stops.iloc[rng.integers(len(stops))]
        j = rng.uniform(-0.006, 0.006, 4)
        minute = int(rng.integers(5 * 60, 21 * 60))
        out.append(((float(a.lat) + j[0], float(a.lon) + j[1]), (float(b.lat) + j[2], float(b.lon) + j[3]),
                    dt.datetime.combine(DAY, dt.time()) + dt.timedelta(minutes=minute)))
    return out


@pytest.mark.slow  # random door-to-door queries against the brute force (~12 s): CI's second step
@pytest.mark.parametrize("arrive_by", [False, True], ids=["depart_at", "arrive_by"])
def test_planner_matches_brute_force_on_random_queries(embedded_planner, walk_nx, arrive_by):
    planner = embedded_planner
    checked = with_transit = 0
    for origin, destination, when in _queries(planner, 12, seed=7 + arrive_by):
        if planner.network.walk.snap(*origin, 500) is None or planner.network.walk.snap(*destination, 500) is None:
            continue
        expected = _reference(planner, walk_nx, origin, destination, when, arrive_by)
        try:
            res = planner.plan(origin, destination, when, arrive_by=arrive_by, options=OPTS)
            origin_day = planner.service_day_origin(when.date())
            if arrive_by:
                got = max(int((it.departure - origin_day).total_seconds()) for it in res.itineraries)
            else:
                got = min(int((it.arrival - origin_day).total_seconds()) for it in res.itineraries)
            with_transit += any(it.rides for it in res.itineraries)
        except NoRouteError:
            got = None
        # both sides answer within the horizon only (the planner drops options beyond it)
        t0 = int((when.replace(tzinfo=planner.tz) - planner.service_day_origin(when.date())).total_seconds())
        if expected is not None and abs(expected - t0) > HORIZON_S:
            expected = None
        assert got == expected, f"{origin} -> {destination} at {when} (arrive_by={arrive_by})"
        checked += 1
    assert checked >= 8
    assert with_transit >= 3, "too few queries used a vehicle to prove anything"
