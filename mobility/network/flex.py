"""On-demand transport (TAD, "transport à la demande") as GTFS-Flex v2: zones, windows, stop groups, booking rules.

:func:`build_flex` turns the flex part of loaded feeds (``Feed.flex_stop_times``, ``locations``,
``location_groups`` / ``location_group_stops``, ``booking_rules``, ``trips.safe_duration_*``) into a
:class:`FlexService` attached to the :class:`~mobility.network.build.Network` (pickled with it).

Model
    A flex trip is the ordered list of its stop_times rows (flex rows and, for deviated fixed routes,
    its timed rows too).  Each row is a :class:`FlexRow`: a zone (any point inside, door to door), a
    set of stops (one stop, or the stops of a location group: "fixed stops without fixed times"), with
    either a pickup/drop-off window (``start/end_pickup_drop_off_window``) or fixed times.  A *hop*
    boards at row ``i`` (pickup allowed) and alights at a later row ``j`` (drop-off allowed); hops
    between two timed stops are left to the timetable (RAPTOR).  Patterns covered: zone -> same zone,
    zone -> zone, zone -> stop (hub), stop -> zone, group -> stop, timed stop -> zone (deviated route);
    a lone zone row allowing both pickup and drop-off is a ride inside that zone.

    Ride time: ``factor * drive_s + offset_s``.  The factor / offset are, in this order of
    precedence: the stop-level ``safe_duration_factor`` / ``safe_duration_offset`` of the 2021 draft
    (on stop_times: those of the drop-off row, else of the pickup row; offset in *minutes*), the trip's
    values in trips.txt (adopted GTFS: offset in *seconds*), else the documented default
    :data:`DEFAULT_DURATION_FACTOR` x driving + :data:`DEFAULT_DURATION_OFFSET_S`.  When only one of a
    pair is given the other is 1 / 0.
    Driving times come from the OSM drive network (``Network.drive``, free-flow).

"Lignes virtuelles"
    Fixed-schedule trips (timed stop_times rows, routed by RAPTOR) whose rows say ``pickup_type`` /
    ``drop_off_type`` 2 with a ``pickup_booking_rule_id`` / ``drop_off_booking_rule_id`` run only if
    booked.  :attr:`FlexService.fixed_rules` keeps those rule keys per trip, aligned with the trip's
    positions in the timetable pattern (its rows at routable stops, in stop_sequence order); see
    :func:`mobility.planning.virtual_lines.bookable_timetable` for how the planner uses them.

Unsupported input never crashes: a feed with pre-standard (Trillium-era) flex columns such as
``min_arrival_time`` / ``start_service_area_id`` has its on-demand rows ignored with a warning naming
the columns (``FlexService.warnings``); rows referencing unknown zones or stops are skipped likewise.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

#: points this close to a zone (metres) count as inside it (zone borders, digitising noise)
ZONE_TOLERANCE_M = 15.0
#: ride time without safe_duration_* in trips.txt: 1.5 x driving + 5 min (a cautious door-to-door estimate)
DEFAULT_DURATION_FACTOR = 1.5
DEFAULT_DURATION_OFFSET_S = 300.0
#: drive searches stop at this free-flow time (seconds): no on-demand ride is longer
MAX_DRIVE_S = 3 * 3600.0
#: doors and stops farther than this from a drivable road cannot be served door to door
DRIVE_SNAP_MAX_M = 1500.0
#: the gap between a door and its drivable road counts at this speed (m/s), on foot or slow driving
DRIVE_SNAP_SPEED_MPS = 5.0

_M_PER_DEG = 111_320.0
#: up to this many zones, :meth:`FlexService.zones_at` tests each zone rather than querying an STRtree
_FEW_ZONES = 32


@dataclass(frozen=True)
class BookingRule:
    """One booking_rules.txt row (times in seconds after service-day origin, durations in minutes; -1 = unset)."""

    key: str
    rule_id: str
    feed_index: int
    booking_type: int
    prior_notice_duration_min: int = -1
    prior_notice_duration_max: int = -1
    prior_notice_last_day: int = -1
    prior_notice_last_time_s: int = -1
    prior_notice_start_day: int = -1
    prior_notice_start_time_s: int = -1
    prior_notice_service_id: str = ""
    message: str = ""
    pickup_message: str = ""
    drop_off_message: str = ""
    phone_number: str = ""
    info_url: str = ""
    booking_url: str = ""


@dataclass(frozen=True)
class Zone:
    key: str
    location_id: str
    feed_index: int
    name: str
    geometry: object  # shapely (Multi)Polygon, lon/lat


@dataclass(frozen=True)
class FlexRow:
    """One stop_time of a flex trip.  ``zone`` >= 0 for a zone row, else ``stops`` (stop keys).

    ``start_s``/``end_s``: the window; for a timed row, arrival / departure."""

    zone: int
    stops: tuple[str, ...]
    start_s: int
    end_s: int
    timed: bool
    pickup: bool
    drop_off: bool
    pickup_rule: str | None
    drop_off_rule: str | None
    pickup_booking: bool  # pickup_type 2 / 3: must phone / coordinate with the driver
    drop_off_booking: bool
    #: stop-level safe_duration_factor / _offset (minutes) of the 2021 draft; NaN when absent
    safe_factor: float = math.nan
    safe_offset_min: float = math.nan


@dataclass(frozen=True)
class FlexTrip:
    feed_index: int
    trip_id: str
    route_id: str
    service_id: str
    headsign: str
    duration_factor: float
    duration_offset_s: float
    rows: tuple[FlexRow, ...]

    def ride_s(self, drive_s: float, board: int | None = None, alight: int | None = None) -> float:
        """Safe on-board time for a free-flow driving time (seconds), boarding at row ``board`` and
        alighting at row ``alight`` when given (stop-level safe_duration_* take precedence)."""
        for i in (alight, board):
            if i is None:
                continue
            row = self.rows[i]
            f, o = getattr(row, "safe_factor", math.nan), getattr(row, "safe_offset_min", math.nan)
            if not (math.isnan(f) and math.isnan(o)):
                return (1.0 if math.isnan(f) else f) * drive_s + (0.0 if math.isnan(o) else o * 60.0)
        return self.duration_factor * drive_s + self.duration_offset_s

    def hop_ride_s(self, hop: "Hop", drive_s: float) -> float:
        return self.ride_s(drive_s, hop.board, hop.alight)


@dataclass(frozen=True)
class Hop:
    """Board ``trip.rows[board]``, alight ``trip.rows[alight]``."""

    trip: int
    board: int
    alight: int


@dataclass(eq=False)
class FlexService:
    """The on-demand offer of all feeds; see the module docstring.  Empty when no feed has flex rows."""

    zones: list[Zone] = field(default_factory=list)
    trips: list[FlexTrip] = field(default_factory=list)
    hops: list[Hop] = field(default_factory=list)
    rules: dict[str, BookingRule] = field(default_factory=dict)
    zone_stops: list[tuple[str, ...]] = field(default_factory=list)  # routable stops inside each zone
    stop_drive: dict = field(default_factory=dict)  # stop key -> drive-network Snap (stops used by hops)
    warnings: list[str] = field(default_factory=list)
    by_board_zone: dict[int, list[int]] = field(default_factory=dict)
    by_alight_zone: dict[int, list[int]] = field(default_factory=dict)
    by_board_stop: dict[str, list[int]] = field(default_factory=dict)
    by_alight_stop: dict[str, list[int]] = field(default_factory=dict)
    #: lignes virtuelles: trip key -> (pickup rule keys, drop-off rule keys) per pattern position (None: no rule)
    fixed_rules: dict[str, tuple[tuple, tuple]] = field(default_factory=dict)
    _tree: object = field(default=None, repr=False)
    _drive_cache: OrderedDict = field(default_factory=OrderedDict, repr=False)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_tree"] = None  # rebuilt lazily
        state["_drive_cache"] = OrderedDict()
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __bool__(self) -> bool:
        return bool(self.hops)

    # ------------------------------------------------------------------ zones
    def zones_at(self, lat: float, lon: float, tolerance_m: float = ZONE_TOLERANCE_M) -> list[int]:
        """Indices of the zones containing the point, borders (within ``tolerance_m``) included."""
        if not self.zones:
            return []
        import shapely

        if self._tree is None:
            geoms = [z.geometry for z in self.zones]
            for g in geoms:
                shapely.prepare(g)
            # a few zones (a territory's TAD): the predicate on each (an array call) costs less than the tree's
            # query; both find the zones within the distance of the point
            if len(geoms) <= _FEW_ZONES:
                self._tree = np.empty(len(geoms), dtype=object)
                self._tree[:] = geoms
            else:
                self._tree = shapely.STRtree(geoms)
        pt = shapely.Point(lon, lat)
        # tolerance in degrees: the longitude degree is shorter, so use it (a slightly larger lat margin)
        tol_deg = tolerance_m / (_M_PER_DEG * max(0.2, math.cos(math.radians(lat))))
        if isinstance(self._tree, np.ndarray):
            return np.flatnonzero(shapely.dwithin(self._tree, pt, tol_deg)).tolist()
        return sorted(int(i) for i in self._tree.query(pt, predicate="dwithin", distance=tol_deg))

    # ------------------------------------------------------------------ drive times
    def drive_node_times(self, drive, snap, cache_key=None):
        """Free-flow driving search (a :class:`~mobility.network.streets.Reach`, seconds) from a
        drive-network snap, bounded by :data:`MAX_DRIVE_S`, memoised per ``cache_key`` (stops)."""
        if cache_key is not None and cache_key in self._drive_cache:
            self._drive_cache.move_to_end(cache_key)
            return self._drive_cache[cache_key]
        reach = drive.reach(snap, MAX_DRIVE_S, weight="travel_time")
        if cache_key is not None:
            self._drive_cache[cache_key] = reach
            while len(self._drive_cache) > 64:
                self._drive_cache.popitem(last=False)
        return reach

    @staticmethod
    def drive_times_to(drive, reach, source, targets: list) -> np.ndarray:
        """Seconds from ``source`` (searched in ``reach``) to each target Snap (None -> inf)."""
        if not targets:
            return np.zeros(0)
        out = reach.costs_to(list(targets))
        gap = np.array([0.0 if t is None else t.dist_m for t in targets]) + source.dist_m
        out = out + gap / DRIVE_SNAP_SPEED_MPS
        out[out > MAX_DRIVE_S] = np.inf
        return out


# ---------------------------------------------------------------------------------------- building

def _key(feed, ident: str, multi: bool) -> str:
    return f"{feed.feed_id}:{ident}" if multi else ident


def _prestandard_columns(feed) -> list[str]:
    from mobility.loaders.gtfs import _PRESTANDARD

    cols: list[str] = []
    for w in feed.warnings:
        if "pre-standard GTFS-Flex column" in w:
            cols += [c for c in _PRESTANDARD if c in w]
    return cols


def build_flex(feeds: Sequence, stops: pd.DataFrame | None = None, drive=None) -> FlexService:
    """The FlexService of loaded feeds.  ``stops``: the network's routable stops (``stop_key, lat, lon``),
    to find the stops inside zones; ``drive``: the drive StreetNetwork, to snap the stops used by hops."""
    svc = FlexService()
    multi = len(feeds) > 1
    for fi, feed in enumerate(feeds):
        try:
            _add_feed(svc, fi, feed, multi)
            _add_fixed_rules(svc, feed, multi, None if stops is None else set(stops["stop_key"].astype(str)))
        except Exception as exc:  # noqa: BLE001 - a malformed flex part must not break fixed-line routing
            svc.warnings.append(f"feed {feed.feed_id}: on-demand (GTFS-Flex) data ignored: {exc}")
    # hops and their indexes
    for ti, trip in enumerate(svc.trips):
        rows = trip.rows
        for i, a in enumerate(rows):
            if not a.pickup:
                continue
            later = range(i + 1, len(rows))
            if a.zone >= 0 and a.drop_off and not any(rows[j].zone == a.zone for j in later):
                later = [i, *later]  # a lone zone row (pickup and drop-off): door to door inside the zone
            for j in later:
                b = rows[j]
                if not b.drop_off or (a.timed and b.timed):
                    continue  # timed -> timed is an ordinary ride of the timetable
                h = len(svc.hops)
                svc.hops.append(Hop(ti, i, j))
                if a.zone >= 0:
                    svc.by_board_zone.setdefault(a.zone, []).append(h)
                for s in a.stops:
                    svc.by_board_stop.setdefault(s, []).append(h)
                if b.zone >= 0:
                    svc.by_alight_zone.setdefault(b.zone, []).append(h)
                for s in b.stops:
                    svc.by_alight_stop.setdefault(s, []).append(h)
    # routable stops inside each zone (a flex drop-off there connects to fixed lines)
    svc.zone_stops = [() for _ in svc.zones]
    if stops is not None and len(stops) and svc.zones:
        import shapely

        pts = shapely.points(stops["lon"].to_numpy(float), stops["lat"].to_numpy(float))
        keys = stops["stop_key"].to_numpy()
        for zi, z in enumerate(svc.zones):
            inside = shapely.contains(z.geometry, pts)
            svc.zone_stops[zi] = tuple(str(k) for k in keys[inside])
    if drive is not None and stops is not None and svc.hops:
        used = set(svc.by_board_stop) | set(svc.by_alight_stop)
        for zi in set(svc.by_board_zone) | set(svc.by_alight_zone):
            used |= set(svc.zone_stops[zi])
        sub = stops[stops["stop_key"].isin(used)]
        snaps = drive.snap_many(sub["lat"].to_numpy(float), sub["lon"].to_numpy(float), DRIVE_SNAP_MAX_M)
        for i, k in enumerate(sub["stop_key"].tolist()):
            s = snaps[i]
            if s is not None:
                svc.stop_drive[str(k)] = s
    return svc


def _add_feed(svc: FlexService, fi: int, feed, multi: bool) -> None:
    fx = feed.flex_stop_times
    pre = _prestandard_columns(feed)
    if pre:
        svc.warnings.append(f"feed {feed.feed_id}: pre-standard GTFS-Flex columns ({', '.join(sorted(set(pre)))}) "
                            "are not supported: its on-demand rows are ignored (use the final GTFS-Flex v2 "
                            "columns start/end_pickup_drop_off_window, location_id, location_group_id)")
        return
    # booking rules (also for feeds without flex rows: lignes virtuelles)
    br = feed.booking_rules
    for r in br.itertuples(index=False):
        key = _key(feed, str(r.booking_rule_id), multi)
        svc.rules[key] = BookingRule(
            key, str(r.booking_rule_id), fi, int(r.booking_type),
            int(r.prior_notice_duration_min), int(r.prior_notice_duration_max), int(r.prior_notice_last_day),
            int(r.prior_notice_last_time), int(r.prior_notice_start_day), int(r.prior_notice_start_time),
            str(r.prior_notice_service_id), str(r.message), str(r.pickup_message), str(r.drop_off_message),
            str(r.phone_number), str(r.info_url), str(r.booking_url))
    if not len(fx):
        return
    # zones
    zone_index: dict[str, int] = {}
    for lid, loc in feed.locations.items():
        geom = loc["geometry"]
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        props = loc.get("properties") or {}
        zone_index[lid] = len(svc.zones)
        svc.zones.append(Zone(_key(feed, lid, multi), lid, fi, str(props.get("stop_name") or lid), geom))
    # location groups
    groups: dict[str, list[str]] = {}
    lgs = feed.location_group_stops
    for g, s in zip(lgs["location_group_id"].astype(str), lgs["stop_id"].astype(str)):
        groups.setdefault(g, []).append(_key(feed, s, multi))
    # the trips with flex rows, with their timed rows too (deviated fixed routes)
    flex_trips = set(fx["trip_id"])
    st = feed.stop_times
    timed = st[st["trip_id"].isin(flex_trips)]
    trips = feed.trips.set_index("trip_id")
    rows_by_trip: dict[str, list[tuple[int, FlexRow]]] = {}
    skipped = 0

    def rule(v) -> str | None:
        v = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
        return _key(feed, v, multi) if v else None

    def num(v) -> float:
        try:
            return float(v)
        except (TypeError, ValueError):
            return math.nan

    has_sd = {"safe_duration_factor", "safe_duration_offset"} <= set(fx.columns)

    for r in fx.itertuples(index=False):
        ws, we = int(r.start_window_s), int(r.end_window_s)
        if r.location_id:
            z = zone_index.get(str(r.location_id), -1)
            stops_ = ()
            if z < 0:
                skipped += 1
                continue
        elif r.location_group_id:
            z = -1
            stops_ = tuple(groups.get(str(r.location_group_id), ()))
            if not stops_:
                skipped += 1
                continue
        else:
            z, stops_ = -1, (_key(feed, str(r.stop_id), multi),)
        is_timed = ws < 0 or we < 0
        if is_timed:
            ws, we = int(r.arrival_s), int(r.departure_s)
            if ws < 0 or we < 0:
                skipped += 1
                continue
        pt, dt_ = int(r.pickup_type), int(r.drop_off_type)
        row = FlexRow(z, stops_, ws, we, is_timed, pt != 1, dt_ != 1, rule(r.pickup_booking_rule_id),
                      rule(r.drop_off_booking_rule_id), pt in (2, 3), dt_ in (2, 3),
                      num(r.safe_duration_factor) if has_sd else math.nan,
                      num(r.safe_duration_offset) if has_sd else math.nan)
        rows_by_trip.setdefault(str(r.trip_id), []).append((int(r.stop_sequence), row))
    for r in timed.itertuples(index=False):
        arr, dep = int(r.arrival_s), int(r.departure_s)
        pt, dt_ = int(r.pickup_type), int(r.drop_off_type)
        row = FlexRow(-1, (_key(feed, str(r.stop_id), multi),), arr, dep, True, pt != 1, dt_ != 1,
                      rule(getattr(r, "pickup_booking_rule_id", "")), rule(getattr(r, "drop_off_booking_rule_id", "")),
                      pt in (2, 3), dt_ in (2, 3))
        rows_by_trip.setdefault(str(r.trip_id), []).append((int(r.stop_sequence), row))
    if skipped:
        svc.warnings.append(f"feed {feed.feed_id}: {skipped} flex stop_times row(s) with an unknown zone, an "
                            "empty location group or no window/time were ignored")
    for tid, rows in rows_by_trip.items():
        if tid not in trips.index:
            continue
        t = trips.loc[tid]
        f, o = float(t.get("safe_duration_factor", np.nan)), float(t.get("safe_duration_offset", np.nan))
        if math.isnan(f) and math.isnan(o):
            factor, offset_s = DEFAULT_DURATION_FACTOR, DEFAULT_DURATION_OFFSET_S
        else:
            factor = 1.0 if math.isnan(f) else f
            offset_s = 0.0 if math.isnan(o) else o  # adopted GTFS trips.txt: the offset is in seconds
        rows.sort(key=lambda x: x[0])
        svc.trips.append(FlexTrip(fi, tid, str(t["route_id"]), str(t["service_id"]), str(t.get("trip_headsign", "")),
                                  factor, offset_s, tuple(r for _, r in rows)))


def _add_fixed_rules(svc: FlexService, feed, multi: bool, routable: set | None) -> None:
    """Booking rules of the timed rows (lignes virtuelles), per trip, aligned with the pattern positions
    of :func:`mobility.network.timetable.build_timetable` (rows at routable stops, by stop_sequence)."""
    st = feed.stop_times
    if not len(st) or "pickup_booking_rule_id" not in st.columns:
        return
    pr = st["pickup_booking_rule_id"].fillna("").astype(str).to_numpy()
    dr = st["drop_off_booking_rule_id"].fillna("").astype(str).to_numpy()
    trips_with = set(st["trip_id"].to_numpy()[(pr != "") | (dr != "")])
    if not trips_with:
        return
    sub = st[st["trip_id"].isin(trips_with)].sort_values(["trip_id", "stop_sequence"], kind="stable")
    for tid, g in sub.groupby("trip_id", sort=False):
        keys = [_key(feed, str(s), multi) for s in g["stop_id"]]
        keep = [routable is None or k in routable for k in keys]
        p = [(_key(feed, v, multi) if v else None) for v, ok in
             zip(g["pickup_booking_rule_id"].fillna("").astype(str), keep) if ok]
        d = [(_key(feed, v, multi) if v else None) for v, ok in
             zip(g["drop_off_booking_rule_id"].fillna("").astype(str), keep) if ok]
        svc.fixed_rules[_key(feed, str(tid), multi)] = (tuple(p), tuple(d))
