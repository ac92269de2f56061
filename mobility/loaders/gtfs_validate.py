"""Validation of a loaded GTFS (+ Flex) feed with levels: required files, fields and rows, references, time order,
coordinates, time zones, calendars, GTFS-Flex windows, zones and booking rules.

The rules follow the MobilityData GTFS validator where they apply (its notice names are given in comments).
An ``error`` means the feed cannot be used as is (it would crash a request or give a wrong answer); a
``warning`` is a quirk the loader works around (real feeds have many). ``validate_feed(feed)`` returns the list
of ``Problem``; :func:`check_feed` is what every loader runs: it raises a ``DataError`` naming the file, line
and field of the first error and returns the warnings. ``python -m mobility.loaders.gtfs_validate PATH``
prints them all and exits 1 when any is an error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import zoneinfo
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
import pandas as pd

from mobility.errors import DataError
from mobility.loaders.gtfs import Feed, load_feed

Severity = Literal["error", "warning"]
#: at most this many problems of one kind are listed individually, the rest are summarised
MAX_PER_KIND = 20
#: service dates outside these years are errors (a "forever" 99991231 would make day loops run for ages)
MIN_YEAR, MAX_YEAR = 1970, 2199


@dataclass(frozen=True)
class Problem:
    severity: Severity
    file: str
    line: int | None
    field: str | None
    message: str

    def to_dict(self) -> dict:
        return {"severity": self.severity, "file": self.file, "line": self.line, "field": self.field,
                "message": self.message}

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        fld = f" [{self.field}]" if self.field else ""
        return f"{self.severity.upper()} {where}{fld}: {self.message}"


class _Collector:
    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.problems: list[Problem] = []

    def add(self, severity: Severity, file: str, line: int | None, field: str | None, message: str) -> None:
        self.problems.append(Problem(severity, file, line, field, message))

    def rows(self, severity: Severity, file: str, mask: np.ndarray, field: str,
             message: Callable[[int], str], table_key: str | None = None) -> None:
        """One problem per offending row (first MAX_PER_KIND), then a summary line."""
        bad = np.flatnonzero(mask)
        for row in bad[:MAX_PER_KIND]:
            self.add(severity, file, self.feed.line_of(table_key or file, int(row)), field, message(int(row)))
        if len(bad) > MAX_PER_KIND:
            self.add(severity, file, None, field, f"... and {len(bad) - MAX_PER_KIND} more row(s) like these")

    def table(self, attr: str) -> pd.DataFrame | None:
        try:
            return getattr(self.feed, attr)
        except DataError as exc:
            self.add("error", exc.path or attr, exc.line, exc.field, str(exc))
            return None


def validate_feed(feed: Feed) -> list[Problem]:
    """Check a feed's structure and references; loader errors become ``error`` problems."""
    c = _Collector(feed)
    names = set(feed.file_names())
    if not ({"calendar.txt", "calendar_dates.txt"} & names):
        c.add("error", "calendar.txt", None, None, "neither calendar.txt nor calendar_dates.txt is present")
    agency, stops, routes, trips = (c.table(a) for a in ("agency", "stops", "routes", "trips"))
    st, fst = c.table("stop_times"), c.table("flex_stop_times")
    cal, cd = c.table("calendar"), c.table("calendar_dates")
    c.table("frequencies")
    transfers = c.table("transfers")
    rules = c.table("booking_rules")
    groups = c.table("location_groups")
    try:
        locations = feed.locations
    except DataError as exc:
        c.add("error", exc.path or "locations.geojson", exc.line, exc.field, str(exc))
        locations = {}
    # the most basic problems first: check_feed reports the first error
    _check_required_rows(c, names, stops, routes, trips, st, fst, locations)
    _check_timezones(c, agency, stops)

    if agency is not None:
        if len(agency) == 0:
            c.add("error", "agency.txt", None, None, "no agency")
        if len(agency) > 1:
            if (agency["agency_id"] == "").any():
                c.add("error", "agency.txt", None, "agency_id", "agency_id is required when there are several agencies")
            if routes is not None:
                known = set(agency["agency_id"])
                c.rows("error", "routes.txt", ~routes["agency_id"].isin(known).to_numpy(), "agency_id",
                       lambda r: f"agency_id {routes['agency_id'].iloc[r]!r} is not in agency.txt")
    stop_ids: set[str] = set()
    if stops is not None:
        stop_ids = set(stops["stop_id"])
        lat, lon = stops["stop_lat"].to_numpy(), stops["stop_lon"].to_numpy()
        lt = stops["location_type"].to_numpy()
        needs = np.isin(lt, (0, 1, 2))
        c.rows("error", "stops.txt", needs & (np.isnan(lat) | np.isnan(lon)), "stop_lat",
               lambda r: f"stop {stops['stop_id'].iloc[r]!r} has no coordinates")
        c.rows("error", "stops.txt", (np.abs(lat) > 90), "stop_lat",
               lambda r: f"latitude {lat[r]} out of range [-90, 90]")
        c.rows("error", "stops.txt", (np.abs(lon) > 180), "stop_lon",
               lambda r: f"longitude {lon[r]} out of range [-180, 180]")
        c.rows("error", "stops.txt", needs & (np.abs(lat) < 1) & (np.abs(lon) < 1), "stop_lat",
               lambda r: f"stop {stops['stop_id'].iloc[r]!r} is at ({lat[r]}, {lon[r]}), near (0, 0): "
                         "a missing position")  # point_near_origin
        ps = stops["parent_station"]
        c.rows("error", "stops.txt", ((ps != "") & ~ps.isin(stop_ids)).to_numpy(), "parent_station",
               lambda r: f"parent_station {ps.iloc[r]!r} is not a stop_id")
        dup = stops["stop_id"].duplicated().to_numpy()
        c.rows("error", "stops.txt", dup, "stop_id", lambda r: f"stop_id {stops['stop_id'].iloc[r]!r} repeated")
    service_ids: set[str] = set()
    for df in (cal, cd):
        if df is not None:
            service_ids |= set(df["service_id"])
    if trips is not None:
        if routes is not None:
            c.rows("error", "trips.txt", ~trips["route_id"].isin(set(routes["route_id"])).to_numpy(), "route_id",
                   lambda r: f"route_id {trips['route_id'].iloc[r]!r} is not in routes.txt")
        c.rows("error", "trips.txt", ~trips["service_id"].isin(service_ids).to_numpy(), "service_id",
               lambda r: f"service_id {trips['service_id'].iloc[r]!r} is not in calendar.txt or calendar_dates.txt")
        c.rows("error", "trips.txt", trips["trip_id"].duplicated().to_numpy(), "trip_id",
               lambda r: f"trip_id {trips['trip_id'].iloc[r]!r} repeated")
        used = set()
        for df in (st, fst):
            if df is not None:
                used |= set(df["trip_id"].unique())
        c.rows("warning", "trips.txt", ~trips["trip_id"].isin(used).to_numpy(), "trip_id",
               lambda r: f"trip {trips['trip_id'].iloc[r]!r} has no stop_times")
    trip_ids = set(trips["trip_id"]) if trips is not None else set()
    if st is not None:
        c.rows("error", "stop_times.txt", ~st["trip_id"].isin(trip_ids).to_numpy(), "trip_id",
               lambda r: f"trip_id {st['trip_id'].iloc[r]!r} is not in trips.txt")
        c.rows("error", "stop_times.txt", ~st["stop_id"].isin(stop_ids).to_numpy(), "stop_id",
               lambda r: f"stop_id {st['stop_id'].iloc[r]!r} is not in stops.txt")
        tid = st["trip_id"].to_numpy()
        same = np.zeros(len(st), bool)
        same[1:] = tid[1:] == tid[:-1]
        arr, dep = st["arrival_s"].to_numpy(), st["departure_s"].to_numpy()
        back = np.zeros(len(st), bool)
        back[1:] = same[1:] & (arr[1:] < dep[:-1])
        c.rows("error", "stop_times.txt", back, "arrival_time",
               lambda r: f"trip {tid[r]!r}: time goes backwards ({_hms(arr[r])} after departure {_hms(dep[r - 1])})")
        c.rows("error", "stop_times.txt", dep < arr, "departure_time",
               lambda r: f"trip {tid[r]!r}: departure {_hms(dep[r])} before arrival {_hms(arr[r])}")
    if fst is not None and len(fst):
        group_ids = set(groups["location_group_id"]) if groups is not None else set()
        loc, grp, sid = fst["location_id"], fst["location_group_id"], fst["stop_id"]
        key = "stop_times.txt#flex"
        c.rows("error", "stop_times.txt", ((loc != "") & ~loc.isin(set(locations))).to_numpy(), "location_id",
               lambda r: f"location_id {loc.iloc[r]!r} is not in locations.geojson", key)
        c.rows("error", "stop_times.txt", ((grp != "") & ~grp.isin(group_ids)).to_numpy(), "location_group_id",
               lambda r: f"location_group_id {grp.iloc[r]!r} is not in location_groups.txt", key)
        c.rows("error", "stop_times.txt", ((sid != "") & ~sid.isin(stop_ids)).to_numpy(), "stop_id",
               lambda r: f"stop_id {sid.iloc[r]!r} is not in stops.txt", key)
        c.rows("error", "stop_times.txt", ~fst["trip_id"].isin(trip_ids).to_numpy(), "trip_id",
               lambda r: f"trip_id {fst['trip_id'].iloc[r]!r} is not in trips.txt", key)
        s, e = fst["start_window_s"].to_numpy(), fst["end_window_s"].to_numpy()
        c.rows("error", "stop_times.txt", (s >= 0) & (e >= 0) & (e < s), "end_pickup_drop_off_window",
               lambda r: f"window ends ({_hms(e[r])}) before it starts ({_hms(s[r])})", key)
        no_time = (s < 0) & (e < 0) & (fst["arrival_s"].to_numpy() < 0) & (fst["departure_s"].to_numpy() < 0)
        c.rows("warning", "stop_times.txt", no_time, "start_pickup_drop_off_window",
               lambda r: f"flex row of trip {fst['trip_id'].iloc[r]!r} has neither times nor a time window", key)
        rule_ids = set(rules["booking_rule_id"]) if rules is not None else set()
        for col in ("pickup_booking_rule_id", "drop_off_booking_rule_id"):
            v = fst[col]
            c.rows("error", "stop_times.txt", ((v != "") & ~v.isin(rule_ids)).to_numpy(), col,
                   lambda r, v=v: f"{v.name} {v.iloc[r]!r} is not in booking_rules.txt", key)
    if transfers is not None and len(transfers):
        for col in ("from_stop_id", "to_stop_id"):
            v = transfers[col]
            c.rows("error", "transfers.txt", ((v != "") & ~v.isin(stop_ids)).to_numpy(), col,
                   lambda r, v=v: f"{v.name} {v.iloc[r]!r} is not in stops.txt")
    freq = feed.frequencies if "frequencies.txt" in names else None
    if freq is not None and len(freq):
        c.rows("error", "frequencies.txt", ~freq["trip_id"].isin(trip_ids).to_numpy(), "trip_id",
               lambda r: f"trip_id {freq['trip_id'].iloc[r]!r} is not in trips.txt")
        c.rows("error", "frequencies.txt", (freq["headway_s"] <= 0).to_numpy(), "headway_secs",
               lambda r: "headway_secs must be positive")
    if cal is not None or cd is not None:
        try:
            if feed.service_range() is None:
                c.add("error", "calendar.txt", None, None, "no service is active on any date")
        except DataError as exc:
            c.add("error", exc.path or "calendar.txt", exc.line, exc.field, str(exc))
    _check_calendars(c, cal, cd)
    if routes is not None:
        c.rows("error", "routes.txt", routes["route_id"].duplicated().to_numpy(), "route_id",
               lambda r: f"route_id {routes['route_id'].iloc[r]!r} repeated")  # duplicate_key
    if trips is not None:
        _check_durations(c, "trips.txt", trips, None)
    if fst is not None and len(fst):
        _check_flex_rows(c, fst, stop_ids, set(locations),
                         set(groups["location_group_id"]) if groups is not None else set())
    for df, key in ((st, None), (fst, "stop_times.txt#flex")):
        if df is not None and len(df):
            for col in ("pickup_type", "drop_off_type"):
                v = df[col].to_numpy()
                c.rows("error", "stop_times.txt", (v < 0) | (v > 3), col,
                       lambda r, v=v, col=col: f"{col} {v[r]} is not 0, 1, 2 or 3", key)  # unexpected_enum_value
    if rules is not None and len(rules):
        _check_booking_rules(c, rules)
    for w in feed.warnings:  # loader warnings start with the file name
        head = w.split(":")[0].split(",")[0]
        file = head if head.endswith((".txt", ".geojson")) else ""
        c.add("warning", file, None, None, w[len(file) + 2:] if file and w.startswith(file + ": ") else w)
    return c.problems


def _check_required_rows(c: _Collector, names: set[str], stops, routes, trips, st, fst, locations) -> None:
    """A required table with a header and no row is an error: a load would "succeed" with nothing in it."""
    sizes = {"stops.txt": None if stops is None else len(stops), "routes.txt": None if routes is None else len(routes),
             "trips.txt": None if trips is None else len(trips),
             "stop_times.txt": None if st is None and fst is None else len(st if st is not None else [])
             + len(fst if fst is not None else [])}
    for name, n in sizes.items():
        if name in names and n == 0 and not (name == "stops.txt" and locations):  # Flex: zones may replace stops
            c.add("error", name, None, None, "required file has no data row")  # empty_file


def _valid_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
        return True
    except Exception:  # ZoneInfoNotFoundError, ValueError on a path-like key, OSError on a damaged tz file
        return False


def _check_timezones(c: _Collector, agency, stops) -> None:
    """invalid_timezone: an unknown IANA zone would fail every request at plan time."""
    if agency is not None and len(agency):
        tz = agency["agency_timezone"].to_numpy(dtype=object)
        known = {z: _valid_timezone(str(z)) for z in set(tz)}
        c.rows("error", "agency.txt", np.array([not known[z] for z in tz], bool), "agency_timezone",
               lambda r: f"{tz[r]!r} is not a known IANA time zone (e.g. Europe/Paris)")
        if len(set(tz)) > 1:  # inconsistent_agency_timezone
            c.add("error", "agency.txt", None, "agency_timezone",
                  f"agencies of one feed must share a time zone, not {sorted(set(tz))}")
    if stops is not None and len(stops) and "stop_timezone" in stops.columns:
        tz = stops["stop_timezone"].to_numpy(dtype=object)
        known = {z: z == "" or _valid_timezone(str(z)) for z in set(tz)}
        c.rows("warning", "stops.txt", np.array([not known[z] for z in tz], bool), "stop_timezone",
               lambda r: f"{tz[r]!r} is not a known IANA time zone; the agency's zone is used")


def _check_calendars(c: _Collector, cal, cd) -> None:
    """start_and_end_range_out_of_order, and dates outside MIN_YEAR..MAX_YEAR."""
    lo, hi = dt.date(MIN_YEAR, 1, 1), dt.date(MAX_YEAR, 12, 31)
    for df, file, cols in ((cal, "calendar.txt", ("start_date", "end_date")), (cd, "calendar_dates.txt", ("date",))):
        if df is None or not len(df):
            continue
        for col in cols:
            d = df[col].to_numpy(dtype=object)
            c.rows("error", file, np.array([x is not None and not lo <= x <= hi for x in d], bool), col,
                   lambda r, d=d: f"date {d[r]:%Y%m%d} is outside the years {MIN_YEAR}-{MAX_YEAR}")
    if cal is not None and len(cal):
        s, e = cal["start_date"].to_numpy(dtype=object), cal["end_date"].to_numpy(dtype=object)
        c.rows("error", "calendar.txt", np.array([a is not None and b is not None and b < a for a, b in zip(s, e)],
                                                 bool), "end_date",
               lambda r: f"end_date {e[r]:%Y%m%d} is before start_date {s[r]:%Y%m%d}")
    if cd is not None and len(cd):
        et = cd["exception_type"].to_numpy()
        c.rows("error", "calendar_dates.txt", (et != 1) & (et != 2), "exception_type",
               lambda r: f"exception_type {et[r]} is not 1 or 2")


def _check_durations(c: _Collector, file: str, df: pd.DataFrame, key: str | None) -> None:
    """GTFS-Flex travel-time factors and offsets are non-negative: a negative one gives a ride shorter than
    no time at all (negative leg durations)."""
    for col in ("mean_duration_factor", "mean_duration_offset", "safe_duration_factor", "safe_duration_offset"):
        if col not in df.columns:
            continue
        v = df[col].to_numpy(dtype=float)
        c.rows("error", file, ~np.isnan(v) & ((v < 0) | ~np.isfinite(v)), col,
               lambda r, v=v, col=col: f"{col} {v[r]:g} must be a non-negative number", key)


def _check_flex_rows(c: _Collector, fst: pd.DataFrame, stop_ids: set[str], location_ids: set[str],
                     group_ids: set[str]) -> None:
    """GTFS-Flex stop_times rules: windows vs times, pickup/drop-off types with windows, unique geography ids."""
    key = "stop_times.txt#flex"
    s, e = fst["start_window_s"].to_numpy(), fst["end_window_s"].to_numpy()
    arr, dep = fst["arrival_s"].to_numpy(), fst["departure_s"].to_numpy()
    window = (s >= 0) | (e >= 0)
    # missing_pickup_drop_off_window: one bound of a window without the other
    c.rows("error", "stop_times.txt", (s >= 0) != (e >= 0), "end_pickup_drop_off_window",
           lambda r: "a pickup/drop-off window needs both its start and its end", key)
    # forbidden_arrival_or_departure_time: a row has either fixed times or a window, never both
    c.rows("error", "stop_times.txt", window & ((arr >= 0) | (dep >= 0)), "arrival_time",
           lambda r: "arrival_time/departure_time cannot be given with a pickup/drop-off window", key)
    pt, dt_ = fst["pickup_type"].to_numpy(), fst["drop_off_type"].to_numpy()
    # forbidden_pickup_type / forbidden_drop_off_type: a window cannot promise a regular (scheduled) stop
    c.rows("error", "stop_times.txt", window & ((pt == 0) | (pt == 3)), "pickup_type",
           lambda r: f"pickup_type {pt[r]} is not allowed with a pickup/drop-off window (use 1 or 2)", key)
    c.rows("error", "stop_times.txt", window & (dt_ == 0), "drop_off_type",
           lambda r: f"drop_off_type {dt_[r]} is not allowed with a pickup/drop-off window (use 1, 2 or 3)", key)
    _check_durations(c, "stop_times.txt", fst, key)
    # duplicate_geography_id: stops, zones and location groups share one id space
    for a, b, what in ((stop_ids, location_ids, "a stop_id and a locations.geojson id"),
                       (stop_ids, group_ids, "a stop_id and a location_group_id"),
                       (location_ids, group_ids, "a locations.geojson id and a location_group_id")):
        both = sorted(a & b)
        if both:
            c.add("error", "locations.geojson" if "locations" in what else "location_groups.txt", None, "id",
                  f"{len(both)} id(s) are both {what}: {', '.join(map(repr, both[:5]))}")


def _check_booking_rules(c: _Collector, rules: pd.DataFrame) -> None:
    """booking_rules.txt: booking_type 0 (real time), 1 (same day) or 2 (up to prior days), and the fields
    each type needs (missing_prior_notice_duration_min, missing_prior_notice_last_day, ...)."""
    f = "booking_rules.txt"
    bt = rules["booking_type"].to_numpy()
    c.rows("error", f, (bt < 0) | (bt > 2), "booking_type", lambda r: f"booking_type {bt[r]} is not 0, 1 or 2")
    c.rows("error", f, rules["booking_rule_id"].duplicated().to_numpy(), "booking_rule_id",
           lambda r: f"booking_rule_id {rules['booking_rule_id'].iloc[r]!r} repeated")
    dmin, dmax = rules["prior_notice_duration_min"].to_numpy(), rules["prior_notice_duration_max"].to_numpy()
    last_day, last_time = rules["prior_notice_last_day"].to_numpy(), rules["prior_notice_last_time"].to_numpy()
    start_day, start_time = rules["prior_notice_start_day"].to_numpy(), rules["prior_notice_start_time"].to_numpy()
    c.rows("error", f, (bt == 1) & (dmin < 0), "prior_notice_duration_min",
           lambda r: "booking_type 1 (same day) needs prior_notice_duration_min")
    # a real feed (Lincoln County) gives type 2 with only prior_notice_duration_min: a warning, and the
    # planner's reading (mobility.planning.booking.deadline) is stated
    c.rows("warning", f, (bt == 2) & (last_day < 0), "prior_notice_last_day",
           lambda r: "booking_type 2 (prior days) needs prior_notice_last_day; read as: book before the "
                     "start of the service day")
    c.rows("error", f, (last_day >= 0) & (last_time < 0), "prior_notice_last_time",
           lambda r: "prior_notice_last_day needs prior_notice_last_time")
    c.rows("error", f, (start_day >= 0) & (start_time < 0), "prior_notice_start_time",
           lambda r: "prior_notice_start_day needs prior_notice_start_time")
    c.rows("error", f, (dmin >= 0) & (dmax >= 0) & (dmax < dmin), "prior_notice_duration_max",
           lambda r: f"prior_notice_duration_max {dmax[r]} is less than prior_notice_duration_min {dmin[r]}")
    # forbidden_* fields: ignored by the planner, so a warning
    c.rows("warning", f, (bt == 0) & ((dmin >= 0) | (dmax >= 0) | (last_day >= 0) | (start_day >= 0)),
           "booking_type", lambda r: "booking_type 0 (real time) ignores the prior_notice_* fields")
    c.rows("warning", f, (bt == 2) & ((dmin >= 0) | (dmax >= 0)), "prior_notice_duration_min",
           lambda r: "booking_type 2 (prior days) ignores prior_notice_duration_min/max")


def check_feed(feed: Feed) -> list[Problem]:
    """Validate ``feed`` (parsing every table): raise a DataError for the first error, return the warnings."""
    feed.load_all()  # a malformed value raises its own DataError (file, line, field) here
    problems = validate_feed(feed)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more error(s); python -m mobility.loaders.gtfs_validate lists them)" \
            if len(errors) > 1 else ""
        raise DataError(first.message + more, path=first.file or feed.source, line=first.line, field=first.field)
    return problems


def _hms(seconds: int) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mobility.loaders.gtfs_validate",
                                     description="Validate the structure of a GTFS (+ Flex) feed.")
    parser.add_argument("path", help="feed .zip or folder")
    parser.add_argument("--strict", action="store_true", help="untimed first/last stops are errors")
    args = parser.parse_args(argv)
    try:
        feed = load_feed(args.path, strict=args.strict)
        problems = validate_feed(feed)
    except DataError as exc:
        print(f"ERROR {exc}")
        return 1
    for p in problems:
        print(p)
    errors = sum(p.severity == "error" for p in problems)
    print(f"{errors} error(s), {len(problems) - errors} warning(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
