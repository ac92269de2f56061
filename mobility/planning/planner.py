"""Door-to-door planning: walk to stops along streets, RAPTOR rounds, walk to the door; depart-at and arrive-by.

:class:`Planner` is the Python API behind ``mobility plan`` and the web API::

    planner = Planner.load()                      # embedded Audomarois data (cached on disk)
    result = planner.plan((50.7539, 2.2669), (50.5934, 2.1009),
                          dt.datetime(2026, 12, 1, 8, 0), arrive_by=False)
    for it in result.itineraries: print(it.to_json())

Model (what "exact" means here): walking follows the OSM walk network from the door's projection onto
the nearest walkable edge (plus the straight distance from the door to that edge) to each stop's
projection; all walking of an itinerary (access, changes, egress) is bounded by ``max_walk_m``; changes
of vehicle take at least ``min_transfer_s``; times are the feed's local time (its agency time zone).
Depart-at returns the Pareto set over (arrival, transfers, walking) whose earliest arrival is the
earliest possible; arrive-by the latest departure that still arrives in time.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mobility.deadline import check as check_deadline
from mobility.errors import InputError, NoRouteError, NotFoundError
from mobility.i18n import Msg
from mobility.jit import lean_kernel_loads, skip_blas_probe
from mobility.network.build import STOP_SNAP_MAX_M, Network, load_network
from mobility.network.flex import DRIVE_SNAP_MAX_M
from mobility.network.streets import Snap, Snaps
from mobility.network.timetable import Timetable
from mobility.planning.itinerary import Itinerary, Place
from mobility.planning.legs import LegBuilder
from mobility.planning.rides import RideModel
from mobility.planning.tad import TadQuery, hop_stop_ends, tad_ends
from mobility.planning.virtual_lines import bookable_timetable, booking_closed
from mobility.routing.raptor import (
    INF,
    Journey,
    earliest_arrival,
    latest_departure,
    pareto_journeys,
)
from mobility.timeaxis import TimeAxis, after

log = logging.getLogger(__name__)

#: a door farther than this from any walkable way is outside the network
DOOR_SNAP_MAX_M = STOP_SNAP_MAX_M
#: doors' links and walks (and destinations' bound data) memoised per planner: a category request uses
#: three per site (89 town halls), so the sites of several categories stay in memory between requests
MEMO_ENTRIES = 1024


@dataclass(frozen=True)
class PlanOptions:
    """Options of one request. Distances in metres, speeds in metres per second, times in seconds."""

    walk_speed_mps: float = 1.2
    max_walk_m: float = 2000.0
    #: most walking in one leg (to or from a stop, between two stops, or all the way), like the access
    #: and egress limits of OpenTripPlanner and R5; None: only the total ``max_walk_m`` applies
    max_walk_leg_m: float | None = None
    min_transfer_s: int = 120
    max_transfers: int = 3
    wheelchair: bool = False
    max_itineraries: int = 6
    allow_tad: bool = True
    #: search horizon: depart-at answers arrive at most this long after the requested time, arrive-by
    #: answers leave at most this long before it (no "leave the evening before" options)
    max_hours: float = 12.0

    def validated(self) -> PlanOptions:
        """Self, or an InputError naming the first out-of-range option."""
        checks = [  # (option, lowest, highest, unit)
            ("walk_speed_mps", 0.3, 3.0, " m/s"), ("max_walk_m", 0, 20000, " m"), ("min_transfer_s", 0, 3600, " s"),
            ("max_transfers", 0, 8, ""), ("max_itineraries", 1, 20, ""), ("max_hours", 0.5, 36, " h"),
        ]
        if self.max_walk_leg_m is not None:
            checks.append(("max_walk_leg_m", 0, 20000, " m"))
        for name, lo, hi, unit in checks:
            if not (lo <= getattr(self, name) <= hi):
                raise InputError("err_option_range", name=name, value=repr(getattr(self, name)), lo=lo, hi=hi,
                                 unit=unit)
        return self

    @property
    def walk_leg_limit_m(self) -> float:
        """The most walking allowed in one leg (metres): the per-leg limit within the total."""
        if self.max_walk_leg_m is None:
            return self.max_walk_m
        return min(self.max_walk_m, self.max_walk_leg_m)


@dataclass
class PlanResult:
    """The answer to one request: the itineraries (best first) and what was asked."""

    origin: Place
    destination: Place
    when: dt.datetime
    arrive_by: bool
    options: PlanOptions
    itineraries: list[Itinerary] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "request": {"from": self.origin.to_json(), "to": self.destination.to_json(),
                        ("arrive" if self.arrive_by else "depart"): self.when.isoformat(),
                        "options": self.options.__dict__},
            "itineraries": [it.to_json() for it in self.itineraries],
        }


_COORD_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,;\s]\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_latlon(text: str) -> tuple[float, float]:
    """'LAT,LON' in decimal degrees, or InputError."""
    m = _COORD_RE.match(text or "")
    if not m:
        raise InputError("err_not_latlon", text=text)
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError("err_latlon_range", text=text)
    return lat, lon


class Planner:
    """Door-to-door planner over one :class:`~mobility.network.build.Network`."""

    def __init__(self, network: Network) -> None:
        lean_kernel_loads()  # the kernels load from numba's cache without its compiler's start (0.3 s)
        self.network = network
        self.axis = TimeAxis.of(network.timezone)
        self.tz = self.axis.tz
        stops = network.stops
        self._stop_row = {k: i for i, k in enumerate(stops["stop_key"].tolist())}
        self._stop_keys = stops["stop_key"].to_numpy()
        self._snaps = network.stop_snaps(False)
        self._snaps_sf = network.stop_snaps(True)
        # door snaps and door-to-stop walking distances, reused when the same door is planned several times
        # (a category query plans from one door to every site of the category)
        self._memo: OrderedDict = OrderedDict()
        self._memo_lock = threading.Lock()

    def _memoised(self, key: tuple, compute):
        with self._memo_lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = compute()
        with self._memo_lock:
            self._memo[key] = value
            while len(self._memo) > MEMO_ENTRIES:
                self._memo.popitem(last=False)
        return value

    @classmethod
    def load(cls, gtfs_paths=None, osm_path=None) -> Planner:
        """Planner over the given inputs (default: the embedded data), using the on-disk cache."""
        return cls(load_network(gtfs_paths, osm_path))

    # ------------------------------------------------------------------ places
    def place(self, spec: str | tuple[float, float] | Place, name: str | None = None) -> Place:
        """A Place from 'LAT,LON', 'stop:STOP_ID', a (lat, lon) pair or a Place."""
        if isinstance(spec, Place):
            return spec
        if isinstance(spec, tuple):
            lat, lon = float(spec[0]), float(spec[1])
            return Place(name or f"{lat:.5f}, {lon:.5f}", lat, lon)
        text = str(spec).strip()
        if text.lower().startswith("stop:"):
            key = text[5:].strip()
            row = self._stop_row.get(key)
            if row is None:
                raise NotFoundError("err_unknown_stop", id=key)
            s = self.network.stops.iloc[row]
            return Place(str(s["stop_name"]), float(s["lat"]), float(s["lon"]), key)
        lat, lon = parse_latlon(text)
        return Place(name or f"{lat:.5f}, {lon:.5f}", lat, lon)

    def _snap_door(self, place: Place, step_free: bool, role: str) -> tuple[Snap, ...]:
        """The door's links to the walk network (:meth:`StreetNetwork.link`: the nearest edge, and the
        nearest edge of each other way a few metres farther), or InputError outside the network."""
        links = self._memoised(("link", place.lat, place.lon, step_free), lambda: self.network.walk.link(
            place.lat, place.lon, DOOR_SNAP_MAX_M, step_free_only=step_free))
        if not links:
            raise InputError("err_far_from_step_free_street" if step_free else "err_far_from_street",
                             role=Msg("role_" + role) if role in ("origin", "destination") else role,
                             lat=f"{place.lat:.5f}", lon=f"{place.lon:.5f}", dist=f"{DOOR_SNAP_MAX_M:.0f}")
        return links

    # ------------------------------------------------------------------ time axis
    def service_day_origin(self, day: dt.date) -> dt.datetime:
        """'Noon minus 12 h' of ``day`` in the feed time zone: time 0 of the GTFS service day."""
        return self.axis.origin(day)

    def localize(self, when: dt.datetime) -> dt.datetime:
        """``when`` in the feed's time zone (a naive datetime is local wall time)."""
        return self.axis.localize(when)

    def _check_date(self, day: dt.date) -> None:
        rng = self.network.service_range()
        if rng is None:
            raise InputError("err_no_service_day")
        if not (rng[0] <= day <= rng[1]):
            raise InputError("err_date_outside", day=day.isoformat(), first=rng[0].isoformat(), last=rng[1].isoformat())

    # ------------------------------------------------------------------ planning
    def warm_up(self) -> None:
        """Plan one trip between two stops (today, else the first weekday of the service), so that the compiled
        kernels are loaded (numba's first call: about 0.15 s, :func:`mobility.jit.lean_kernel_loads`) and that
        day's timetable is built before the first request, not during it. Errors are logged and ignored: it is an
        optimisation only."""
        try:
            skip_blas_probe()
            rng = self.network.service_range()
            stops = self.network.stops
            if rng is None or len(stops) < 2:
                return
            day = dt.date.today()  # the day most requests ask about
            if not rng[0] <= day <= rng[1]:
                day = rng[0]
                while day.weekday() >= 5 and day < rng[1]:
                    day += dt.timedelta(days=1)
            a, b = stops.iloc[0], stops.iloc[len(stops) // 2]
            self.plan((float(a["lat"]), float(a["lon"])), (float(b["lat"]), float(b["lon"])),
                      dt.datetime.combine(day, dt.time(9, 0)))
        except Exception as exc:  # noqa: BLE001 - no route, odd data: the next plan pays the loading instead
            log.debug("warm-up plan failed: %s", exc)

    def plan(self, origin, destination, when: dt.datetime, *, arrive_by: bool = False,
             options: PlanOptions | None = None, booked_at: dt.datetime | None = None) -> PlanResult:
        """Itineraries from ``origin`` to ``destination`` leaving at / arriving by ``when`` (local time).

        ``booked_at``: when the request is made (default: now), for on-demand (TAD) legs and
        must-book fixed runs ("lignes virtuelles"): a ride whose booking deadline is before it is not
        offered (see :mod:`mobility.planning.tad`).
        Raises InputError (bad input, outside the network or the service dates) and NoRouteError when
        nothing — not even walking — satisfies the request.
        """
        check_deadline()  # a request past its compute deadline stops here, between searches
        opts = (options or PlanOptions()).validated()
        o, d = self.place(origin), self.place(destination)
        when = self.localize(when)
        day = when.date()
        self._check_date(day)
        step_free = opts.wheelchair
        so, sd = self._snap_door(o, step_free, "origin"), self._snap_door(d, step_free, "destination")
        t_query = self.axis.seconds(when, day)
        tt = self._timetable(day, opts)
        booked = self.localize(booked_at) if booked_at is not None else dt.datetime.now(self.tz)
        tt = bookable_timetable(self.network, self.axis, tt, booked)  # lignes virtuelles: closed bookings removed
        access = self._stop_walks(so, tt, opts)
        egress = self._stop_walks(sd, tt, opts)
        legs = LegBuilder(self.network, self._stop_row, self._snaps_sf if step_free else self._snaps,
                          self._snap_door, o, d, so, sd, self.service_day_origin(day), opts, arrive_by)
        tad = None
        if opts.allow_tad and self.network.flex and self.network.drive is not None:
            tad = TadQuery(legs, tt, booked, access, egress, t_query)
        itineraries: list[Itinerary] = []
        journeys: list[Journey] = []
        rounds = opts.max_transfers + 1
        kw = dict(min_transfer_s=opts.min_transfer_s, wheelchair=opts.wheelchair, max_walk_m=opts.max_walk_m)

        def prefilter(bare):  # only the journeys _pareto_filter could keep get their legs built
            return _prefilter_journeys(bare, arrive_by)

        if arrive_by:
            if len(egress[0]) and (len(access[0]) or (tad and tad.has_label_side)):
                targets = (egress[0], t_query - egress[1], egress[2], egress[1])
                prune = tad.pruning_candidates(access) if tad else access
                res = latest_departure(tt, targets, rounds, access=prune, **kw)
                journeys = pareto_journeys(res, access, select=prefilter) if len(access[0]) else []
                if tad:
                    itineraries += tad.attach_from_labels(res)
        else:
            if len(access[0]) and (len(egress[0]) or (tad and tad.has_label_side)):
                sources = (access[0], t_query + access[1], access[2], access[1])
                prune = tad.pruning_candidates(egress) if tad else egress
                res = earliest_arrival(tt, sources, rounds, egress=prune, **kw)
                journeys = pareto_journeys(res, egress, select=prefilter) if len(egress[0]) else []
                if tad:
                    itineraries += tad.attach_from_labels(res)
        # the walks' geometry is drawn for the options returned only (the filters below do not look at it)
        itineraries += [legs.itinerary(j, tt, draw=False) for j in journeys]
        if tad:
            check_deadline()
            itineraries += tad.seeded_search(rounds, kw)
            itineraries += tad.direct()
        walk_only = legs.walk_only(when, draw=False)
        if walk_only is not None:
            itineraries.append(walk_only)
        # the horizon filter is exact: an option beyond it can only dominate options beyond it too
        horizon = dt.timedelta(hours=opts.max_hours)
        itineraries = [it for it in itineraries
                       if (it.departure >= when - horizon if arrive_by else it.arrival <= when + horizon)]
        # exact booking check of must-book rides (drop-off rules are only bounded before the search)
        itineraries = [it for it in itineraries if not booking_closed(it, booked)]
        itineraries = _pareto_filter(itineraries, arrive_by)
        if not itineraries:
            raise NoRouteError("err_no_itinerary_hours", hours=f"{opts.max_hours:g}")  # (pinned by the golden plans)
        return PlanResult(o, d, when, arrive_by, opts, legs.draw(itineraries[:opts.max_itineraries]))

    def arrival_lower_bounds(self, origin, destinations: list, when: dt.datetime, *,
                             options: PlanOptions | None = None,
                             booked_at: dt.datetime | None = None) -> list[dt.datetime]:
        """For each destination, a time before which no itinerary of ``plan(origin, destination, when)``
        (depart-at, same options and booking time) arrives (``datetime.max`` when nothing reaches it that
        day). A category request plans its sites in the order of these bounds and skips those that cannot
        be among the best.

        The bound relaxes, never tightens: one plain RAPTOR search from the origin (its walks and the
        on-demand rides from it as sources, the same timetable and rounds, *no* total walking limit, no
        destination pruning) gives the earliest arrival at every stop by any journey the planner can find;
        a destination's bound is the least of those arrivals plus its walk from the stop, of walking all
        the way, and of the on-demand rides ending there (:func:`_tad_arrival_bound`). Raises what
        :meth:`plan` raises for a bad origin, destination or date.
        """
        opts, o, so, day, t_query, tt = self._bound_request(origin, when, options)
        booked = self.localize(booked_at) if booked_at is not None else dt.datetime.now(self.tz)
        tt = bookable_timetable(self.network, self.axis, tt, booked)
        access = self._stop_walks(so, tt, opts)
        stops, times, walks = [access[0]], [t_query + access[1]], [access[2]]
        use_tad = opts.allow_tad and bool(self.network.flex) and self.network.drive is not None
        if use_tad:
            tq = self._origin_tad(o, so, day, tt, booked, access, t_query, opts)
            seeds = tq.access_seeds()
            stops.append(np.array([x[0] for x in seeds], np.int64))
            times.append(np.array([x[1] for x in seeds], np.int64))
            walks.append(np.array([x[2] for x in seeds], np.float64))
        src = (np.concatenate(stops).astype(np.int64), np.concatenate(times).astype(np.int64),
               np.concatenate(walks).astype(np.float64))
        best_at_stop = np.full(tt.n_stops, np.iinfo(np.int64).max, np.int64)
        if len(src[0]):
            res = earliest_arrival(tt, src, opts.max_transfers + 1, min_transfer_s=opts.min_transfer_s,
                                   wheelchair=opts.wheelchair, pareto=False)
            best_at_stop = res.L_t[1:].min(axis=(0, 2))  # arrival by a vehicle, any number of rides
        walk_reach = self.network.walk.reach(so, opts.max_walk_m, step_free_only=opts.wheelchair, link_cost=True)
        origin_day = self.service_day_origin(day)
        out: list[dt.datetime] = []
        for dest in destinations:
            check_deadline()
            d = self.place(dest)
            info = self._memoised(("bound-info", d.lat, d.lon, day, opts.walk_speed_mps, opts.max_walk_m,
                                   opts.walk_leg_limit_m, opts.wheelchair, opts.min_transfer_s, use_tad),
                                  lambda d=d: self._destination_info(d, tt, opts, tq if use_tad else None))
            sd_snaps, egress, tad = info
            bound = np.inf
            if len(egress[0]):
                arr = best_at_stop[egress[0]]
                ok = arr < INF
                if ok.any():
                    bound = min(bound, float((arr[ok] + egress[1][ok]).min()))
            walk_m = float(walk_reach.costs_to(sd_snaps, link_cost=True).min())
            if np.isfinite(walk_m) and walk_m <= opts.walk_leg_limit_m:
                bound = min(bound, t_query + math.ceil(walk_m / opts.walk_speed_mps))
            if tad is not None:
                bound = min(bound, _tad_arrival_bound(tq, tad, best_at_stop, t_query))
            # nothing reaches it: any itinerary would arrive after the end of the timetable's day
            out.append(after(origin_day, int(bound)) if np.isfinite(bound) else dt.datetime.max.replace(tzinfo=self.tz))
        return out

    def duration_lower_bounds(self, origin, destinations: list, when: dt.datetime, *,
                              options: PlanOptions | None = None,
                              booked_at: dt.datetime | None = None) -> list[float] | None:
        """For each destination, seconds that no itinerary of ``plan(origin, destination, when, arrive_by=True)``
        takes less than (inf: nothing reaches it), so none leaves after ``when`` minus that; None when the
        timetable has a vehicle running backwards in time (no bound is then given).

        Relaxation: a shortest-path search from the origin over the stops, each hop of a pattern weighted by
        its shortest run over the day's trips (no waiting, no change slack, no walking limit), footpaths by
        their walk, and the on-demand rides by their whole-second ride time; a destination's bound is the
        least of those durations plus its walk from the stop or its on-demand ends, and of walking all the way.
        """
        opts, o, so, day, t_query, tt = self._bound_request(origin, when, options)
        graph = _stop_graph(tt)
        if graph is None:
            return None
        booked = self.localize(booked_at) if booked_at is not None else dt.datetime.now(self.tz)
        access = self._stop_walks(so, tt, opts)
        seeds_node, seeds_cost = [access[0]], [access[1].astype(float)]
        use_tad = opts.allow_tad and bool(self.network.flex) and self.network.drive is not None
        tq = None
        if use_tad:
            tq = self._origin_tad(o, so, day, tt, booked, access, t_query, opts)
            nodes, costs = [], []
            for h, ends in tq.board.items():
                for key in tq.access_ends[h]:
                    for point, ws, _ in ends:
                        dr = _drive_s(tq, point, key, None)
                        if math.isfinite(dr):
                            nodes.append(tt.stop_index[key])
                            costs.append(float(ws + tq.rides.duration_s(h, dr)))
            seeds_node.append(np.array(nodes, np.int64))
            seeds_cost.append(np.array(costs, float))
        seed_node = np.concatenate(seeds_node).astype(np.int64)
        seed_cost = np.concatenate(seeds_cost).astype(float)
        indptr, indices, data = graph
        from mobility.network.street_search import SearchBuffers

        nodes, cost, _ = SearchBuffers(tt.n_stops, len(data)).run(indptr, indices, data, seed_node, seed_cost,
                                                                 np.zeros(len(seed_node), np.int64), np.inf)
        at_stop = np.full(tt.n_stops, np.inf)
        at_stop[nodes] = cost
        # a ride ends at a stop: its duration from the seeds (a walk to a stop is not a ride yet)
        walk_reach = self.network.walk.reach(so, opts.max_walk_m, step_free_only=opts.wheelchair, link_cost=True)
        out = []
        for dest in destinations:
            check_deadline()
            d = self.place(dest)
            info = self._memoised(("bound-info", d.lat, d.lon, day, opts.walk_speed_mps, opts.max_walk_m,
                                   opts.walk_leg_limit_m, opts.wheelchair, opts.min_transfer_s, use_tad),
                                  lambda d=d: self._destination_info(d, tt, opts, tq))
            sd_snaps, egress, tad = info
            bound = np.inf
            if len(egress[0]):
                bound = float((at_stop[egress[0]] + egress[1]).min())
            walk_m = float(walk_reach.costs_to(sd_snaps, link_cost=True).min())
            if np.isfinite(walk_m) and walk_m <= opts.walk_leg_limit_m:
                bound = min(bound, math.ceil(walk_m / opts.walk_speed_mps))
            if tad is not None:  # the arrival bound's formula on durations: the origin leaves at time 0
                bound = min(bound, _tad_arrival_bound(tq, tad, at_stop, 0))
            out.append(float(bound))
        return out

    def arrivals_between(self, when: dt.datetime, start: dt.datetime, end: dt.datetime, *,
                         options: PlanOptions | None = None) -> Callable[[Any], bool]:
        """A test of destinations: False when no itinerary of ``plan(origin, destination, when)`` (depart-at,
        any origin, same options, any booking time) arrives between ``start`` and ``end``, True when one may.

        Each itinerary :meth:`plan` gives ends with (a) a ride of the day's timetable alighting at one of the
        door's stop walks, then that walk (RAPTOR's egress follows a ride label, footpaths only join two rides;
        ``ceil(m / speed)`` seconds, m within the per-leg limit); (b) an on-demand ride, dropping off within a
        window of the service days :class:`RideModel` looks at, then at most such a walk; or (c) is a walk all
        the way from ``when``, within the per-leg limit. So none arrives in [start, end] when walking the limit
        from ``when`` ends before ``start``, no drop-off window meets [start - walk, end], and no vehicle arrives
        at a stop of the door's walks in [start - walk, end]. Headway-based trips (their times are offsets)
        answer True."""
        opts = (options or PlanOptions()).validated()
        when = self.localize(when)
        day = when.date()
        self._check_date(day)
        tt = self._timetable(day, opts)
        start, end = self.localize(start), self.localize(end)
        walk = dt.timedelta(seconds=math.ceil(opts.walk_leg_limit_m / opts.walk_speed_mps))
        # plan() adds walks and compares arrivals on the wall clock: a ride or a drop-off at axis second t
        # arrives in the span only if its wall clock reads from start - walk to end; t0 / t1 are the earliest /
        # latest instants reading so (both folds: a daylight-saving change repeats or skips an hour), a second
        # wider as the axis rounds
        t0 = min(self.axis.seconds((start - walk).replace(fold=f), day) for f in (0, 1)) - 1
        t1 = max(self.axis.seconds(end.replace(fold=f), day) for f in (0, 1)) + 1
        if when + walk >= start or tt.pattern_is_freq.any():
            return lambda dest: True
        if opts.allow_tad and self.network.flex and self.network.drive is not None:
            rides = RideModel(self.network.flex, self.network.feeds, day, self.tz, booked_at=None, next_day=True)
            if any(ds <= t1 and de >= t0 for h in range(len(self.network.flex.hops))
                   for *_, ds, de in rides.windows(h)):
                return lambda dest: True
        stop_of_arrival = self._memoised(("arrival-stops", day, opts.walk_speed_mps, opts.walk_leg_limit_m,
                                          opts.min_transfer_s, opts.wheelchair), lambda: _arrival_stops(tt))
        late = np.zeros(tt.n_stops, bool)  # the stops a vehicle arrives at in [start - walk, end]
        late[stop_of_arrival[(tt.trip_arr >= t0) & (tt.trip_arr <= t1)]] = True

        def may_arrive(dest) -> bool:
            sd = self._snap_door(self.place(dest), opts.wheelchair, "destination")
            return bool(late[self._stop_walks(sd, tt, opts)[0]].any())

        return may_arrive

    def _timetable(self, day: dt.date, opts: PlanOptions) -> Timetable:
        """The day's timetable as :meth:`plan` searches it (before closed bookings are removed). Footpaths
        between stops are single legs: the per-leg limit bounds them, the kernel the total."""
        return self.network.timetable(day, walk_speed_mps=opts.walk_speed_mps, max_walk_m=opts.walk_leg_limit_m,
                                      min_transfer_s=opts.min_transfer_s, step_free=opts.wheelchair)

    def _bound_request(self, origin, when: dt.datetime, options: PlanOptions | None):
        """What both bounds start from, as :meth:`plan` does: options, origin place and links, day, query
        time on the day's axis, and the day's timetable."""
        opts = (options or PlanOptions()).validated()
        o = self.place(origin)
        when = self.localize(when)
        day = when.date()
        self._check_date(day)
        so = self._snap_door(o, opts.wheelchair, "origin")
        tt = self._timetable(day, opts)
        return opts, o, so, day, self.axis.seconds(when, day), tt

    def _origin_tad(self, o: Place, so, day: dt.date, tt: Timetable, booked: dt.datetime, access, t_query: int,
                    opts: PlanOptions) -> TadQuery:
        """The on-demand side of a request from ``o`` alone (its destination set to the origin): its rides from
        the origin serve every destination a bound is computed for."""
        legs = LegBuilder(self.network, self._stop_row, self._snaps_sf if opts.wheelchair else self._snaps,
                          self._snap_door, o, o, so, so, self.service_day_origin(day), opts, False)
        return TadQuery(legs, tt, booked, access, access, t_query)

    def _destination_info(self, d: Place, tt: Timetable, opts: PlanOptions, tq: TadQuery | None):
        """What a destination's arrival bound needs that does not depend on the origin (memoised: a category
        request bounds every site of the category): its links, its stop walks, and its on-demand ends."""
        sd = self._snap_door(d, opts.wheelchair, "destination")
        egress = self._stop_walks(sd, tt, opts)
        return Snaps.from_list(list(sd)), egress, (None if tq is None else TadEnds.of(tq, tt, d, egress))

    def _tt_stop_of_row(self, tt: Timetable) -> np.ndarray:
        """The index in ``tt`` of each row of ``network.stops`` (-1 for a stop ``tt`` lacks), memoised on the
        timetable."""
        cached = tt.__dict__.get("_stop_of_network_row")
        if cached is None or cached[0] is not self._stop_keys:
            index = tt.stop_index
            cached = (self._stop_keys, np.array([index.get(k, -1) for k in self._stop_keys.tolist()], np.int64))
            tt.__dict__["_stop_of_network_row"] = cached
        return cached[1]

    def _stop_walks(self, links: tuple[Snap, ...], tt: Timetable, opts: PlanOptions):
        """(stop index in tt, walk seconds, walk metres) for the stops reachable on foot from a door."""
        snaps = self._snaps_sf if opts.wheelchair else self._snaps
        limit_m = opts.walk_leg_limit_m

        def compute():
            reach = self.network.walk.reach(links, opts.max_walk_m, step_free_only=opts.wheelchair, link_cost=True)
            return reach.costs_to(snaps, link_cost=True)

        dist = self._memoised(("walks", links, opts.max_walk_m, opts.wheelchair), compute)
        ok = np.nonzero(np.isfinite(dist) & (dist <= limit_m))[0]
        stops = self._tt_stop_of_row(tt)[ok]
        timed = stops >= 0
        stops = stops[timed]
        walk_m = dist[ok][timed].astype(np.float64)
        walk_s = np.ceil(walk_m / opts.walk_speed_mps).astype(np.int64)
        return stops, walk_s, walk_m


def _arrival_stops(tt: Timetable) -> np.ndarray:
    """The stop of each entry of ``tt.trip_arr`` (each pattern: its trips one after the other, stop by stop)."""
    sp, tp = tt.pattern_stop_ptr, tt.pattern_trip_ptr
    parts = [np.tile(tt.pattern_stops[sp[p]:sp[p + 1]], int(tp[p + 1] - tp[p])) for p in range(tt.n_patterns)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


@dataclass
class TadEnds:
    """The on-demand rides that can end at a destination (as :class:`TadQuery` offers them), with what
    does not depend on the origin: after a fixed ride, boarding at ``stop`` (tt index), the least time
    from the stop's label to the destination ``add_s`` (change slack, whole-second ride time, walk); and
    the hops' destination ends for rides straight from the origin side."""

    stop: np.ndarray
    add_s: np.ndarray
    alight: dict
    snap_d: object

    @classmethod
    def of(cls, tq: TadQuery, tt: Timetable, d: Place, egress) -> TadEnds | None:
        flex = tq.flex
        snap_d = tq.drive.snap(d.lat, d.lon, DRIVE_SNAP_MAX_M)
        walks_d = {tt.stop_ids[i]: (int(ws), float(wm)) for i, ws, wm in zip(*egress)}
        alight = tad_ends(flex, snap_d, d, walks_d, flex.by_alight_zone, flex.by_alight_stop, "D")
        if not alight:
            return None
        stops, adds = [], []
        for h, ends in alight.items():
            for key in hop_stop_ends(flex, tt, h, True):  # after a fixed ride, as TadQuery.attach_from_labels
                for point, ws, _ in ends:
                    dr = _drive_s(tq, key, point, snap_d)
                    if math.isfinite(dr):
                        stops.append(tt.stop_index[key])
                        adds.append(tq.slack_s + tq.rides.duration_s(h, dr) + ws)
        return cls(np.array(stops, np.int64), np.array(adds, np.int64), alight, snap_d)


def _drive_s(tq: TadQuery, a: str, b: str, snap_d) -> float:
    """:meth:`TadQuery.drive_s` towards a destination ``snap_d`` other than the query's own."""
    flex = tq.flex
    sa = tq.snap_o if a == "O" else flex.stop_drive.get(a)
    sb = snap_d if b == "D" else flex.stop_drive.get(b)
    if sa is None or sb is None:
        return math.inf
    return float(flex.drive_times_to(tq.drive, tq._drive_reach(a, sa), sa, [sb])[0])


def _stop_graph(tt: Timetable):
    """CSR ``(indptr, indices, data)`` over the stops of ``tt``: each hop of a pattern weighted by its
    shortest run over the trips (seconds; dwell and waits left out), each footpath by its walk; memoised on
    the timetable. None when a hop runs backwards in time (a broken feed) or a headway wait is negative."""
    cached = tt.__dict__.get("_stop_graph")
    if cached is not None:
        return cached[0]
    sp, stops, tp, tb = tt.pattern_stop_ptr, tt.pattern_stops, tt.pattern_trip_ptr, tt.trip_times_ptr
    rows, cols, w = [], [], []
    ok = bool((tt.pattern_board_wait >= 0).all() and (tt.pattern_alight_wait >= 0).all())
    for p in range(len(sp) - 1):
        n = int(sp[p + 1] - sp[p])
        n_trips = 1 if tt.pattern_is_freq[p] else int(tp[p + 1] - tp[p])
        if n < 2 or n_trips < 1:
            continue
        base = int(tb[p])
        arr = tt.trip_arr[base:base + n_trips * n].reshape(n_trips, n)
        dep = tt.trip_dep[base:base + n_trips * n].reshape(n_trips, n)
        hop = (arr[:, 1:] - dep[:, :-1]).min(axis=0)
        if (hop < 0).any():
            ok = False
            break
        seq = stops[sp[p]:sp[p + 1]]
        rows.append(seq[:-1])
        cols.append(seq[1:])
        w.append(hop.astype(float))
    graph = None
    if ok:
        fp_from = np.repeat(np.arange(tt.n_stops), np.diff(tt.footpath_ptr))
        rows.append(fp_from)
        cols.append(tt.footpath_to)
        w.append(np.asarray(tt.footpath_dur, float))
        r = np.concatenate(rows).astype(np.int64)
        c = np.concatenate(cols).astype(np.int64)
        data = np.concatenate(w)
        order = np.lexsort((c, r))
        indptr = np.zeros(tt.n_stops + 1, np.int64)
        np.cumsum(np.bincount(r, minlength=tt.n_stops), out=indptr[1:])
        graph = (indptr, c[order], data[order])
    tt.__dict__["_stop_graph"] = (graph,)
    return graph


def _tad_arrival_bound(tq: TadQuery, ends: TadEnds, best_at_stop: np.ndarray, t_query: int) -> float:
    """The least arrival (query axis seconds) of the on-demand options ending at a destination: a ride after
    a fixed one (its label no earlier than ``best_at_stop``) or straight from the origin side, each no shorter
    than its whole-second ride time (:meth:`RideModel.duration_s`) from the moment the rider is ready."""
    bound = np.inf
    if len(ends.stop):
        ready = best_at_stop[ends.stop]
        ok = ready < INF
        if ok.any():
            bound = float((ready[ok] + ends.add_s[ok]).min())
    for h, a_ends in ends.alight.items():
        for bp, bws, _ in tq.board.get(h, ()):  # straight from the origin side, as TadQuery.direct
            for ap, aws, _ in a_ends:
                if bp == ap:
                    continue
                dr = _drive_s(tq, bp, ap, ends.snap_d)
                if math.isfinite(dr):
                    bound = min(bound, t_query + bws + tq.rides.duration_s(h, dr) + aws)
    return float(bound)


#: walking differences below this (metres, or this share of the walk) do not make an option worth offering
WALK_TOLERANCE_M = 100.0
WALK_TOLERANCE_SHARE = 0.15


def _dominated(key: tuple, kept: list[tuple]) -> bool:
    """(time, transfers, walk_m) keys, time lower is better: is ``key`` dominated, walking with tolerance?"""
    t, k, w = key
    slack = max(WALK_TOLERANCE_M, WALK_TOLERANCE_SHARE * w)
    return any(o[0] <= t and o[1] <= k and o[2] <= w + slack for o in kept)


def _undominated(items: list, key) -> list:
    """The items no kept item dominates (see :func:`_dominated`), in order of ``key`` (best time first)."""
    kept: list = []
    keys: list[tuple] = []
    for item in sorted(items, key=key):
        k = key(item)
        if not _dominated(k, keys):
            kept.append(item)
            keys.append(k)
    return kept


def _prefilter_journeys(journeys: list, arrive_by: bool) -> list:
    """The journeys (with or without their legs, see ``pareto_journeys``' ``select``) :func:`_pareto_filter` would
    keep among themselves (same rule, on the raw labels)."""
    return _undominated(journeys, lambda j: (-j.departure_s if arrive_by else j.arrival_s, j.n_transfers, j.walk_m))


def _pareto_filter(its: list[Itinerary], arrive_by: bool) -> list[Itinerary]:
    """Keep the options not dominated over (arrival or departure, transfers, walking), best time first.

    Walking counts with a tolerance: an option that is no better in time and changes and saves only a
    few metres of walking (the engine's exact Pareto set has such options, e.g. a train loop that ends
    4 m closer to the door) is dropped.
    """
    def key(it: Itinerary):
        t = -it.departure.timestamp() if arrive_by else it.arrival.timestamp()
        return (t, it.transfers, it.walk_m)

    return _undominated(its, key)
