"""On-demand (TAD) legs inside one door-to-door request: access, egress and direct options (used by Planner.plan).

How TAD joins the RAPTOR search (at most one TAD leg per itinerary, so two estimated ride times are
never chained):

* depart-at, TAD *egress*: the plain search (walk access) runs with extra *pruning-only* egress
  candidates (a lower bound of the TAD egress time with a walk above the limit, so the kernel never
  makes a destination label of it, and a far-future one carrying the least egress walk): every
  kernel bound stays a true lower bound, so no label that could reach the door by TAD is pruned.
  Then the labels at the TAD boarding stops get the *exact* time-dependent TAD ride (window, calendar,
  booking), departing at least ``min_transfer_s`` after the bus arrives (a change of vehicle);
* depart-at, TAD *access*: a second search seeded with the TAD drop-offs (hub stop, drop-off time +
  ``min_transfer_s``) as sources and the walking egress only.  A separate search, because in one
  McRAPTOR bag a TAD label (no walking) would dominate the walk-only label on the same bus, and the
  option needing no booking would be lost;
* arrive-by mirrors both (TAD access post-processed on the labels of the plain search, TAD egress as
  targets of a second search);
* direct options: door (or a stop reached on foot) -> TAD -> door (or a stop, then on foot):
  zone -> same zone, zone -> zone, zone -> hub, hub -> zone.

Times: the query's time axis (seconds since the service-day origin of the query date); trips of the
query's service day, of the previous one (windows after midnight, e.g. 22:00-25:30: a request at
00:30 finds the ride of the previous service day) and, for depart-at, of the next one (a late-night
request whose first ride is tomorrow morning) are considered, each only when its service_id runs
that day; the planner's horizon (``PlanOptions.max_hours``) bounds how far ahead an answer may be.
Within a window the earliest (depart-at) or latest (arrive-by) feasible pickup is taken; the booking
rule can push the pickup later (same-day notice) or close the service day.

Lignes virtuelles (must-book fixed runs) are in :mod:`mobility.planning.virtual_lines`.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from mobility.network.flex import DRIVE_SNAP_MAX_M, FlexService
from mobility.planning import booking as bk
from mobility.planning.itinerary import Itinerary, Leg, Place
from mobility.planning.legs import LegBuilder, agency_name
from mobility.planning.rides import Ride, RideModel
from mobility.routing.raptor import (
    INF,
    earliest_arrival,
    latest_departure,
    pareto_journeys,
)

_HUGE_S = 10 ** 12


def hop_stop_ends(flex, tt, h: int, board_side: bool) -> list[str]:
    """Timetable stops at one end of flex hop ``h`` (its stops, or the stops inside its zone) that the
    drive network reaches."""
    hop = flex.hops[h]
    row = flex.trips[hop.trip].rows[hop.board if board_side else hop.alight]
    keys = row.stops if row.zone < 0 else flex.zone_stops[row.zone]
    idx = tt.stop_index
    return [k for k in keys if k in idx and k in flex.stop_drive]


def tad_ends(flex: FlexService, drive_snap, place: Place, walks: dict, by_zone: dict, by_stop: dict,
             door: str) -> dict:
    """hop -> [(point, walk_s, walk_m)]: where the hops of ``by_zone``/``by_stop`` (boarding or alighting)
    can be taken at a door (``door``, when it is in a zone and on the drive network) or at the stops
    walked to from it (``walks``: stop key -> (walk_s, walk_m))."""
    out: dict[int, list] = {}
    if drive_snap is not None:
        for z in flex.zones_at(place.lat, place.lon):
            for h in by_zone.get(z, ()):
                out.setdefault(h, []).append((door, 0, 0.0))
    for key, (ws, wm) in walks.items():
        for h in by_stop.get(key, ()):
            if key in flex.stop_drive:
                out.setdefault(h, []).append((key, ws, wm))
    return out


class TadQuery:
    """The TAD part of one request; see the module docstring."""

    def __init__(self, legs: LegBuilder, tt, booked_at: dt.datetime, access, egress, t_query: int) -> None:
        """``legs``: the request's leg builder (doors, options, time axis); ``access``/``egress``: the stops
        reached on foot from each door (tt index, walk seconds, walk metres); ``t_query``: the requested
        time on the query axis."""
        self.legs = legs
        self.net = legs.network
        self.flex: FlexService = self.net.flex
        self.drive = self.net.drive
        o, d, opts, arrive_by = legs.o, legs.d, legs.opts, legs.arrive_by
        self.tt, self.o, self.d, self.origin_day = tt, o, d, legs.origin_day
        self.booked_at, self.opts, self.arrive_by, self.t_query = booked_at, opts, arrive_by, t_query
        self.slack_s = int(opts.min_transfer_s)
        self.tz = legs.tz
        day = tt.service_date
        ids = tt.stop_ids
        self.walk_o = {ids[i]: (int(s), float(m)) for i, s, m in zip(*access)}
        self.walk_d = {ids[i]: (int(s), float(m)) for i, s, m in zip(*egress)}
        self.snap_o = self.drive.snap(o.lat, o.lon, DRIVE_SNAP_MAX_M)
        self.snap_d = self.drive.snap(d.lat, d.lon, DRIVE_SNAP_MAX_M)
        self._door_reach: dict = {}
        self._drive_memo: dict = {}
        # the rides of the day before (windows past midnight), of the day, and (depart-at) of the next day
        self.rides = RideModel(self.flex, self.net.feeds, day, self.tz, booked_at=booked_at, next_day=not arrive_by)
        # board options at the origin side, alight options at the destination side: hop -> [(point, walk_s, walk_m)]
        self.board = self._ends(o, self.walk_o, self.flex.by_board_zone, self.flex.by_board_stop, "O")
        self.alight = self._ends(d, self.walk_d, self.flex.by_alight_zone, self.flex.by_alight_stop, "D")
        # hops usable as access (to a RAPTOR stop) and egress (from one): their stop ends
        self.access_ends = {h: self._stop_ends(h, False) for h in self.board}
        self.egress_ends = {h: self._stop_ends(h, True) for h in self.alight}
        self.has_label_side = bool(self.alight) if not arrive_by else bool(self.board)

    # ------------------------------------------------------------------ geometry helpers
    def _ends(self, place: Place, walks: dict, by_zone: dict, by_stop: dict, door: str) -> dict:
        snap = self.snap_o if door == "O" else self.snap_d
        return tad_ends(self.flex, snap, place, walks, by_zone, by_stop, door)

    def _stop_ends(self, h: int, board_side: bool) -> list[str]:
        return hop_stop_ends(self.flex, self.tt, h, board_side)

    def _snap(self, point: str):
        if point == "O":
            return self.snap_o
        if point == "D":
            return self.snap_d
        return self.flex.stop_drive.get(point)

    def _drive_reach(self, point: str, snap):
        """The driving search from a point ('O' per request, a stop memoised across requests)."""
        if point in ("O", "D"):
            if point not in self._door_reach:
                self._door_reach[point] = self.flex.drive_node_times(self.drive, snap)
            return self._door_reach[point]
        return self.flex.drive_node_times(self.drive, snap, cache_key=point)

    def drive_s(self, a: str, b: str) -> float:
        """Free-flow driving seconds between two points ('O', 'D' or a stop key); inf if none."""
        key = (a, b)
        if key in self._drive_memo:
            return self._drive_memo[key]
        sa, sb = self._snap(a), self._snap(b)
        if sa is None or sb is None:
            val = math.inf
        else:
            val = float(FlexService.drive_times_to(self.drive, self._drive_reach(a, sa), sa, [sb])[0])
        self._drive_memo[key] = val
        return val

    def _at(self, secs: float) -> dt.datetime:
        return self.legs.at(secs)

    def ride(self, h: int, drive_s: float, **when) -> Ride | None:
        """The best bookable ride of hop ``h`` (:meth:`RideModel.ride`), or None."""
        r = self.rides.ride(h, drive_s, **when)
        return r if r is not None and r.bookable(self.booked_at) else None

    # ------------------------------------------------------------------ kernel candidates
    def _lower_bound(self, ends: dict, pairs) -> tuple[float, float]:
        """(least seconds, least walk) over TAD legs joining a RAPTOR stop and the door."""
        lb_s, lb_w = math.inf, math.inf
        for h, stops, door_ends in pairs:
            hop = self.flex.hops[h]
            trip = self.flex.trips[hop.trip]
            for s in stops:
                for point, ws, wm in door_ends:
                    dr = self.drive_s(s, point) if not self.arrive_by else self.drive_s(point, s)
                    if math.isfinite(dr):
                        lb_s = min(lb_s, trip.ride_s(dr, hop.board, hop.alight) + ws + self.slack_s)
                        lb_w = min(lb_w, wm)
        return lb_s, lb_w

    def _label_pairs(self):
        if self.arrive_by:
            return [(h, self.access_ends[h], self.board[h]) for h in self.board]
        return [(h, self.egress_ends[h], self.alight[h]) for h in self.alight]

    def pruning_candidates(self, cands):
        """``cands`` plus pruning-only entries keeping the kernel's destination bounds valid for TAD: at every stop
        whose labels :meth:`attach_from_labels` reads, the least TAD time with a walk over the limit (never a
        destination label, but a candidate stop, where the kernel keeps the last round's labels); and the least
        TAD walk with a time no label reaches. ``cands`` alone when no TAD leg joins a label stop and the door
        (:meth:`attach_from_labels` then finds nothing)."""
        pairs = self._label_pairs()
        lb_s, lb_w = self._lower_bound({}, pairs)
        if not math.isfinite(lb_s):
            return cands
        index = self.tt.stop_index
        label_stops = sorted({index[key] for _, stops, _ in pairs for key in stops})
        stop = np.int64(cands[0][0]) if len(cands[0]) else np.int64(0)
        n = len(label_stops)
        return (np.concatenate([cands[0], label_stops, [stop]]).astype(np.int64),
                np.concatenate([cands[1], [int(math.floor(lb_s))] * n, [_HUGE_S]]).astype(np.int64),
                np.concatenate([cands[2], [self.opts.max_walk_m + 1.0] * n, [lb_w]]).astype(np.float64))

    def attach_from_labels(self, res) -> list[Itinerary]:
        """TAD egress (depart-at) / access (arrive-by) on the exact labels of the plain search."""
        tt = self.tt
        found = []
        for h, stops, door_ends in self._label_pairs():
            for key in stops:
                s = tt.stop_index[key]
                for k in range(1, res.L_t.shape[0]):
                    for slot in range(res.L_t.shape[2]):
                        lt = int(res.L_t[k, s, slot])
                        if lt >= INF:
                            continue
                        lw = float(res.L_w[k, s, slot])
                        for point, ws, wm in door_ends:
                            if lw + wm > self.opts.max_walk_m:
                                continue
                            if not self.arrive_by:
                                r = self.ride(h, self.drive_s(key, point), ready_s=lt + self.slack_s)
                                if r is None:
                                    continue
                                found.append((r.drop_s + ws, k, lw + wm, s, slot, r, key, point, ws, wm))
                            else:
                                ready = -lt
                                r = self.ride(h, self.drive_s(point, key), latest_drop_s=ready - self.slack_s)
                                if r is None:
                                    continue
                                found.append((-(r.pickup_s - ws), k, lw + wm, s, slot, r, key, point, ws, wm))
        found.sort(key=lambda f: (f[0], f[1], f[2]))
        kept = []
        for f in found:
            if any(g[0] <= f[0] and g[1] <= f[1] and g[2] <= f[2] for g in kept):
                continue
            kept.append(f)
        out = []
        for t, k, w, s, slot, r, key, point, ws, wm in kept[:8]:
            if not self.arrive_by:
                j = res._journey(k, s, slot, (s, r.drop_s + ws - int(res.L_t[k, s, slot]), wm, None))
                it = self.legs.itinerary(j, tt)
                legs = it.legs[:-1] + self._tad_legs(r, key, point, ws, wm, egress=True)
            else:
                ready = -int(res.L_t[k, s, slot])
                j = res._journey(k, s, slot, (s, ready - (r.pickup_s - ws), wm, None))
                it = self.legs.itinerary(j, tt)
                legs = self._tad_legs(r, point, key, ws, wm, egress=False) + it.legs[1:]
            out.append(Itinerary(legs))
        return out

    def access_seeds(self) -> list[tuple]:
        """Depart-at: the TAD rides from the origin side to a stop of the fixed network, as search sources
        (stop index, ready time at the stop, walk_m, ride, door point, stop key, walk_s); they depend on the
        origin only."""
        tt, seeds = self.tt, []
        for h, ends in self.board.items():
            for key in self.access_ends[h]:
                for point, ws, wm in ends:
                    r = self.ride(h, self.drive_s(point, key), ready_s=self.t_query + ws)
                    if r is None:
                        continue
                    seeds.append((tt.stop_index[key], r.drop_s + self.slack_s, wm, r, point, key, ws))
        return seeds

    @property
    def may_end_by_tad(self) -> bool:
        """Whether an on-demand ride can end at the destination door or at a stop it walks from."""
        return bool(self.alight)

    def seeded_search(self, rounds: int, kw: dict) -> list[Itinerary]:
        """Depart-at: TAD access rides as sources; arrive-by: TAD egress rides as targets."""
        tt = self.tt
        seeds = []  # (stop index, time at stop, walk_m, ride, door point, stop key, walk_s)
        if not self.arrive_by:
            walk_eg = self._walk_cands(self.walk_d)
            if not len(walk_eg[0]):
                return []
            seeds = self.access_seeds()
            if not seeds:
                return []
            seeds = _best_seeds(seeds, later_is_better=False)
            src = (np.array([x[0] for x in seeds], np.int64), np.array([x[1] for x in seeds], np.int64),
                   np.array([x[2] for x in seeds], np.float64),
                   np.array([x[1] - (x[3].pickup_s - x[6]) for x in seeds], np.int64))
            res = earliest_arrival(tt, src, rounds, egress=walk_eg, **kw)
            journeys = pareto_journeys(res, walk_eg)
        else:
            walk_ac = self._walk_cands(self.walk_o)
            if not len(walk_ac[0]):
                return []
            for h, ends in self.alight.items():
                for key in self.egress_ends[h]:
                    for point, ws, wm in ends:
                        r = self.ride(h, self.drive_s(key, point), latest_drop_s=self.t_query - ws)
                        if r is None:
                            continue
                        seeds.append((tt.stop_index[key], r.pickup_s - self.slack_s, wm, r, point, key, ws))
            if not seeds:
                return []
            seeds = _best_seeds(seeds, later_is_better=True)
            tg = (np.array([x[0] for x in seeds], np.int64), np.array([x[1] for x in seeds], np.int64),
                  np.array([x[2] for x in seeds], np.float64),
                  np.array([(x[3].drop_s + x[6]) - x[1] for x in seeds], np.int64))
            res = latest_departure(tt, tg, rounds, access=walk_ac, **kw)
            journeys = pareto_journeys(res, walk_ac)
        by_seed = {(int(x[0]), int(x[1]), round(float(x[2]), 3)): x for x in seeds}
        out = []
        for j in journeys:
            end = j.legs[0] if not self.arrive_by else j.legs[-1]
            if not self.arrive_by:
                seed = by_seed.get((int(end.to_stop), int(end.end_s), round(float(end.walk_m), 3)))
            else:
                last_ride = [leg for leg in j.legs if leg.kind == "ride"][-1]
                seed = next((x for x in seeds if x[0] == end.from_stop and round(float(x[2]), 3) ==
                             round(float(end.walk_m), 3) and x[1] >= last_ride.end_s), None)
            if seed is None:
                continue
            _, _, wm, r, point, key, ws = seed
            rides = [leg for leg in j.legs if leg.kind == "ride"]
            h, drive = r.hop, r.drive_s
            # re-time the TAD leg next to the fixed ride it serves (no needless wait at the hub)
            if not self.arrive_by:
                r2 = self.ride(h, drive, latest_drop_s=rides[0].start_s - self.slack_s)
                if r2 is not None and r2.pickup_s >= r.pickup_s:
                    r = r2
            else:
                r2 = self.ride(h, drive, ready_s=rides[-1].end_s + self.slack_s)
                if r2 is not None and r2.drop_s <= r.drop_s:
                    r = r2
            it = self.legs.itinerary(j, tt)
            if not self.arrive_by:
                legs = self._tad_legs(r, point, key, ws, wm, egress=False) + it.legs[1:]
            else:
                legs = it.legs[:-1] + self._tad_legs(r, key, point, ws, wm, egress=True)
            out.append(Itinerary(legs))
        return out

    def _walk_cands(self, walks: dict):
        idx = self.tt.stop_index
        keys = [k for k in walks if k in idx]
        return (np.array([idx[k] for k in keys], np.int64), np.array([walks[k][0] for k in keys], np.int64),
                np.array([walks[k][1] for k in keys], np.float64))

    def direct(self) -> list[Itinerary]:
        """Door (or a stop on foot) -> TAD -> door (or a stop, then on foot), without fixed lines."""
        out = []
        for h, b_ends in self.board.items():
            a_ends = self.alight.get(h)
            if not a_ends:
                continue
            best = None
            for bp, bws, bwm in b_ends:
                for ap, aws, awm in a_ends:
                    if bp == ap or bwm + awm > self.opts.max_walk_m:
                        continue
                    dr = self.drive_s(bp, ap)
                    if not self.arrive_by:
                        r = self.ride(h, dr, ready_s=self.t_query + bws)
                        score = None if r is None else r.drop_s + aws
                    else:
                        r = self.ride(h, dr, latest_drop_s=self.t_query - aws)
                        score = None if r is None else -(r.pickup_s - bws)
                    if r is None:
                        continue
                    cand = (score, bwm + awm, r, bp, ap, bws, bwm, aws, awm)
                    if best is None or cand[:2] < best[:2]:
                        best = cand
            if best is not None:
                _, _, r, bp, ap, bws, bwm, aws, awm = best
                legs = self._tad_legs(r, bp, ap, bws, bwm, egress=False, walk_after=(aws, awm))
                out.append(Itinerary(legs))
        return out

    # ------------------------------------------------------------------ legs
    def _place(self, point: str) -> Place:
        if point == "O":
            return self.o
        if point == "D":
            return self.d
        return self.legs.stop_place_of_key(point)

    def _tad_legs(self, r: Ride, a: str, b: str, ws: int, wm: float, *, egress: bool,
                  walk_after: tuple[int, float] | None = None) -> list[Leg]:
        """[walk to the pickup stop] + TAD leg [+ walk from the drop-off stop].  For egress legs the
        walk (ws, wm) follows the ride; for access legs it precedes it."""
        legs: list[Leg] = []
        pa, pb = self._place(a), self._place(b)
        pickup, drop = self._at(r.pickup_s), self._at(r.drop_s)
        if not egress and wm > 0 and a not in ("O", "D"):
            legs.append(self.legs.walk_between(self.o, pa, None, pickup, wm))
        legs.append(self._tad_leg(r, pa, pb, pickup, drop))
        walk = (ws, wm) if egress else walk_after
        if walk is not None and walk[1] > 0 and b not in ("O", "D"):
            legs.append(self.legs.walk_between(pb, self.d, drop, None, walk[1]))
        return legs

    def _tad_leg(self, r: Ride, pa: Place, pb: Place, pickup: dt.datetime, drop: dt.datetime) -> Leg:
        hop = self.flex.hops[r.hop]
        trip = self.flex.trips[hop.trip]
        feed = self.net.feeds[trip.feed_index]
        route = dict(_route_info(feed, trip.route_id))
        agency = agency_name(feed, trip.route_id)
        phone = _agency_phone(feed)
        booking, deadline = None, None
        if r.rules and r.deadline is not None:
            booking, deadline = bk.booking_json(r.rules, r.deadline, r.opens, phone), r.deadline
        elif trip.rows[hop.board].pickup_booking or trip.rows[hop.alight].drop_off_booking:
            booking = {"phone": phone, "deadline": None, "message": "", "rule_id": None,
                       "instructions": f"Réservation obligatoire{(' au ' + bk.phone_display(phone)) if phone else ''}"}
        a, b = trip.rows[hop.board], trip.rows[hop.alight]
        window = {
            "pickup": {"start": self._at(a.start_s + r.shift_s).isoformat(), "end": self._at(a.end_s + r.shift_s).isoformat()},
            "drop_off": {"start": self._at(b.start_s + r.shift_s).isoformat(), "end": self._at(b.end_s + r.shift_s).isoformat()},
            "service_date": r.sday.isoformat(),
        }
        geometry = [(pa.lat, pa.lon)]
        dist_m = 0.0
        ka = "O" if pa is self.o else ("D" if pa is self.d else pa.stop_id)
        sa, sb = self._snap(ka), self._snap("O" if pb is self.o else ("D" if pb is self.d else pb.stop_id))
        if sa is not None and sb is not None:
            path = self._drive_reach(ka, sa).path_to(sb)  # the search that timed the ride draws it
            if path is not None:
                geometry += list(path.coords)
                dist_m = float(path.length_m)
        geometry.append((pb.lat, pb.lon))
        return Leg("tad", pa, pb, pickup, drop, distance_m=dist_m, route=route, trip_id=trip.trip_id,
                   headsign=trip.headsign or None, agency=agency, geometry=geometry, booking=booking, window=window,
                   deadline=deadline)


def _best_seeds(seeds: list, later_is_better: bool) -> list:
    """One seed per (stop, walk) pair: the earliest (depart-at) / latest (arrive-by) at the stop."""
    best: dict = {}
    for x in seeds:
        key = (x[0], round(float(x[2]), 3))
        if key not in best or (x[1] > best[key][1] if later_is_better else x[1] < best[key][1]):
            best[key] = x
    return list(best.values())


def _route_info(feed, route_id: str) -> dict:
    """``{id, short_name, long_name, type}`` of a route (memoised per feed: this runs for every TAD leg)."""
    table = feed.__dict__.get("_route_info")
    if table is None:
        routes = feed.routes
        table = {}
        for rid, short, long_, rtype in zip(routes["route_id"].astype(str), routes["route_short_name"],
                                           routes["route_long_name"], routes["route_type"]):
            table.setdefault(rid, {"id": rid, "short_name": str(short), "long_name": str(long_), "type": int(rtype)})
        feed.__dict__["_route_info"] = table
    return table.get(route_id, {"id": route_id, "short_name": "", "long_name": "", "type": 3})


def _agency_phone(feed) -> str:
    """The first agency's phone ("" if none), memoised per feed."""
    phone = feed.__dict__.get("_agency_phone")
    if phone is None:
        phone = ""
        if len(feed.agency) and "agency_phone" in feed.agency:
            phone = str(feed.agency["agency_phone"].iloc[0] or "")
        feed.__dict__["_agency_phone"] = phone
    return phone
