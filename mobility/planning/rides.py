"""The one on-demand (TAD) ride model, used by the planner and by the analytics.

A *ride* goes from one end of a GTFS-Flex hop (a zone, a location group or a stop of a flex trip) to the other
end. :class:`RideModel` knows, on the time axis of one query day (seconds after the service-day origin of
that day, :mod:`mobility.timeaxis`):

* the service days whose rides can serve the query (the previous one for windows past midnight, the query
  day, and the next one for a depart-at request late in the evening), each only when its ``service_id``
  runs that day;
* the windows of a hop on each of those days: the pickup window of the boarding row and the drop-off window
  of the alighting row (a timed row is a window of one instant);
* the ride time: ``ceil(factor * drive_s + offset_s)``, with the stop-level ``safe_duration_*`` of the
  boarding or alighting row when given (2021 draft, offset in minutes), else those of trips.txt (GTFS, offset
  in seconds), else the documented default (:meth:`mobility.network.flex.FlexTrip.ride_s`);
* the feasible pickups for a ride of duration ``dur``: ``[lo, hi]`` with ``lo = max(pickup start, drop-off
  start - dur)`` and ``hi = min(pickup end, drop-off end - dur)`` (nobody waits on board for a window);
* the booking rules: with ``booked_at`` set, a ride is offered only if it can still be booked then
  (earliest pickup of the rule, deadline); with ``booked_at=None`` (the analytics' *planned use*), every ride
  is taken to be booked in time.

:meth:`RideModel.ride` answers the question the planner and the analytics both ask: the earliest drop-off
of a hop for a rider ready at ``ready_s`` (depart-at), or the latest pickup that arrives by
``latest_drop_s`` (arrive-by).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from mobility.network.flex import FlexService, FlexTrip
from mobility.planning import booking as bk
from mobility.timeaxis import TimeAxis, after, elapsed_s


@dataclass
class Ride:
    """A feasible ride of hop ``hop`` on the query's time axis (seconds), with its booking terms."""

    hop: int
    sday: dt.date
    shift_s: int  # time 0 of the ride's service day on the query axis
    pickup_s: int
    drop_s: int
    drive_s: float
    deadline: dt.datetime | None = None
    opens: dt.datetime | None = None
    rules: list = field(default_factory=list)

    def bookable(self, booked_at: dt.datetime | None) -> bool:
        """Can the ride still be booked at ``booked_at`` (None: planned use, always)?"""
        return booked_at is None or self.deadline is None or booked_at <= self.deadline


class RideModel:
    """The rides of a :class:`FlexService` around one query day; see the module docstring."""

    def __init__(self, flex: FlexService, feeds, day: dt.date, tz: dt.tzinfo, *,
                 booked_at: dt.datetime | None, next_day: bool) -> None:
        self.flex, self.feeds, self.day, self.tz, self.booked_at = flex, feeds, day, tz, booked_at
        self.axis = TimeAxis(tz)
        self.origin = self.axis.origin(day)
        days = [day - dt.timedelta(days=1), day] + ([day + dt.timedelta(days=1)] if next_day else [])
        self.days = [(sd, self.axis.shift_s(day, sd)) for sd in days]
        self._active: dict = {}
        self._pmin: dict = {}

    # ------------------------------------------------------------------ calendar, windows, ride time
    def runs(self, trip: FlexTrip, sday: dt.date) -> bool:
        """Does ``trip`` run on service day ``sday``? (Scenario trips carry ``weekdays:0,1,2`` instead of a
        feed's service_id.)"""
        if trip.feed_index < 0:
            days = trip.service_id.split(":", 1)[1] if ":" in trip.service_id else ""
            return str(sday.weekday()) in days.split(",")
        return self._runs_id(trip.feed_index, trip.service_id, sday)

    def _runs_id(self, fi: int, service_id: str, sday: dt.date) -> bool:
        key = (fi, sday)
        if key not in self._active:
            self._active[key] = self.feeds[fi].active_service_ids(sday)
        return service_id in self._active[key]

    def trip_of(self, h: int) -> FlexTrip:
        return self.flex.trips[self.flex.hops[h].trip]

    def duration_s(self, h: int, drive_s):
        """Ride time (whole seconds) of hop ``h`` for a free-flow driving time; arrays work too."""
        hop = self.flex.hops[h]
        out = np.ceil(self.trip_of(h).ride_s(drive_s, hop.board, hop.alight))
        return out.astype(np.int64) if isinstance(out, np.ndarray) else int(out)

    def windows(self, h: int) -> list[tuple[dt.date, int, int, int, int, int]]:
        """(service day, its shift, pickup start, pickup end, drop-off start, drop-off end) on the query axis,
        for each service day on which the hop's trip runs."""
        hop = self.flex.hops[h]
        trip = self.flex.trips[hop.trip]
        a, b = trip.rows[hop.board], trip.rows[hop.alight]
        return [(sday, shift, (a.end_s if a.timed else a.start_s) + shift, a.end_s + shift, b.start_s + shift,
                 (b.start_s if b.timed else b.end_s) + shift)
                for sday, shift in self.days if self.runs(trip, sday)]

    def pickup_intervals(self, h: int, dur) -> Iterator[tuple]:
        """Per running service day, the feasible pickups ``(lo, hi)`` of a ride of duration ``dur`` (scalars or
        arrays; a pickup is feasible where ``lo <= hi``), booked in time."""
        for _, _, ps, pe, ds, de in self.windows(h):
            yield np.maximum(ps, ds - dur), np.minimum(pe, de - dur)

    # ------------------------------------------------------------------ booking
    def rules(self, h: int) -> list:
        """The booking rules of the hop's pickup and drop-off rows (each once)."""
        hop = self.flex.hops[h]
        trip = self.flex.trips[hop.trip]
        out = []
        for k in (trip.rows[hop.board].pickup_rule, trip.rows[hop.alight].drop_off_rule):
            r = self.flex.rules.get(k) if k else None
            if r is not None and r not in out:
                out.append(r)
        return out

    def _runs_for(self, h: int) -> Callable[[str, dt.date], bool]:
        fi = self.trip_of(h).feed_index
        return lambda sid, day: fi >= 0 and self._runs_id(fi, sid, day)

    def pickup_min_s(self, h: int, sday: dt.date) -> float | None:
        """Earliest pickup that can still be booked at ``booked_at`` (axis seconds) for hop ``h`` on service
        day ``sday``; -inf without a limit (or for planned use), None when that day cannot be booked."""
        if self.booked_at is None:
            return -math.inf
        key = (h, sday)
        if key not in self._pmin:
            val: float | None = -math.inf
            for r in self.rules(h):
                ep = bk.earliest_pickup(r, self.booked_at, sday, self.tz, self._runs_for(h))
                if ep is None:
                    val = None
                    break
                val = max(val, elapsed_s(self.origin, ep))
            self._pmin[key] = val
        return self._pmin[key]

    def _book(self, r: Ride) -> Ride:
        rules = self.rules(r.hop)
        pickup = after(self.origin, r.pickup_s)
        runs = self._runs_for(r.hop)
        deadlines = [bk.deadline(x, pickup, r.sday, self.tz, runs) for x in rules]
        opens = [o for o in (bk.opening(x, pickup, r.sday, self.tz, runs) for x in rules) if o is not None]
        r.rules, r.deadline, r.opens = rules, (min(deadlines) if deadlines else None), (max(opens) if opens else None)
        return r

    # ------------------------------------------------------------------ the question
    def ride(self, h: int, drive_s: float, *, ready_s: float | None = None,
             latest_drop_s: float | None = None) -> Ride | None:
        """The best ride of hop ``h``: the earliest drop-off for a rider ready at ``ready_s`` (depart-at), or
        the latest pickup arriving by ``latest_drop_s`` (arrive-by), over the service days; None if none is
        feasible. The booking terms are attached; whether ``booked_at`` is before the deadline is
        :meth:`Ride.bookable`."""
        if not math.isfinite(drive_s):
            return None
        dur = self.duration_s(h, drive_s)
        best: Ride | None = None
        for sday, shift, ps, pe, ds, de in self.windows(h):
            pmin = self.pickup_min_s(h, sday)
            if pmin is None:
                continue
            if ready_s is not None:
                p = max(ready_s, ps, ds - dur, pmin)
                d = p + dur
                if p > pe or d > de:
                    continue
                if best is None or d < best.drop_s:
                    best = Ride(h, sday, shift, int(p), int(d), drive_s)
            else:
                # the latest pickup whose drop-off is in time; before the drop-off window opens the
                # vehicle waits for it (drop-off at its start)
                dmax = min(latest_drop_s, de)
                p = min(pe, dmax - dur)
                d = max(p + dur, ds)
                if p < max(ps, pmin) or d > dmax:
                    continue
                if best is None or p > best.pickup_s:
                    best = Ride(h, sday, shift, int(p), int(d), drive_s)
        return None if best is None else self._book(best)
