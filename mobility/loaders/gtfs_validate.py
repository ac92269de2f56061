"""Structural validation of a loaded GTFS (+ Flex) feed: required files/fields, references, time order, coordinates.

``validate_feed(feed)`` returns a list of ``Problem``; ``python -m mobility.loaders.gtfs_validate PATH`` prints
them and exits 1 when any is an error.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
import pandas as pd

from mobility.errors import DataError
from mobility.loaders.gtfs import Feed, load_feed

Severity = Literal["error", "warning"]
#: at most this many problems of one kind are listed individually, the rest are summarised
MAX_PER_KIND = 20


@dataclass(frozen=True)
class Problem:
    severity: Severity
    file: str
    line: int | None
    field: str | None
    message: str

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
        c.rows("warning", "stops.txt", (lat == 0) & (lon == 0), "stop_lat",
               lambda r: f"stop {stops['stop_id'].iloc[r]!r} is at (0, 0)")
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
    for w in feed.warnings:  # loader warnings start with the file name
        head = w.split(":")[0].split(",")[0]
        file = head if head.endswith((".txt", ".geojson")) else ""
        c.add("warning", file, None, None, w[len(file) + 2:] if file and w.startswith(file + ": ") else w)
    return c.problems


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
