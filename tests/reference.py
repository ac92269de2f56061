"""Brute-force reference for the public-transport search, written independently of the RAPTOR engine.

A time-expanded graph searched with networkx Dijkstra (edge weight = metres walked, every node has a
fixed clock time, so "earliest arrival" = the earliest destination event reachable, and the Dijkstra
distance is the least walking needed to reach an event):

* ``("R", stop, t, k)`` ready to board at ``stop`` from time ``t`` having used ``k`` vehicles; a
  waiting chain links the ready events of a stop in time order;
* ``("B", run, i, k)`` / ``("A", run, i, k)`` on board vehicle ``run`` departing / arriving at
  position ``i``; riding links B(i) -> A(i+1), staying on links A(i) -> B(i);
* ``("X", stop, t, k)`` alighted at ``stop`` at ``t``; then footpath (+ ``min_transfer_s``) or the
  same stop (+ ``min_transfer_s``) to a ready event, or egress to the destination ``("D", t, k)``;
* boarding from ``R(stop, t_board, k)`` to ``B(run, i, k+1)`` where pickup is allowed; alighting
  where drop-off is allowed; wheelchair filtering on stops (parent-inherited) and trips.

Access (sources) and egress are given by the caller; footpaths only between two rides, at most one
per change.  Layers ``k = 0..max_trips`` count vehicles (a single layer when unrestricted).

Service days: trips of ``date - 1``, ``date`` and ``date + 1`` are instantiated, shifted by the
distance between the days' "noon - 12h" origins in the feed's timezone.

Frequencies: ``exact_times = 1`` -> one run per ``start, start + headway, ... < end``.
``exact_times = 0`` -> expected wait of half the headway (``headway // 2``): a rider ready at
position i at time t rides the run started at ``max(start, t + wait - dep_off[i])`` if ``< end``.  The
graph discretises the run starts: with ``g`` the gcd of every time quantity of the instance, all
reachable ready times are multiples of ``g`` (depart-after) and all latest times are ``0`` or ``-1``
modulo ``g`` (arrive-by, because of the ``end - 1`` bound), so runs ``s`` in ``[start, end)`` with
``s mod g in {0, g-1}`` are exact; run ``s`` can be boarded at position i by anyone ready at
``s + dep_off[i] - wait``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import networkx as nx
import pandas as pd

__all__ = ["MiniFeed", "feed_from_spec", "RefGraph", "ref_earliest_arrival", "ref_latest_departure",
           "ref_pareto", "ref_pareto_arrive_by"]


# -------------------------------------------------------------------------------------- tiny feed object

@dataclass
class MiniFeed:
    """Feed-like object with the loader's contract (frames + active_service_ids)."""

    feed_id: str
    stops: pd.DataFrame
    routes: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    frequencies: pd.DataFrame
    services: dict = field(default_factory=dict)   # date -> set of service ids
    timezone: str = "UTC"

    def active_service_ids(self, day: dt.date) -> frozenset:
        return frozenset(self.services.get(day, ()))


def feed_from_spec(feed_id: str, stops, trips, services, *, timezone: str = "UTC") -> MiniFeed:
    """stops: list of dict(stop_id, [location_type, parent_station, wheelchair_boarding]);
    trips: list of dict(trip_id, route_id, service_id, [wheelchair], stops=[(stop_id, arr, dep[, pickup,
    drop])], [frequencies=[(start, end, headway, exact)]]); services: {date: {service_id, ...}}."""
    srows = []
    for i, s in enumerate(stops):
        srows.append(dict(stop_id=s["stop_id"], stop_name=s.get("stop_name", s["stop_id"]),
                          stop_lat=s.get("stop_lat", 50.0 + i * 0.001), stop_lon=s.get("stop_lon", 2.0),
                          location_type=s.get("location_type", 0), parent_station=s.get("parent_station", ""),
                          wheelchair_boarding=s.get("wheelchair_boarding", 0)))
    route_ids = sorted({t["route_id"] for t in trips})
    routes = pd.DataFrame(dict(route_id=route_ids, route_short_name=route_ids,
                               route_long_name=route_ids, route_type=[3] * len(route_ids)))
    trows, strows, frows = [], [], []
    for t in sorted(trips, key=lambda t: t["trip_id"]):
        trows.append(dict(trip_id=t["trip_id"], route_id=t["route_id"], service_id=t["service_id"],
                          trip_headsign="", wheelchair_accessible=t.get("wheelchair", 0)))
        for seq, st in enumerate(t["stops"]):
            sid, arr, dep = st[0], st[1], st[2]
            pick = st[3] if len(st) > 3 else 0
            drop = st[4] if len(st) > 4 else 0
            strows.append(dict(trip_id=t["trip_id"], stop_sequence=seq + 1, stop_id=sid, arrival_s=arr,
                               departure_s=dep, pickup_type=pick, drop_off_type=drop))
        for (s0, s1, h, ex) in t.get("frequencies", ()):
            frows.append(dict(trip_id=t["trip_id"], start_s=s0, end_s=s1, headway_s=h, exact_times=ex))
    st = pd.DataFrame(strows, columns=["trip_id", "stop_sequence", "stop_id", "arrival_s", "departure_s",
                                       "pickup_type", "drop_off_type"])
    st = st.astype({"arrival_s": "int64", "departure_s": "int64", "stop_sequence": "int64",
                    "pickup_type": "int64", "drop_off_type": "int64"})
    fr = pd.DataFrame(frows, columns=["trip_id", "start_s", "end_s", "headway_s", "exact_times"])
    return MiniFeed(feed_id, pd.DataFrame(srows), routes,
                    pd.DataFrame(trows, columns=["trip_id", "route_id", "service_id", "trip_headsign",
                                                 "wheelchair_accessible"]),
                    st, fr, {d: set(v) for d, v in services.items()}, timezone)


# ------------------------------------------------------------------------------------------ the graph

def _origin_shift(tz_name: str, ref_tz_name: str, date: dt.date, days: int) -> int:
    from zoneinfo import ZoneInfo

    def origin(d: dt.date, tz) -> float:   # noon minus 12 h, as a UTC timestamp
        return dt.datetime(d.year, d.month, d.day, 12, tzinfo=ZoneInfo(tz)).timestamp() - 12 * 3600

    return int(origin(date + dt.timedelta(days=days), tz_name) - origin(date, ref_tz_name))


@dataclass
class _Run:
    stops: list            # namespaced stop ids
    board_by: list         # latest ready time to board at position i
    dep: list              # vehicle departure times
    arr: list              # vehicle arrival times
    pickup: list
    drop: list
    accessible: bool


class RefGraph:
    """The time-expanded graph of one query; ``max_trips=None`` = unrestricted (single layer)."""

    def __init__(self, feeds, date: dt.date, *, footpaths=None, min_transfer_s: int = 0, max_trips=None,
                 wheelchair: bool = False, extra_times=(), time_window=None):
        feeds = list(feeds) if isinstance(feeds, (list, tuple)) else [feeds]
        multi = len(feeds) > 1
        self.ns = lambda f, x: f"{f.feed_id}:{x}" if multi else str(x)
        self.layers = [0] if max_trips is None else list(range(max_trips + 1))
        self.max_trips = max_trips
        self.slack = int(min_transfer_s)
        ref_tz = feeds[0].timezone

        # stops and accessibility (parent inheritance)
        self.accessible = {}
        for f in feeds:
            wb = {str(r.stop_id): int(r.wheelchair_boarding) for r in f.stops.itertuples()}
            for r in f.stops.itertuples():
                if int(getattr(r, "location_type", 0) or 0) != 0:
                    continue
                v = int(r.wheelchair_boarding)
                par = r.parent_station if isinstance(r.parent_station, str) else ""
                if v == 0 and par:
                    v = wb.get(par, 0)
                self.accessible[self.ns(f, r.stop_id)] = v == 1

        self.footpaths = []
        if footpaths is not None:
            for r in footpaths.itertuples():
                if r.from_stop_id != r.to_stop_id:
                    self.footpaths.append((r.from_stop_id, r.to_stop_id, int(r.duration_s), float(r.walk_m)))

        # gcd of every time quantity (for the headway discretisation)
        g = 0
        for f in feeds:
            for col in ("arrival_s", "departure_s"):
                for v in f.stop_times[col].tolist():
                    g = math.gcd(g, int(v))
            for r in f.frequencies.itertuples():
                g = math.gcd(g, int(r.start_s))
                g = math.gcd(g, int(r.end_s))
                g = math.gcd(g, int(r.headway_s) // 2)
                g = math.gcd(g, int(r.headway_s))
            for d in (-1, 1):
                g = math.gcd(g, _origin_shift(f.timezone, ref_tz, date, d))
        for (_, _, dur, _) in self.footpaths:
            g = math.gcd(g, dur)
        g = math.gcd(g, self.slack)
        for v in extra_times:
            g = math.gcd(g, int(v))
        self.g = max(g, 1)

        # runs
        self.runs: list[_Run] = []
        for f in feeds:
            freq = {}
            for r in f.frequencies.itertuples():
                freq.setdefault(r.trip_id, []).append((int(r.start_s), int(r.end_s), int(r.headway_s), int(r.exact_times)))
            st_by_trip = {tid: grp.sort_values("stop_sequence") for tid, grp in f.stop_times.groupby("trip_id")}
            for d in (-1, 0, 1):
                active = f.active_service_ids(date + dt.timedelta(days=d))
                shift = _origin_shift(f.timezone, ref_tz, date, d)
                for t in f.trips.itertuples():
                    if t.service_id not in active or t.trip_id not in st_by_trip:
                        continue
                    grp = st_by_trip[t.trip_id]
                    stops = [self.ns(f, s) for s in grp["stop_id"]]
                    arr = [int(v) for v in grp["arrival_s"]]
                    dep = [int(v) for v in grp["departure_s"]]
                    pick = [int(v) for v in grp["pickup_type"]]
                    drop = [int(v) for v in grp["drop_off_type"]]
                    acc = int(t.wheelchair_accessible) == 1
                    if t.trip_id not in freq:
                        a = [x + shift for x in arr]
                        b = [x + shift for x in dep]
                        self.runs.append(_Run(stops, b, b, a, pick, drop, acc))
                        continue
                    off_a = [x - dep[0] for x in arr]
                    off_d = [x - dep[0] for x in dep]
                    for (s0, s1, h, exact) in freq[t.trip_id]:
                        s0, s1 = s0 + shift, s1 + shift
                        if exact:
                            s = s0
                            while s < s1:
                                b = [s + x for x in off_d]
                                self.runs.append(_Run(stops, b, b, [s + x for x in off_a], pick, drop, acc))
                                s += h
                        else:
                            wait = h // 2
                            for s in range(s0, s1):
                                if (s - s0) % self.g not in (0, self.g - 1):
                                    continue
                                b = [s + x for x in off_d]
                                self.runs.append(_Run(stops, [x - wait for x in b], b,
                                                      [s + x for x in off_a], pick, drop, acc))
        if time_window is not None:  # runs entirely outside the window cannot matter to the caller's query
            lo, hi = time_window
            self.runs = [r for r in self.runs if r.arr[-1] >= lo and r.dep[0] <= hi]
        self.wheelchair = wheelchair

    def _layer_next(self, k):
        if self.max_trips is None:
            return 0
        return k + 1 if k + 1 <= self.max_trips else None

    def build(self, sources=(), egress=(), targets=()) -> nx.DiGraph:
        """sources: (stop, time, walk) ready events of layer 0; egress: (stop, secs, walk) -> D nodes;
        targets: (stop, latest arrival, walk) -> edge to "SINK"."""
        G = nx.DiGraph()
        ok_stop = (lambda s: self.accessible.get(s, False)) if self.wheelchair else (lambda s: s in self.accessible)
        ready_times: dict[str, set] = {}
        for run in self.runs:
            for i, s in enumerate(run.stops):
                ready_times.setdefault(s, set()).add(run.board_by[i])
        for (s, t, _) in sources:
            ready_times.setdefault(s, set()).add(t)
        fp_by_stop: dict[str, list] = {}
        for (a, b, dur, w) in self.footpaths:
            fp_by_stop.setdefault(a, []).append((b, dur, w))
        for run in self.runs:
            for j, s in enumerate(run.stops):
                ready_times.setdefault(s, set()).add(run.arr[j] + self.slack)
                for (b, dur, _) in fp_by_stop.get(s, ()):
                    ready_times.setdefault(b, set()).add(run.arr[j] + dur + self.slack)
        for k in self.layers:
            for s, ts in ready_times.items():
                ts = sorted(ts)
                for x, y in zip(ts, ts[1:]):
                    _add(G, ("R", s, x, k), ("R", s, y, k), 0.0)
        for (s, t, w) in sources:
            _add(G, "SRC", ("R", s, t, 0), w)
        eg_by_stop: dict[str, list] = {}
        for (s, secs, w) in egress:
            eg_by_stop.setdefault(s, []).append((secs, w))
        tg_by_stop: dict[str, list] = {}
        for (s, latest, w) in targets:
            tg_by_stop.setdefault(s, []).append((latest, w))
        for ri, run in enumerate(self.runs):
            if self.wheelchair and not run.accessible:
                continue
            n = len(run.stops)
            for k in self.layers:
                for i in range(n):
                    s = run.stops[i]
                    if i + 1 < n:
                        _add(G, ("B", ri, i, k), ("A", ri, i + 1, k), 0.0)
                    if i > 0:
                        _add(G, ("A", ri, i, k), ("B", ri, i, k), 0.0)
                    if not ok_stop(s):
                        continue
                    kn = self._layer_next(k)
                    if i + 1 < n and run.pickup[i] != 1 and kn is not None:
                        _add(G, ("R", s, run.board_by[i], k), ("B", ri, i, kn), 0.0)
                    if i > 0 and run.drop[i] != 1 and (self.max_trips is None or k >= 1):
                        t = run.arr[i]
                        x = ("X", s, t, k)
                        _add(G, ("A", ri, i, k), x, 0.0)
                        _add(G, x, ("R", s, t + self.slack, k), 0.0)
                        for (b, dur, w) in fp_by_stop.get(s, ()):
                            _add(G, x, ("R", b, t + dur + self.slack, k), w)
                        for (secs, w) in eg_by_stop.get(s, ()):
                            _add(G, x, ("D", t + secs, k), w)
                        for (latest, w) in tg_by_stop.get(s, ()):
                            if t <= latest:
                                _add(G, x, ("SINK", k), w)
        return G


def _add(G, u, v, w):
    """Edge u -> v walking w metres; parallel alternatives keep the least walking."""
    w = float(w)
    if G.has_edge(u, v):
        if w < G[u][v]["weight"]:
            G[u][v]["weight"] = w
    else:
        G.add_edge(u, v, weight=w)


def _pareto(points):
    """points: (time_key (lower better), k, walk) -> Pareto set (sorted, deduplicated)."""
    pts = sorted(set(points))
    out = []
    for p in pts:
        if not any(q[0] <= p[0] and q[1] <= p[1] and q[2] <= p[2] for q in out):
            out.append(p)
    return out


def _sid(x):
    return str(x)


def ref_pareto(feeds, date, sources, egress, *, footpaths=None, min_transfer_s=0, max_trips=None,
               wheelchair=False, max_walk_m=math.inf, time_window=None):
    """Pareto set [(arrival_s, vehicles, walk_m)] at the destination over (arrival, vehicles, walk);
    vehicles are counted only when ``max_trips`` is given (unrestricted: 0, Pareto over arrival and walk)."""
    times = [t for (_, t, _) in sources] + [e for (_, e, _) in egress]
    R = RefGraph(feeds, date, footpaths=footpaths, min_transfer_s=min_transfer_s, max_trips=max_trips,
                 wheelchair=wheelchair, extra_times=times, time_window=time_window)
    G = R.build(sources=[(_sid(s), int(t), w) for s, t, w in sources],
                egress=[(_sid(s), int(e), w) for s, e, w in egress])
    if "SRC" not in G:
        return []
    dist = nx.single_source_dijkstra_path_length(G, "SRC", weight="weight")
    pts = [(node[1], node[2], d) for node, d in dist.items()
           if isinstance(node, tuple) and node[0] == "D" and d <= max_walk_m + 1e-9]
    return _pareto(pts)


def ref_earliest_arrival(feeds, date, sources, egress, *, footpaths=None, min_transfer_s=0, max_trips=None,
                         wheelchair=False, max_walk_m=math.inf, time_window=None):
    """Earliest arrival at the destination (at most ``max_trips`` vehicles, >= 1), or None."""
    pts = ref_pareto(feeds, date, sources, egress, footpaths=footpaths, min_transfer_s=min_transfer_s,
                     max_trips=max_trips, wheelchair=wheelchair, max_walk_m=max_walk_m,
                     time_window=time_window)
    return min((p[0] for p in pts), default=None)


def ref_pareto_arrive_by(feeds, date, targets, access, *, footpaths=None, min_transfer_s=0, max_trips=None,
                         wheelchair=False, max_walk_m=math.inf, time_window=None):
    """Pareto set [(departure_s from the door, vehicles, walk_m)] (later departure better; vehicles 0
    when unrestricted)."""
    times = [t for (_, t, _) in targets] + [a for (_, a, _) in access]
    R = RefGraph(feeds, date, footpaths=footpaths, min_transfer_s=min_transfer_s, max_trips=max_trips,
                 wheelchair=wheelchair, extra_times=times, time_window=time_window)
    G = R.build(targets=[(_sid(s), int(t), w) for s, t, w in targets])
    acc: dict[str, list] = {}
    for (s, secs, w) in access:
        acc.setdefault(_sid(s), []).append((int(secs), float(w)))
    GR = G.reverse(copy=False)
    pts = []
    for k in R.layers:
        if ("SINK", k) not in G:
            continue
        dist = nx.single_source_dijkstra_path_length(GR, ("SINK", k), weight="weight")
        for node, d in dist.items():
            if isinstance(node, tuple) and node[0] == "R" and node[3] == 0 and node[1] in acc:
                for secs, w in acc[node[1]]:
                    if d + w <= max_walk_m + 1e-9:
                        pts.append((-(node[2] - secs), k, d + w))
    return [(-p[0], p[1], p[2]) for p in _pareto(pts)]


def ref_latest_departure(feeds, date, targets, access, *, footpaths=None, min_transfer_s=0, max_trips=None,
                         wheelchair=False, max_walk_m=math.inf, time_window=None):
    """Latest departure from the door (at most ``max_trips`` vehicles), or None."""
    pts = ref_pareto_arrive_by(feeds, date, targets, access, footpaths=footpaths, min_transfer_s=min_transfer_s,
                               max_trips=max_trips, wheelchair=wheelchair, max_walk_m=max_walk_m,
                     time_window=time_window)
    return max((p[0] for p in pts), default=None)
