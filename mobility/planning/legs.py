"""Itinerary legs of one request: search results (RAPTOR journeys, on-demand rides) turned into walks and rides
with times, places, geometry, agencies and booking terms.

:class:`LegBuilder` is what the planner hands to the on-demand (TAD) code: the request's doors and their
snaps on the walk network, its options and its time axis, with public methods to build each kind of leg.
"""

from __future__ import annotations

import datetime as dt
import math
import weakref
from collections.abc import Callable

import numpy as np

from mobility.geo import haversine_m
from mobility.network.streets import Snap
from mobility.network.timetable import Timetable
from mobility.planning.itinerary import Itinerary, Leg, Place, mode_of_route_type
from mobility.planning.virtual_lines import fixed_ride_booking
from mobility.routing.raptor import Journey
from mobility.timeaxis import after

#: Place of every stop key, per network (built on first use: a TAD leg names its stops by key)
_STOP_PLACES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class LegBuilder:
    """Legs for the request from ``o`` to ``d`` on the service day whose time 0 is ``origin_day``.

    ``snap_place(place, step_free, role)`` snaps any place onto the walk network (the planner's door
    snapping); ``stop_row`` maps a stop key to its row in ``network.stops`` and ``stop_snaps`` holds the
    stops' snaps (step-free ones for a wheelchair request).

    A walk whose length the search already knows can be built undrawn (``draw=False``: no geometry, which
    costs a street search and a path) and drawn by :meth:`draw` once the planner has kept its itinerary;
    nothing else of the leg depends on its geometry."""

    def __init__(self, network, stop_row: dict, stop_snaps, snap_place: Callable[[Place, bool, str], tuple[Snap, ...]],
                 o: Place, d: Place, so: Snap, sd: Snap, origin_day: dt.datetime, opts, arrive_by: bool) -> None:
        self.network, self.stop_row, self.stop_snaps, self.snap_place = network, stop_row, stop_snaps, snap_place
        self.o, self.d, self.so, self.sd = o, d, so, sd
        self.origin_day, self.opts, self.arrive_by = origin_day, opts, arrive_by
        self.tz = origin_day.tzinfo
        #: id(leg) -> (leg, its ends' snaps, its length) of the walks built undrawn (the leg is held, so no
        #: other object gets its id while it waits here)
        self._undrawn: dict[int, tuple[Leg, object, object, float]] = {}
        self._times: dict[int, dt.datetime] = {}  # at(): the journeys of one search share their stops' times
        self._snap_of_key: dict[str, Snap] = {}

    def at(self, secs: float) -> dt.datetime:
        """The datetime of ``secs`` on the request's time axis."""
        secs = int(secs)
        when = self._times.get(secs)
        if when is None:
            when = self._times[secs] = after(self.origin_day, secs)
        return when

    # ------------------------------------------------------------------ places
    def stop_place(self, tt: Timetable, stop: int) -> Place:
        """The Place of stop ``stop`` (index in ``tt``), memoised on the timetable."""
        places = tt.__dict__.get("_stop_places")
        if places is None:
            places = tt.__dict__["_stop_places"] = [None] * tt.n_stops
        place = places[stop]
        if place is None:
            place = places[stop] = Place(tt.stop_names[stop], float(tt.stop_lat[stop]), float(tt.stop_lon[stop]),
                                         tt.stop_ids[stop])
        return place

    def stop_place_of_key(self, key: str) -> Place:
        places = _STOP_PLACES.get(self.network)
        if places is None:
            stops = self.network.stops
            places = _STOP_PLACES[self.network] = {
                k: Place(str(n), float(la), float(lo), k)
                for k, n, la, lo in zip(stops["stop_key"], stops["stop_name"], stops["lat"], stops["lon"])}
        return places[key]

    def _stop_snap(self, tt: Timetable, stop: int) -> Snap:
        key = tt.stop_ids[stop]
        snap = self._snap_of_key.get(key)
        if snap is None:
            snap = self._snap_of_key[key] = self.stop_snaps[self.stop_row[key]]
        return snap

    # ------------------------------------------------------------------ walks
    def walk_leg(self, a: Place, b: Place, sa, sb, start: dt.datetime | None, end: dt.datetime | None,
                 dist_m: float | None = None, *, draw: bool = True) -> Leg:
        """A walk from ``a`` to ``b`` starting at ``start`` or ending at ``end``; ``sa``/``sb`` are a stop's
        snap or a door's links; ``dist_m`` when the search already knows its length (metres), and then with
        ``draw=False`` the leg's geometry is left for :meth:`draw`. A walk from or to one of the request's
        doors is drawn from that door's own search (the one that found the walk)."""
        drawn = draw or dist_m is None
        coords, length = self._walk_line(a, b, sa, sb, dist_m) if drawn else ([], dist_m)
        if dist_m is not None:
            length = dist_m
        secs = dt.timedelta(seconds=math.ceil(length / self.opts.walk_speed_mps))
        if start is None:
            start = end - secs
        if end is None:
            end = start + secs
        leg = Leg("walk", a, b, start, end, distance_m=length, geometry=coords)
        if not drawn:
            self._undrawn[id(leg)] = (leg, sa, sb, dist_m)
        return leg

    def _walk_line(self, a: Place, b: Place, sa, sb, dist_m: float | None) -> tuple[list, float]:
        """The geometry ((lat, lon) degrees from ``a`` to ``b`` along the streets) of the walk of
        :meth:`walk_leg` and its length (metres) along that path with its straight links."""
        opts = self.opts
        walk = self.network.walk
        if sa == self.so or sb == self.sd:
            door, other, backwards = (self.so, sb, False) if sa == self.so else (self.sd, sa, True)
            reach = walk.reach(door, opts.max_walk_m, step_free_only=opts.wheelchair, link_cost=True)
            path = reach.path_to(other, link_cost=isinstance(other, tuple))
        else:
            limit = np.inf if dist_m is None else dist_m + 1.0
            reach = walk.reach(sa, limit, step_free_only=opts.wheelchair, link_cost=isinstance(sa, tuple))
            path, backwards = reach.path_to(sb, link_cost=isinstance(sb, tuple)), False
        coords = [(a.lat, a.lon)]
        if path is not None:
            line = path.coords[::-1] if backwards else path.coords
            coords += list(line)
            length = path.source.dist_m + path.target.dist_m + path.length_m
        else:
            first_a = sa[0] if isinstance(sa, tuple) else sa
            first_b = sb[0] if isinstance(sb, tuple) else sb
            length = first_a.dist_m + first_b.dist_m
        coords.append((b.lat, b.lon))
        return coords, length

    def draw(self, its: list[Itinerary]) -> list[Itinerary]:
        """``its``, with the geometry of their walks built undrawn (see :meth:`walk_leg`) drawn."""
        for it in its:
            for leg in it.legs:
                undrawn = self._undrawn.pop(id(leg), None)
                if undrawn is not None:
                    _, sa, sb, dist_m = undrawn
                    leg.geometry = self._walk_line(leg.origin, leg.destination, sa, sb, dist_m)[0]
        return its

    def walk_between(self, a: Place, b: Place, start: dt.datetime | None, end: dt.datetime | None,
                     dist_m: float) -> Leg:
        """A walk between two places snapped here (the ends of an on-demand ride)."""
        step_free = self.opts.wheelchair
        return self.walk_leg(a, b, self.snap_place(a, step_free, "origin"), self.snap_place(b, step_free, "destination"),
                             start, end, dist_m=dist_m)

    def walk_only(self, when: dt.datetime, *, draw: bool = True) -> Itinerary | None:
        """Walking all the way, when within the walking limit (and the per-leg limit); ``draw=False``
        leaves its geometry for :meth:`draw`."""
        opts, so, sd = self.opts, self.so, self.sd
        reach = self.network.walk.reach(so, opts.max_walk_m, step_free_only=opts.wheelchair, link_cost=True)
        dist = float(reach.costs_to(list(sd), link_cost=True).min())
        if not math.isfinite(dist) or dist > opts.walk_leg_limit_m:
            return None
        start, end = (None, when) if self.arrive_by else (when, None)
        return Itinerary([self.walk_leg(self.o, self.d, so, sd, start, end, dist_m=dist, draw=draw)])

    # ------------------------------------------------------------------ journeys
    def itinerary(self, j: Journey, tt: Timetable, *, draw: bool = True) -> Itinerary:
        """The legs of a RAPTOR journey, door to door; ``draw=False`` leaves the geometry of its walks for
        :meth:`draw`."""
        legs: list[Leg] = []
        rides = [leg for leg in j.legs if leg.kind == "ride"]
        for leg in j.legs:
            if leg.kind == "access":
                stop = rides[0].from_stop
                legs.append(self.walk_leg(self.o, self.stop_place(tt, stop), self.so, self._stop_snap(tt, stop),
                                          None, self.at(rides[0].start_s), dist_m=leg.walk_m, draw=draw))
            elif leg.kind == "egress":
                stop = rides[-1].to_stop
                legs.append(self.walk_leg(self.stop_place(tt, stop), self.d, self._stop_snap(tt, stop), self.sd,
                                          self.at(rides[-1].end_s), None, dist_m=leg.walk_m, draw=draw))
            elif leg.kind == "transfer":
                a, b = leg.from_stop, leg.to_stop
                legs.append(self.walk_leg(self.stop_place(tt, a), self.stop_place(tt, b), self._stop_snap(tt, a),
                                          self._stop_snap(tt, b), self.at(leg.start_s), self.at(leg.end_s),
                                          dist_m=leg.walk_m, draw=draw))
            else:
                legs.append(self.ride_leg(leg, tt))
        return Itinerary(legs)

    def ride_leg(self, leg, tt: Timetable) -> Leg:
        """A ride on a scheduled trip (with its booking terms when it is a ligne virtuelle)."""
        route = int(leg.route)
        coords, hops_m = pattern_shape(tt, leg.pattern)
        geometry = coords[leg.board_pos:leg.alight_pos + 1]
        feed = self.network.feeds[int(tt.route_feed[route])]
        booking = fixed_ride_booking(self.network, self.tz, tt, leg, self.at)
        return Leg(
            mode_of_route_type(int(tt.route_types[route])),
            self.stop_place(tt, leg.from_stop), self.stop_place(tt, leg.to_stop),
            self.at(leg.start_s), self.at(leg.end_s),
            distance_m=float(hops_m[leg.board_pos:leg.alight_pos].sum()) if len(geometry) > 1 else 0.0,
            route={"id": tt.route_orig_ids[route], "short_name": tt.route_short_names[route],
                   "long_name": tt.route_long_names[route], "type": int(tt.route_types[route])},
            trip_id=tt.trip_orig_ids[leg.trip], headsign=tt.trip_headsigns[leg.trip] or None,
            agency=agency_name(feed, tt.route_orig_ids[route]),
            intermediate_stops=max(0, len(geometry) - 2), geometry=geometry, headway_based=leg.headway_based,
            booking=booking[0] if booking else None, deadline=booking[1] if booking else None,
        )


def pattern_shape(tt: Timetable, p: int) -> tuple[list[tuple[float, float]], np.ndarray]:
    """The (lat, lon) degrees of pattern ``p``'s stops, in order, and the length (metres) of each hop between
    two of them (great circle), memoised on the timetable: a ride from position ``b`` to ``a`` is drawn by
    ``coords[b:a + 1]`` and is ``sum(hops[b:a])`` metres long."""
    shapes = tt.__dict__.setdefault("_pattern_shapes", {})
    shape = shapes.get(p)
    if shape is None:
        stops = tt.pattern_stop_list(p)
        coords = list(zip(tt.stop_lat[stops].tolist(), tt.stop_lon[stops].tolist()))
        a = np.asarray(coords).reshape(-1, 2)
        hops = haversine_m(a[:-1, 0], a[:-1, 1], a[1:, 0], a[1:, 1])
        shape = shapes[p] = (coords, hops)
    return shape


def agency_name(feed, route_id: str) -> str | None:
    """Name of the agency running a route (memoised per feed: this runs for every ride leg)."""
    names = feed.__dict__.get("_route_agency_names")
    if names is None:
        agencies = feed.agency
        by_id = dict(zip(agencies["agency_id"].astype(str), agencies["agency_name"].astype(str)))
        default = str(agencies["agency_name"].iloc[0]) if len(agencies) else None
        names = {str(r): (by_id.get(str(a), default) if len(agencies) > 1 else default)
                 for r, a in zip(feed.routes["route_id"], feed.routes["agency_id"])}
        names[None] = default
        feed.__dict__["_route_agency_names"] = names
    return names.get(route_id, names[None])
