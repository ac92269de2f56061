"""Compact, numba-friendly timetable arrays for one query date (the input of the RAPTOR kernels).

``build_timetable(feeds, service_date, footpaths=...)`` turns one or more loaded GTFS feeds into a frozen
:class:`Timetable` of flat numpy arrays, in the spirit of OpenTripPlanner's raptor module / Conveyal R5:

Time axis
    Seconds since "noon minus 12h" of the *query* ``service_date`` in the timezone of the first feed
    (the GTFS service-day origin).  Trips active on ``service_date - 1`` and ``service_date + 1`` are
    included too, shifted by the real length of the day in between (normally -86400 / +86400, 23 h or
    25 h across a daylight-saving change), so after-midnight trips of the previous service day (times
    >= 24:00:00 there, negative-free here) and early trips of the next day are found.  The timezone of
    every other feed is honoured the same way.

Ids
    With one feed the GTFS ids are kept; with several, every id is namespaced ``f"{feed_id}:{id}"``.
    ``stop_feed``/``stop_orig_ids``, ``trip_feed``/``trip_orig_ids``, ``route_feed``/``route_orig_ids`` map
    back to (feed index, original id).

Stops
    Only platform stops (``location_type`` 0 or empty) are routable and get an index ``0..n_stops-1``;
    ``stop_parent_ids`` keeps the parent station for display.  ``stop_wheelchair`` is the GTFS value
    resolved through the parent station when the stop itself says 0 (0 unknown, 1 accessible, 2 not).

Patterns (like R5 ``TripPattern``)
    Trips of one route with the same stop sequence *and* the same pickup/drop-off pattern form a pattern;
    trips are sorted by departure at the first stop.  If trips overtake each other (not FIFO at some
    stop), the pattern is split greedily into several patterns so that, within every pattern, arrival
    and departure times are non-decreasing in trip order at *every* stop (required by RAPTOR).

    ``pattern_stop_ptr``/``pattern_stops``: CSR of the stop sequence; ``pattern_can_board`` /
    ``pattern_can_alight`` (uint8, same layout): 0 when pickup_type / drop_off_type == 1 (and no boarding
    at the last stop, no alighting at the first); ``pattern_board_booking`` / ``pattern_alight_booking``
    flag pickup/drop-off types 2 and 3 (allowed, but the rider must phone the agency / coordinate with
    the driver).  ``pattern_trip_ptr``: global trip indices ``pattern_trip_ptr[p]..[p+1]`` belong to
    pattern p, in order.  Times of trip ``t = pattern_trip_ptr[p] + j`` at position ``i`` of pattern p
    (n stops) are ``trip_arr[trip_times_ptr[p] + j * n + i]`` and ``trip_dep[...]``.

Frequencies
    ``exact_times = 1`` windows are expanded into concrete trips (``start_s, start_s + headway, ... <
    end_s``, times = run start + offsets of the template trip, ``trip_kind`` 1).  The template trip itself
    is not a scheduled run.

    ``exact_times = 0`` windows (headway-based service) do *not* pretend a schedule.  Every window is its
    own *frequency pattern* (``pattern_is_freq = 1``) with exactly one "trip" (``trip_kind`` 2) whose
    ``trip_arr/trip_dep`` hold the template offsets (relative to the template's first departure) and
    ``pattern_freq_start/end`` the window (vehicles start their run at times ``s`` with
    ``start <= s < end``).  Semantics (expected wait = half the headway, ``wait = headway_s // 2``):

    * depart-after: a rider ready at position i at time t boards the run starting at
      ``s = max(start, t + wait - dep_off[i])`` provided ``s < end``; the vehicle then arrives at
      position j at ``s + arr_off[j]``.  (Boarding before the first vehicle, the rider simply waits for
      it; after that, the rider waits the expected half headway.)
    * arrive-by: the exact inverse.  To alight at position j by time T, the latest usable run is
      ``S = min(end - 1, T - arr_off[j])`` (requires ``S >= start``) and the rider must be at position i
      by ``S + dep_off[i] - wait``.

    The kernel evaluates ``s = max(start, t + pattern_board_wait - dep_off[i])`` and arrival
    ``s + arr_off[j] + pattern_alight_wait``; ``board_wait = wait, alight_wait = 0`` forward and the
    reverse timetable swaps them, which makes both rules above one formula.

Footpaths
    CSR ``footpath_ptr`` (by from-stop) / ``footpath_to`` / ``footpath_dur`` (s) / ``footpath_walk``
    (m), given by the caller (the street layer); GTFS ``transfers.txt`` (if the feed object has a
    ``transfers`` frame) adds/raises entries with ``transfer_type 2`` (``min_transfer_time``) and removes
    ``transfer_type 3`` pairs.  Self-loops are dropped: a same-stop change costs ``min_transfer_s`` only.
    ``min_transfer_s`` (stored default for the queries) is slack added to every change of vehicle
    (same-stop or after a footpath), never to access/egress.

Reverse
    ``tt.reversed()`` is the mirrored timetable for arrive-by searches: time negated, pattern stop order
    reversed, trips reversed inside each pattern, board/alight (and arr/dep) swapped, footpaths
    transposed.  ``trip_orig`` / ``pattern_orig`` map reversed indices back to the forward ones.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from zoneinfo import ZoneInfo
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from mobility.errors import DataError, InputError
from mobility.geo import haversine_m
from mobility.timeaxis import TimeAxis

__all__ = ["Timetable", "build_timetable", "day_shift_s", "restrict_trips"]

# trip kinds
SCHEDULED, EXACT_FREQUENCY, HEADWAY = 0, 1, 2


@dataclass(frozen=True, eq=False)
class Timetable:
    """Flat timetable arrays for one query date; see the module docstring for the layout."""

    service_date: _dt.date
    timezone: str
    feed_ids: tuple[str, ...]
    is_reversed: bool
    min_transfer_s: int

    # stops
    stop_ids: tuple[str, ...]
    stop_names: tuple[str, ...]
    stop_parent_ids: tuple[str, ...]
    stop_orig_ids: tuple[str, ...]
    stop_feed: np.ndarray          # int32
    stop_lat: np.ndarray           # float64
    stop_lon: np.ndarray           # float64
    stop_wheelchair: np.ndarray    # int8  0 unknown / 1 yes / 2 no (parent-resolved)

    # routes
    route_ids: tuple[str, ...]
    route_orig_ids: tuple[str, ...]
    route_short_names: tuple[str, ...]
    route_long_names: tuple[str, ...]
    route_types: np.ndarray        # int32
    route_feed: np.ndarray         # int32

    # patterns
    pattern_route: np.ndarray      # int32
    pattern_stop_ptr: np.ndarray   # int32 (n_patterns + 1)
    pattern_stops: np.ndarray      # int32
    pattern_can_board: np.ndarray  # uint8, same layout as pattern_stops
    pattern_can_alight: np.ndarray  # uint8
    pattern_board_booking: np.ndarray  # uint8 (pickup_type 2/3)
    pattern_alight_booking: np.ndarray  # uint8 (drop_off_type 2/3)
    pattern_trip_ptr: np.ndarray   # int32 (n_patterns + 1)
    trip_times_ptr: np.ndarray     # int64 (n_patterns + 1)
    trip_arr: np.ndarray           # int64
    trip_dep: np.ndarray           # int64
    pattern_is_freq: np.ndarray    # uint8
    pattern_freq_start: np.ndarray  # int64
    pattern_freq_end: np.ndarray   # int64
    pattern_headway: np.ndarray    # int64
    pattern_board_wait: np.ndarray  # int64
    pattern_alight_wait: np.ndarray  # int64
    pattern_orig: np.ndarray       # int32 (identity in the forward timetable)

    # stop -> patterns
    stop_pattern_ptr: np.ndarray   # int32 (n_stops + 1)
    stop_patterns: np.ndarray      # int32
    stop_pattern_pos: np.ndarray   # int32 (position of the stop in that pattern)

    # trips
    trip_ids: tuple[str, ...]
    trip_orig_ids: tuple[str, ...]
    trip_headsigns: tuple[str, ...]
    trip_route: np.ndarray         # int32
    trip_feed: np.ndarray          # int32
    trip_day_offset: np.ndarray    # int8  -1 / 0 / +1 service day relative to service_date
    trip_wheelchair: np.ndarray    # int8  GTFS wheelchair_accessible 0/1/2
    trip_kind: np.ndarray          # int8  0 scheduled, 1 exact_times expansion, 2 headway window
    trip_orig: np.ndarray          # int32 (identity in the forward timetable)

    # footpaths
    footpath_ptr: np.ndarray       # int32 (n_stops + 1)
    footpath_to: np.ndarray        # int32
    footpath_dur: np.ndarray       # int64
    footpath_walk: np.ndarray      # float32

    stop_index: Mapping[str, int] = field(repr=False, default_factory=dict)
    _forward: Any = field(repr=False, default=None)

    @property
    def n_stops(self) -> int:
        return len(self.stop_ids)

    @property
    def n_patterns(self) -> int:
        return len(self.pattern_route)

    @property
    def n_trips(self) -> int:
        return len(self.trip_route)

    def pattern_stop_list(self, p: int) -> np.ndarray:
        return self.pattern_stops[self.pattern_stop_ptr[p]:self.pattern_stop_ptr[p + 1]]

    def trip_times(self, trip: int) -> tuple[np.ndarray, np.ndarray]:
        """(arrivals, departures) of a global trip index; offsets for headway-based trips."""
        p = int(np.searchsorted(self.pattern_trip_ptr, trip, side="right") - 1)
        n = int(self.pattern_stop_ptr[p + 1] - self.pattern_stop_ptr[p])
        j = trip - int(self.pattern_trip_ptr[p])
        a = int(self.trip_times_ptr[p]) + j * n
        return self.trip_arr[a:a + n], self.trip_dep[a:a + n]

    def trip_pattern(self, trip: int) -> int:
        return int(np.searchsorted(self.pattern_trip_ptr, trip, side="right") - 1)

    def forward(self) -> "Timetable":
        return self._forward if self.is_reversed else self

    def reversed(self) -> "Timetable":
        """The mirrored timetable for arrive-by searches (cached; ``tt.reversed().reversed() is tt``)."""
        if self.is_reversed:
            return self._forward
        return self._reversed

    @cached_property
    def _reversed(self) -> "Timetable":
        return _reverse(self)

    def kernel_arrays(self) -> tuple:
        """The arrays passed to the numba kernels, in kernel argument order."""
        return (self.pattern_stop_ptr, self.pattern_stops, self.pattern_can_board, self.pattern_can_alight,
                self.pattern_trip_ptr, self.trip_times_ptr, self.trip_arr, self.trip_dep,
                self.pattern_is_freq, self.pattern_freq_start, self.pattern_freq_end,
                self.pattern_board_wait, self.pattern_alight_wait,
                self.stop_pattern_ptr, self.stop_patterns, self.stop_pattern_pos,
                self.footpath_ptr, self.footpath_to, self.footpath_dur, self.footpath_walk,
                self.trip_wheelchair, self.stop_wheelchair)


# ----------------------------------------------------------------------------------------------- helpers

def day_shift_s(tz_name: str, ref_tz_name: str, service_date: _dt.date, delta_days: int) -> int:
    """Seconds from "noon - 12h" of ``service_date`` in ``ref_tz`` to "noon - 12h" of
    ``service_date + delta_days`` in ``tz`` (86400 * delta normally, 23/25 h across DST changes)."""
    try:
        axis = TimeAxis.of(ref_tz_name)
        tz = ZoneInfo(tz_name)
    except Exception:  # unknown timezone / no tz database: fall back to plain days
        return 86400 * delta_days
    return axis.shift_s(service_date, service_date + _dt.timedelta(days=delta_days), tz)


def _int_col(df: pd.DataFrame, col: str, default: int) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), default, dtype=np.int64)
    return pd.to_numeric(df[col], errors="coerce").fillna(default).astype(np.int64).to_numpy()


def _str_col(df: pd.DataFrame, col: str) -> list[str]:
    if col not in df.columns:
        return [""] * len(df)
    return ["" if (v is None or (isinstance(v, float) and math.isnan(v))) else str(v) for v in df[col].tolist()]


class _Pattern:
    __slots__ = ("route", "stops", "board", "alight", "bbook", "abook", "trips", "freq")

    def __init__(self, route, stops, board, alight, bbook, abook, freq=None):
        self.route, self.stops, self.board, self.alight = route, stops, board, alight
        self.bbook, self.abook = bbook, abook
        self.trips: list[tuple] = []   # (arr ndarray, dep ndarray, trip meta index)
        self.freq = freq               # (start, end, headway) for headway patterns


def _fifo_split(trips: list[tuple]) -> list[list[tuple]]:
    """Sort by first departure and split greedily so every group is ordered at every stop."""
    trips = sorted(trips, key=lambda t: (int(t[1][0]), tuple(t[1].tolist()), tuple(t[0].tolist())))
    groups: list[list[tuple]] = []
    for tr in trips:
        for g in groups:
            last = g[-1]
            if np.all(last[0] <= tr[0]) and np.all(last[1] <= tr[1]):
                g.append(tr)
                break
        else:
            groups.append([tr])
    return groups


def _footpath_frame(footpaths, stop_index: Mapping[str, int], n_stops: int):
    """Normalise the caller's footpaths into (from, to, dur, walk) int/float arrays."""
    if footpaths is None:
        return (np.zeros(0, np.int64),) * 3 + (np.zeros(0, np.float64),)
    if isinstance(footpaths, pd.DataFrame):
        df = footpaths
        if "from_stop" in df.columns:
            fr = df["from_stop"].to_numpy(np.int64)
            to = df["to_stop"].to_numpy(np.int64)
        elif "from_stop_id" in df.columns:
            try:
                fr = np.array([stop_index[s] for s in df["from_stop_id"].astype(str)], dtype=np.int64)
                to = np.array([stop_index[s] for s in df["to_stop_id"].astype(str)], dtype=np.int64)
            except KeyError as exc:
                raise InputError(f"footpath references unknown or non-platform stop {exc.args[0]!r}") from None
        else:
            raise InputError("footpaths need columns from_stop/to_stop (indices) or from_stop_id/to_stop_id")
        dur = df["duration_s"].to_numpy(np.int64)
        walk = df["walk_m"].to_numpy(np.float64) if "walk_m" in df.columns else np.zeros(len(df))
    else:
        fr, to, dur, walk = (np.asarray(a) for a in footpaths)
        fr, to, dur, walk = fr.astype(np.int64), to.astype(np.int64), dur.astype(np.int64), walk.astype(np.float64)
    if len(fr) and (fr.min() < 0 or to.min() < 0 or fr.max() >= n_stops or to.max() >= n_stops):
        raise InputError("footpath stop index out of range")
    if len(dur) and dur.min() < 0:
        raise InputError("footpath with negative duration")
    return fr, to, dur, walk


def _csr(n: int, fr, to, dur, walk):
    keep = fr != to
    fr, to, dur, walk = fr[keep], to[keep], dur[keep], walk[keep]
    # per (from, to) pair keep the Pareto set over (duration, walk): sorted by duration, an entry
    # survives only if it walks strictly less than every faster-or-equal entry before it
    order = np.lexsort((walk, dur, to, fr))
    fr, to, dur, walk = fr[order], to[order], dur[order], walk[order]
    if len(fr):
        first = np.ones(len(fr), bool)
        first[1:] = (fr[1:] != fr[:-1]) | (to[1:] != to[:-1])
        group = np.cumsum(first)
        prev_min = pd.Series(walk).groupby(group).cummin().shift(1).to_numpy()
        keep = first | (walk < prev_min)
        fr, to, dur, walk = fr[keep], to[keep], dur[keep], walk[keep]
    ptr = np.zeros(n + 1, np.int32)
    np.cumsum(np.bincount(fr, minlength=n), out=ptr[1:])
    return ptr, to.astype(np.int32), dur.astype(np.int64), walk.astype(np.float32)


# ------------------------------------------------------------------------------------------------ build

def build_timetable(feeds, service_date: _dt.date, *, footpaths=None, min_transfer_s: int = 0,
                    use_feed_transfers: bool = True) -> Timetable:
    """Build the :class:`Timetable` of ``feeds`` (one feed or a sequence) for ``service_date``.

    ``footpaths``: ``None``, a DataFrame with ``from_stop_id, to_stop_id`` (ids as in the timetable,
    i.e. namespaced when several feeds) or ``from_stop, to_stop`` (indices), plus ``duration_s`` and
    ``walk_m``; or a tuple of arrays ``(from_idx, to_idx, duration_s, walk_m)``.
    ``min_transfer_s``: default slack of the queries when changing vehicles.
    """
    if not isinstance(feeds, (list, tuple)):
        feeds = [feeds]
    if not feeds:
        raise InputError("build_timetable needs at least one feed")
    multi = len(feeds) > 1
    feed_ids = tuple(str(getattr(f, "feed_id", i)) for i, f in enumerate(feeds))
    if multi and len(set(feed_ids)) != len(feed_ids):
        raise InputError(f"feed ids must be distinct to combine feeds: {feed_ids}")
    ref_tz = str(getattr(feeds[0], "timezone", "UTC") or "UTC")

    def ns(fi: int, ident: str) -> str:
        return f"{feed_ids[fi]}:{ident}" if multi else ident

    # ---- stops
    stop_ids, stop_names, stop_parent, stop_orig, stop_feed, lat, lon, wch = [], [], [], [], [], [], [], []
    for fi, feed in enumerate(feeds):
        st = feed.stops
        ids = _str_col(st, "stop_id")
        ltype = _int_col(st, "location_type", 0)
        parents = _str_col(st, "parent_station")
        wb = _int_col(st, "wheelchair_boarding", 0)
        wb_by_id = dict(zip(ids, wb.tolist()))
        names = _str_col(st, "stop_name")
        la = pd.to_numeric(st["stop_lat"], errors="coerce").to_numpy(float) if "stop_lat" in st else np.full(len(st), np.nan)
        lo = pd.to_numeric(st["stop_lon"], errors="coerce").to_numpy(float) if "stop_lon" in st else np.full(len(st), np.nan)
        for r in np.flatnonzero(ltype == 0):
            sid, par = ids[r], parents[r]
            w = int(wb[r])
            if w == 0 and par:
                w = int(wb_by_id.get(par, 0))
            stop_ids.append(ns(fi, sid))
            stop_orig.append(sid)
            stop_names.append(names[r])
            stop_parent.append(ns(fi, par) if par else "")
            stop_feed.append(fi)
            lat.append(la[r])
            lon.append(lo[r])
            wch.append(w)
    stop_index = {s: i for i, s in enumerate(stop_ids)}
    if len(stop_index) != len(stop_ids):
        raise DataError("duplicate stop_id among platform stops", path="stops.txt", field="stop_id")
    n_stops = len(stop_ids)

    # ---- routes
    route_ids, route_orig, route_short, route_long, route_types, route_feed = [], [], [], [], [], []
    route_index: dict[str, int] = {}
    for fi, feed in enumerate(feeds):
        ro = feed.routes
        rtypes = _int_col(ro, "route_type", 3)
        for rid, short, long_, rt in zip(_str_col(ro, "route_id"), _str_col(ro, "route_short_name"),
                                         _str_col(ro, "route_long_name"), rtypes.tolist()):
            key = ns(fi, rid)
            route_index[key] = len(route_ids)
            route_ids.append(key)
            route_orig.append(rid)
            route_short.append(short)
            route_long.append(long_)
            route_types.append(rt)
            route_feed.append(fi)

    # ---- trips, grouped into patterns
    trip_meta: list[tuple] = []   # (ns trip id, orig id, headsign, route idx, feed, day offset, wheelchair, kind)
    patterns: dict[tuple, _Pattern] = {}
    freq_patterns: list[_Pattern] = []
    for fi, feed in enumerate(feeds):
        tz = str(getattr(feed, "timezone", ref_tz) or ref_tz)
        trips_df = feed.trips
        st_all = feed.stop_times
        freqs = getattr(feed, "frequencies", None)
        freq_by_trip: dict[str, list[tuple[int, int, int, int]]] = {}
        if freqs is not None and len(freqs):
            for tid, s0, s1, h, ex in zip(_str_col(freqs, "trip_id"), _int_col(freqs, "start_s", 0).tolist(),
                                          _int_col(freqs, "end_s", 0).tolist(), _int_col(freqs, "headway_s", 0).tolist(),
                                          _int_col(freqs, "exact_times", 0).tolist()):
                if h <= 0:
                    raise DataError(f"trip {tid}: headway_secs must be positive", path="frequencies.txt",
                                    field="headway_secs")
                freq_by_trip.setdefault(tid, []).append((s0, s1, h, ex))
        # per-trip stop_times as numpy slices (stop_times are sorted by trip_id, stop_sequence)
        st_trip = np.asarray(_str_col(st_all, "trip_id"), dtype=object)
        st_stop = [stop_index.get(ns(fi, s), -1) for s in _str_col(st_all, "stop_id")]
        st_stop = np.asarray(st_stop, dtype=np.int64)
        st_arr = _int_col(st_all, "arrival_s", -1)
        st_dep = _int_col(st_all, "departure_s", -1)
        st_pick = _int_col(st_all, "pickup_type", 0)
        st_drop = _int_col(st_all, "drop_off_type", 0)
        st_seq = _int_col(st_all, "stop_sequence", 0)
        bounds: dict[str, tuple[int, int]] = {}
        if len(st_trip):
            change = np.flatnonzero(st_trip[1:] != st_trip[:-1]) + 1
            starts = np.concatenate([[0], change])
            ends = np.concatenate([change, [len(st_trip)]])
            for a, b in zip(starts.tolist(), ends.tolist()):
                bounds[st_trip[a]] = (a, b)
        t_ids = _str_col(trips_df, "trip_id")
        t_routes = _str_col(trips_df, "route_id")
        t_serv = _str_col(trips_df, "service_id")
        t_head = _str_col(trips_df, "trip_headsign")
        t_wch = _int_col(trips_df, "wheelchair_accessible", 0)
        for delta in (-1, 0, 1):
            day = service_date + _dt.timedelta(days=delta)
            active = feed.active_service_ids(day)
            if not active:
                continue
            shift = day_shift_s(tz, ref_tz, service_date, delta)
            for ti in range(len(t_ids)):
                if t_serv[ti] not in active:
                    continue
                tid = t_ids[ti]
                if tid not in bounds:
                    continue
                a, b = bounds[tid]
                if not np.all(np.diff(st_seq[a:b]) > 0):
                    order = np.argsort(st_seq[a:b], kind="stable") + a
                else:
                    order = np.arange(a, b)
                sidx = st_stop[order]
                keep = sidx >= 0
                order, sidx = order[keep], sidx[keep]
                if len(order) < 2:
                    continue
                arr, dep = st_arr[order], st_dep[order]
                if arr.min() < 0 or dep.min() < 0:
                    raise DataError(f"trip {tid}: missing arrival/departure times", path="stop_times.txt",
                                    field="arrival_time")
                if np.any(dep < arr) or np.any(arr[1:] < dep[:-1]):
                    raise DataError(f"trip {tid}: times go backwards", path="stop_times.txt",
                                    field="arrival_time")
                pick, drop = st_pick[order], st_drop[order]
                rkey = ns(fi, t_routes[ti])
                if rkey not in route_index:
                    raise DataError(f"trip {tid}: unknown route_id {t_routes[ti]!r}", path="trips.txt",
                                    field="route_id")
                ridx = route_index[rkey]
                board = (pick != 1).astype(np.uint8)
                alight = (drop != 1).astype(np.uint8)
                board[-1] = 0
                alight[0] = 0
                bbook = ((pick == 2) | (pick == 3)).astype(np.uint8)  # (np.isin: 20 times the time, per trip)
                abook = ((drop == 2) | (drop == 3)).astype(np.uint8)
                key = (ridx, tuple(sidx.tolist()), board.tobytes(), alight.tobytes(), bbook.tobytes(), abook.tobytes())
                meta_base = (ns(fi, tid), tid, t_head[ti], ridx, fi, delta, int(t_wch[ti]))
                windows = freq_by_trip.get(tid)
                if not windows:
                    pat = patterns.get(key)
                    if pat is None:
                        pat = patterns[key] = _Pattern(ridx, sidx, board, alight, bbook, abook)
                    trip_meta.append(meta_base + (SCHEDULED,))
                    pat.trips.append((arr + shift, dep + shift, len(trip_meta) - 1))
                    continue
                arr_off, dep_off = arr - dep[0], dep - dep[0]
                for (s0, s1, h, exact) in windows:
                    if exact:
                        pat = patterns.get(key)
                        if pat is None:
                            pat = patterns[key] = _Pattern(ridx, sidx, board, alight, bbook, abook)
                        for s in range(s0, s1, h):
                            trip_meta.append(meta_base + (EXACT_FREQUENCY,))
                            pat.trips.append((arr_off + s + shift, dep_off + s + shift, len(trip_meta) - 1))
                    elif s1 > s0:
                        pat = _Pattern(ridx, sidx, board, alight, bbook, abook, freq=(s0 + shift, s1 + shift, h))
                        trip_meta.append(meta_base + (HEADWAY,))
                        pat.trips.append((arr_off, dep_off, len(trip_meta) - 1))
                        freq_patterns.append(pat)

    final: list[_Pattern] = []
    for pat in patterns.values():
        for group in _fifo_split(pat.trips):
            q = _Pattern(pat.route, pat.stops, pat.board, pat.alight, pat.bbook, pat.abook)
            q.trips = group
            final.append(q)
    final.extend(freq_patterns)

    # ---- flatten
    n_pat = len(final)
    pattern_stop_ptr = np.zeros(n_pat + 1, np.int32)
    pattern_trip_ptr = np.zeros(n_pat + 1, np.int32)
    trip_times_ptr = np.zeros(n_pat + 1, np.int64)
    for p, pat in enumerate(final):
        n = len(pat.stops)
        pattern_stop_ptr[p + 1] = pattern_stop_ptr[p] + n
        pattern_trip_ptr[p + 1] = pattern_trip_ptr[p] + len(pat.trips)
        trip_times_ptr[p + 1] = trip_times_ptr[p] + n * len(pat.trips)

    def cat(chunks, dtype):
        return np.concatenate(chunks).astype(dtype) if chunks else np.zeros(0, dtype)

    pattern_stops = cat([pat.stops for pat in final], np.int32)
    can_board = cat([pat.board for pat in final], np.uint8)
    can_alight = cat([pat.alight for pat in final], np.uint8)
    bbook = cat([pat.bbook for pat in final], np.uint8)
    abook = cat([pat.abook for pat in final], np.uint8)
    trip_arr = cat([t[0] for pat in final for t in pat.trips], np.int64)
    trip_dep = cat([t[1] for pat in final for t in pat.trips], np.int64)
    order_meta = [t[2] for pat in final for t in pat.trips]
    metas = [trip_meta[i] for i in order_meta]
    is_freq = np.array([pat.freq is not None for pat in final], np.uint8)
    fstart = np.array([pat.freq[0] if pat.freq else 0 for pat in final], np.int64)
    fend = np.array([pat.freq[1] if pat.freq else 0 for pat in final], np.int64)
    fhead = np.array([pat.freq[2] if pat.freq else 0 for pat in final], np.int64)

    # stop -> (pattern, position)
    pat_of_entry = np.repeat(np.arange(n_pat, dtype=np.int64), np.diff(pattern_stop_ptr))
    pos_of_entry = np.arange(len(pattern_stops), dtype=np.int64) - pattern_stop_ptr[:-1].astype(np.int64)[pat_of_entry]
    order = np.lexsort((pos_of_entry, pat_of_entry, pattern_stops))
    stop_pattern_ptr = np.zeros(n_stops + 1, np.int32)
    np.cumsum(np.bincount(pattern_stops, minlength=n_stops), out=stop_pattern_ptr[1:])

    # footpaths (+ GTFS transfers.txt)
    fr, to, dur, walk = _footpath_frame(footpaths, stop_index, n_stops)
    if use_feed_transfers:
        fr, to, dur, walk = _apply_feed_transfers(feeds, ns, stop_index, (fr, to, dur, walk), lat, lon)
    fp_ptr, fp_to, fp_dur, fp_walk = _csr(n_stops, fr, to, dur, walk)

    n_trips = len(metas)
    return Timetable(
        service_date=service_date, timezone=ref_tz, feed_ids=feed_ids, is_reversed=False,
        min_transfer_s=int(min_transfer_s),
        stop_ids=tuple(stop_ids), stop_names=tuple(stop_names), stop_parent_ids=tuple(stop_parent),
        stop_orig_ids=tuple(stop_orig), stop_feed=np.array(stop_feed, np.int32),
        stop_lat=np.array(lat, np.float64), stop_lon=np.array(lon, np.float64),
        stop_wheelchair=np.array(wch, np.int8),
        route_ids=tuple(route_ids), route_orig_ids=tuple(route_orig), route_short_names=tuple(route_short),
        route_long_names=tuple(route_long), route_types=np.array(route_types, np.int32),
        route_feed=np.array(route_feed, np.int32),
        pattern_route=np.array([pat.route for pat in final], np.int32),
        pattern_stop_ptr=pattern_stop_ptr, pattern_stops=pattern_stops, pattern_can_board=can_board,
        pattern_can_alight=can_alight, pattern_board_booking=bbook, pattern_alight_booking=abook,
        pattern_trip_ptr=pattern_trip_ptr, trip_times_ptr=trip_times_ptr, trip_arr=trip_arr, trip_dep=trip_dep,
        pattern_is_freq=is_freq, pattern_freq_start=fstart, pattern_freq_end=fend, pattern_headway=fhead,
        pattern_board_wait=(fhead // 2) * is_freq, pattern_alight_wait=np.zeros(n_pat, np.int64),
        pattern_orig=np.arange(n_pat, dtype=np.int32),
        stop_pattern_ptr=stop_pattern_ptr, stop_patterns=pat_of_entry[order].astype(np.int32),
        stop_pattern_pos=pos_of_entry[order].astype(np.int32),
        trip_ids=tuple(m[0] for m in metas), trip_orig_ids=tuple(m[1] for m in metas),
        trip_headsigns=tuple(m[2] for m in metas), trip_route=np.array([m[3] for m in metas], np.int32),
        trip_feed=np.array([m[4] for m in metas], np.int32),
        trip_day_offset=np.array([m[5] for m in metas], np.int8),
        trip_wheelchair=np.array([m[6] for m in metas], np.int8),
        trip_kind=np.array([m[7] for m in metas], np.int8),
        trip_orig=np.arange(n_trips, dtype=np.int32),
        footpath_ptr=fp_ptr, footpath_to=fp_to, footpath_dur=fp_dur, footpath_walk=fp_walk,
        stop_index=stop_index,
    )


def restrict_trips(tt: Timetable, board_ok: np.ndarray, alight_ok: np.ndarray) -> Timetable:
    """A forward timetable where trip ``t`` may board / alight at pattern position ``i`` only where
    ``board_ok`` / ``alight_ok`` (uint8/bool, the layout of ``trip_dep``: ``trip_times_ptr[p] + j * n + i``)
    allow it, on top of ``pattern_can_board`` / ``pattern_can_alight``.

    RAPTOR needs board/alight permissions per (pattern, position), so every pattern whose trips differ
    is split into sub-patterns of the trips with identical permissions (sub-sequences of a FIFO
    pattern are FIFO): the search stays exact.  Trips are re-indexed (``trip_ids`` etc. follow);
    ``tt`` itself is returned when nothing is restricted.  Headway-based patterns (one template trip)
    just get their flags ANDed."""
    if tt.is_reversed:
        raise InputError("restrict_trips needs the forward timetable")
    sp = tt.pattern_stop_ptr.astype(np.int64)
    tp = tt.pattern_trip_ptr.astype(np.int64)
    tb = tt.trip_times_ptr.astype(np.int64)
    lens = np.diff(sp)
    entry_pat = np.repeat(np.arange(tt.n_patterns), (tb[1:] - tb[:-1]))
    entry_pos = np.arange(len(tt.trip_dep)) - tb[:-1][entry_pat]
    entry_pos = entry_pos % np.maximum(lens[entry_pat], 1)
    flat = sp[:-1][entry_pat] + entry_pos
    bad = ((np.asarray(board_ok) == 0) & (tt.pattern_can_board[flat] == 1)) | \
          ((np.asarray(alight_ok) == 0) & (tt.pattern_can_alight[flat] == 1))
    if not bad.any():
        return tt
    touched = set(np.unique(entry_pat[bad]).tolist())
    # (orig pattern, trip rows within it or None for all, board flags, alight flags)
    plan: list[tuple] = []
    for p in range(tt.n_patterns):
        cb = tt.pattern_can_board[sp[p]:sp[p + 1]]
        ca = tt.pattern_can_alight[sp[p]:sp[p + 1]]
        if p not in touched:
            plan.append((p, None, cb, ca))
            continue
        n, T = int(lens[p]), int(tp[p + 1] - tp[p])
        bm = (np.asarray(board_ok[tb[p]:tb[p + 1]]).reshape(T, n) != 0).astype(np.uint8) & cb
        am = (np.asarray(alight_ok[tb[p]:tb[p + 1]]).reshape(T, n) != 0).astype(np.uint8) & ca
        sig = np.concatenate([bm, am], axis=1)
        groups: dict[bytes, list[int]] = {}
        for j in range(T):
            groups.setdefault(sig[j].tobytes(), []).append(j)
        for rows in groups.values():
            plan.append((p, np.array(rows, np.int64), sig[rows[0], :n].copy(), sig[rows[0], n:].copy()))
    orig = np.array([x[0] for x in plan], np.int64)
    n_pat = len(plan)
    new_lens = lens[orig]
    counts = np.array([(tp[x[0] + 1] - tp[x[0]]) if x[1] is None else len(x[1]) for x in plan], np.int64)
    pattern_stop_ptr = np.zeros(n_pat + 1, np.int32)
    np.cumsum(new_lens, out=pattern_stop_ptr[1:])
    pattern_trip_ptr = np.zeros(n_pat + 1, np.int32)
    np.cumsum(counts, out=pattern_trip_ptr[1:])
    trip_times_ptr = np.zeros(n_pat + 1, np.int64)
    np.cumsum(new_lens * counts, out=trip_times_ptr[1:])
    trip_order, arr_chunks, dep_chunks = [], [], []
    for p, rows, _, _ in plan:
        n, T = int(lens[p]), int(tp[p + 1] - tp[p])
        a, b = tt.trip_arr[tb[p]:tb[p + 1]].reshape(T, n), tt.trip_dep[tb[p]:tb[p + 1]].reshape(T, n)
        if rows is None:
            trip_order.append(np.arange(tp[p], tp[p + 1]))
            arr_chunks.append(a.ravel())
            dep_chunks.append(b.ravel())
        else:
            trip_order.append(tp[p] + rows)
            arr_chunks.append(a[rows].ravel())
            dep_chunks.append(b[rows].ravel())
    perm = np.concatenate(trip_order).astype(np.int64) if trip_order else np.zeros(0, np.int64)
    pattern_stops = np.concatenate([tt.pattern_stops[sp[p]:sp[p + 1]] for p in orig]).astype(np.int32)
    pat_of_entry = np.repeat(np.arange(n_pat, dtype=np.int64), new_lens)
    pos_of_entry = np.arange(len(pattern_stops), dtype=np.int64) - pattern_stop_ptr[:-1].astype(np.int64)[pat_of_entry]
    order = np.lexsort((pos_of_entry, pat_of_entry, pattern_stops))
    stop_pattern_ptr = np.zeros(tt.n_stops + 1, np.int32)
    np.cumsum(np.bincount(pattern_stops, minlength=tt.n_stops), out=stop_pattern_ptr[1:])
    pl = perm.tolist()

    def tperm(seq):
        return tuple(seq[i] for i in pl)

    def pcat(arr):
        return np.concatenate([arr[sp[p]:sp[p + 1]] for p in orig]).astype(arr.dtype)

    return replace(
        tt, _forward=None,
        pattern_route=tt.pattern_route[orig], pattern_stop_ptr=pattern_stop_ptr, pattern_stops=pattern_stops,
        pattern_can_board=np.concatenate([x[2] for x in plan]).astype(np.uint8),
        pattern_can_alight=np.concatenate([x[3] for x in plan]).astype(np.uint8),
        pattern_board_booking=pcat(tt.pattern_board_booking), pattern_alight_booking=pcat(tt.pattern_alight_booking),
        pattern_trip_ptr=pattern_trip_ptr, trip_times_ptr=trip_times_ptr,
        trip_arr=np.concatenate(arr_chunks).astype(np.int64), trip_dep=np.concatenate(dep_chunks).astype(np.int64),
        pattern_is_freq=tt.pattern_is_freq[orig], pattern_freq_start=tt.pattern_freq_start[orig],
        pattern_freq_end=tt.pattern_freq_end[orig], pattern_headway=tt.pattern_headway[orig],
        pattern_board_wait=tt.pattern_board_wait[orig], pattern_alight_wait=tt.pattern_alight_wait[orig],
        pattern_orig=np.arange(n_pat, dtype=np.int32),
        stop_pattern_ptr=stop_pattern_ptr, stop_patterns=pat_of_entry[order].astype(np.int32),
        stop_pattern_pos=pos_of_entry[order].astype(np.int32),
        trip_ids=tperm(tt.trip_ids), trip_orig_ids=tperm(tt.trip_orig_ids), trip_headsigns=tperm(tt.trip_headsigns),
        trip_route=tt.trip_route[perm], trip_feed=tt.trip_feed[perm], trip_day_offset=tt.trip_day_offset[perm],
        trip_wheelchair=tt.trip_wheelchair[perm], trip_kind=tt.trip_kind[perm],
        trip_orig=np.arange(len(perm), dtype=np.int32),
    )


def _walk_m(lat1, lon1, lat2, lon2) -> float:
    """Straight walk between two stops of a feed transfer; 0 when a coordinate is missing."""
    if any(v is None or not np.isfinite(v) for v in (lat1, lon1, lat2, lon2)):
        return 0.0
    return float(haversine_m(lat1, lon1, lat2, lon2))


def _apply_feed_transfers(feeds, ns, stop_index, fp, lat, lon):
    fr, to, dur, walk = (list(a.tolist()) for a in fp)
    pairs = {(a, b): i for i, (a, b) in enumerate(zip(fr, to))}
    removed: set[tuple[int, int]] = set()
    for fi, feed in enumerate(feeds):
        tr = getattr(feed, "transfers", None)
        if tr is None or not isinstance(tr, pd.DataFrame) or not len(tr) or "from_stop_id" not in tr.columns:
            continue
        ttype = _int_col(tr, "transfer_type", 0)
        mtt = _int_col(tr, "min_transfer_time", 0)
        for a_id, b_id, ty, m in zip(_str_col(tr, "from_stop_id"), _str_col(tr, "to_stop_id"), ttype.tolist(), mtt.tolist()):
            a, b = stop_index.get(ns(fi, a_id)), stop_index.get(ns(fi, b_id))
            if a is None or b is None or a == b:
                continue  # station-level or same-stop rules are not modelled (global min_transfer_s applies)
            if ty == 3:
                removed.add((a, b))
            elif ty == 2:
                i = pairs.get((a, b))
                if i is None:
                    pairs[(a, b)] = len(fr)
                    fr.append(a)
                    to.append(b)
                    dur.append(m)
                    walk.append(_walk_m(lat[a], lon[a], lat[b], lon[b]))
                else:
                    dur[i] = max(dur[i], m)
    keep = [i for i, ab in enumerate(zip(fr, to)) if ab not in removed]
    return (np.array([fr[i] for i in keep], np.int64), np.array([to[i] for i in keep], np.int64),
            np.array([dur[i] for i in keep], np.int64), np.array([walk[i] for i in keep], np.float64))


# ---------------------------------------------------------------------------------------------- reverse

def _reverse(tt: Timetable) -> Timetable:
    n_pat = tt.n_patterns
    sp = tt.pattern_stop_ptr.astype(np.int64)
    lens = np.diff(sp)
    pat_of_entry = np.repeat(np.arange(n_pat), lens)
    j = np.arange(len(tt.pattern_stops))
    perm = sp[:-1][pat_of_entry] + sp[1:][pat_of_entry] - 1 - j   # reversed order inside each pattern

    trip_perm = np.zeros(tt.n_trips, np.int64)       # new global trip -> old global trip
    new_arr = np.empty_like(tt.trip_arr)
    new_dep = np.empty_like(tt.trip_dep)
    tp = tt.pattern_trip_ptr.astype(np.int64)
    for p in range(n_pat):
        n, T = int(lens[p]), int(tp[p + 1] - tp[p])
        a, b = int(tt.trip_times_ptr[p]), int(tt.trip_times_ptr[p + 1])
        arr = tt.trip_arr[a:b].reshape(T, n)
        dep = tt.trip_dep[a:b].reshape(T, n)
        new_arr[a:b] = (-dep[::-1, ::-1]).ravel()
        new_dep[a:b] = (-arr[::-1, ::-1]).ravel()
        trip_perm[tp[p]:tp[p + 1]] = np.arange(tp[p + 1] - 1, tp[p] - 1, -1)

    is_freq = tt.pattern_is_freq.astype(bool)
    fstart = np.where(is_freq, 1 - tt.pattern_freq_end, 0)
    fend = np.where(is_freq, 1 - tt.pattern_freq_start, 0)

    pos = tt.stop_pattern_pos.astype(np.int64)
    new_pos = lens[tt.stop_patterns] - 1 - pos

    # transpose footpaths
    fr = np.repeat(np.arange(tt.n_stops), np.diff(tt.footpath_ptr))
    fp_ptr, fp_to, fp_dur, fp_walk = _csr(tt.n_stops, tt.footpath_to.astype(np.int64), fr,
                                          tt.footpath_dur, tt.footpath_walk.astype(np.float64))
    tp_list = trip_perm.tolist()

    def tperm(seq):
        return tuple(seq[i] for i in tp_list)

    return replace(
        tt, is_reversed=True, _forward=tt,
        pattern_stops=tt.pattern_stops[perm], pattern_can_board=tt.pattern_can_alight[perm],
        pattern_can_alight=tt.pattern_can_board[perm], pattern_board_booking=tt.pattern_alight_booking[perm],
        pattern_alight_booking=tt.pattern_board_booking[perm],
        trip_arr=new_arr, trip_dep=new_dep,
        pattern_freq_start=fstart.astype(np.int64), pattern_freq_end=fend.astype(np.int64),
        pattern_board_wait=tt.pattern_alight_wait.copy(), pattern_alight_wait=tt.pattern_board_wait.copy(),
        stop_pattern_pos=new_pos.astype(np.int32),
        trip_ids=tperm(tt.trip_ids), trip_orig_ids=tperm(tt.trip_orig_ids), trip_headsigns=tperm(tt.trip_headsigns),
        trip_route=tt.trip_route[trip_perm], trip_feed=tt.trip_feed[trip_perm],
        trip_day_offset=tt.trip_day_offset[trip_perm], trip_wheelchair=tt.trip_wheelchair[trip_perm],
        trip_kind=tt.trip_kind[trip_perm], trip_orig=tt.trip_orig[trip_perm].astype(np.int32),
        footpath_ptr=fp_ptr, footpath_to=fp_to, footpath_dur=fp_dur, footpath_walk=fp_walk,
    )
