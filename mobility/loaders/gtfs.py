"""Load a GTFS (+ GTFS-Flex) feed, zip or folder, into lazily parsed, typed pandas tables (the ``Feed``).

Each table is parsed on first access; times become seconds after "noon minus 12h" of the service day,
empty times of non-timepoints are interpolated, and every malformed value raises a ``DataError`` naming
the file, the 1-based line and the field. Non-fatal oddities are collected in ``Feed.warnings``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mobility.errors import DataError
from mobility.geo import haversine_m
from mobility.loaders.csvfile import FeedSource, Table, decode, drop_duplicates, read_table

__all__ = ["Feed", "load_feed", "parse_gtfs_time"]

_TIME_RE = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")
#: optional numeric values at or below this are placeholders ("-999"), treated as missing
_SENTINEL = -999

# Column specs: (name, kind, required, default). required: 0 optional, 1 column must exist,
# 2 column must exist and every value be non-empty. kinds: str, int, float, time (seconds, -1 if empty),
# date (datetime.date), minutes (int minutes, -1 if empty), dur (float; H:MM:SS read as minutes).
_AGENCY = [("agency_id", "str", 0, ""), ("agency_name", "str", 1, ""), ("agency_url", "str", 1, ""),
           ("agency_timezone", "str", 2, ""), ("agency_lang", "str", 0, ""), ("agency_phone", "str", 0, "")]
_STOPS = [("stop_id", "str", 2, ""), ("stop_code", "str", 0, ""), ("stop_name", "str", 0, ""),
          ("stop_desc", "str", 0, ""), ("stop_lat", "float", 0, np.nan), ("stop_lon", "float", 0, np.nan),
          ("zone_id", "str", 0, ""), ("location_type", "int", 0, 0), ("parent_station", "str", 0, ""),
          ("stop_timezone", "str", 0, ""), ("wheelchair_boarding", "int", 0, 0), ("platform_code", "str", 0, "")]
_ROUTES = [("route_id", "str", 2, ""), ("agency_id", "str", 0, ""), ("route_short_name", "str", 0, ""),
           ("route_long_name", "str", 0, ""), ("route_type", "int", 2, 3), ("route_color", "str", 0, ""),
           ("route_text_color", "str", 0, "")]
_TRIPS = [("trip_id", "str", 2, ""), ("route_id", "str", 2, ""), ("service_id", "str", 2, ""),
          ("trip_headsign", "str", 0, ""), ("trip_short_name", "str", 0, ""), ("direction_id", "int", 0, -1),
          ("block_id", "str", 0, ""), ("shape_id", "str", 0, ""), ("wheelchair_accessible", "int", 0, 0),
          ("bikes_allowed", "int", 0, 0), ("safe_duration_factor", "float", 0, np.nan),
          ("safe_duration_offset", "float", 0, np.nan)]
_STOP_TIMES = [("trip_id", "str", 2, ""), ("stop_sequence", "int", 2, 0), ("stop_id", "str", 0, ""),
               ("location_id", "str", 0, ""), ("location_group_id", "str", 0, ""),
               ("arrival_time", "time", 0, -1), ("departure_time", "time", 0, -1),
               ("start_pickup_drop_off_window", "time", 0, -1), ("end_pickup_drop_off_window", "time", 0, -1),
               ("pickup_type", "int", 0, 0), ("drop_off_type", "int", 0, 0), ("timepoint", "int", 0, -1),
               ("continuous_pickup", "int", 0, 1), ("continuous_drop_off", "int", 0, 1),
               ("shape_dist_traveled", "float", 0, np.nan), ("stop_headsign", "str", 0, ""),
               ("pickup_booking_rule_id", "str", 0, ""), ("drop_off_booking_rule_id", "str", 0, ""),
               ("mean_duration_factor", "dur", 0, np.nan), ("mean_duration_offset", "dur", 0, np.nan),
               ("safe_duration_factor", "dur", 0, np.nan), ("safe_duration_offset", "dur", 0, np.nan)]
_FREQUENCIES = [("trip_id", "str", 2, ""), ("start_time", "time", 2, -1), ("end_time", "time", 2, -1),
                ("headway_secs", "int", 2, 0), ("exact_times", "int", 0, 0)]
_TRANSFERS = [("from_stop_id", "str", 0, ""), ("to_stop_id", "str", 0, ""), ("transfer_type", "int", 0, 0),
              ("min_transfer_time", "float", 0, np.nan), ("from_route_id", "str", 0, ""),
              ("to_route_id", "str", 0, ""), ("from_trip_id", "str", 0, ""), ("to_trip_id", "str", 0, "")]
_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_CALENDAR = ([("service_id", "str", 2, "")] + [(d, "int", 2, 0) for d in _DAYS]
             + [("start_date", "date", 2, None), ("end_date", "date", 2, None)])
_CALENDAR_DATES = [("service_id", "str", 2, ""), ("date", "date", 2, None), ("exception_type", "int", 2, 0)]
_BOOKING_RULES = [("booking_rule_id", "str", 2, ""), ("booking_type", "int", 1, 0),
                  ("prior_notice_duration_min", "minutes", 0, -1), ("prior_notice_duration_max", "minutes", 0, -1),
                  ("prior_notice_last_day", "int", 0, -1), ("prior_notice_last_time", "time", 0, -1),
                  ("prior_notice_start_day", "int", 0, -1), ("prior_notice_start_time", "time", 0, -1),
                  ("prior_notice_service_id", "str", 0, ""), ("message", "str", 0, ""),
                  ("pickup_message", "str", 0, ""), ("drop_off_message", "str", 0, ""),
                  ("phone_number", "str", 0, ""), ("info_url", "str", 0, ""), ("booking_url", "str", 0, "")]
_LOCATION_GROUPS = [("location_group_id", "str", 2, ""), ("location_group_name", "str", 0, "")]
_LOCATION_GROUP_STOPS = [("location_group_id", "str", 2, ""), ("stop_id", "str", 2, "")]
_SHAPES = [("shape_id", "str", 2, ""), ("shape_pt_lat", "float", 2, np.nan), ("shape_pt_lon", "float", 2, np.nan),
           ("shape_pt_sequence", "int", 2, 0), ("shape_dist_traveled", "float", 0, np.nan)]

#: 2021 draft GTFS-Flex names -> final names
_DRAFT_NAMES = {"start_pickup_dropoff_window": "start_pickup_drop_off_window",
                "end_pickup_dropoff_window": "end_pickup_drop_off_window",
                "dropoff_booking_rule_id": "drop_off_booking_rule_id"}
#: pre-standard (Trillium "flex v2" era) stop_times columns: kept as text, not interpreted
_PRESTANDARD = ("min_arrival_time", "max_departure_time", "start_service_area_id", "end_service_area_id",
                "start_service_area_radius", "end_service_area_radius", "departure_buffer")


def parse_gtfs_time(text: str) -> int:
    """'H:MM:SS' or 'HH:MM:SS' (hours may be >= 24) -> seconds after noon minus 12h; raises ValueError."""
    m = _TIME_RE.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"{text!r} is not a GTFS time (H:MM:SS)")
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))


def _digit_matrix(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Right-align strings with '0' into an (n, width) matrix of digit codes (chr - '0'), plus lengths."""
    u = np.asarray(values, dtype="U")
    lens = np.strings.str_len(u)
    width = max(int(lens.max()) if len(u) else 1, 1)
    r = np.strings.rjust(u, width, "0")
    r = np.ascontiguousarray(r.astype(f"U{width}"))
    codes = r.view(np.uint32).reshape(len(u), width).astype(np.int64) - 48
    return codes, lens, width


def _fast_times(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised GTFS times -> (seconds with -1 for empty, mask of values the fast path could not read)."""
    n = len(values)
    out = np.full(n, -1, np.int64)
    if n == 0:
        return out, np.zeros(0, bool)
    codes, lens, width = _digit_matrix(values)
    empty = lens == 0
    if width < 7:
        return out, ~empty
    hours = codes[:, : width - 6]
    colon = 10  # ord(":") - ord("0")
    digits_ok = (((hours >= 0) & (hours <= 9)).all(axis=1)
                 & (codes[:, [width - 5, width - 4, width - 2, width - 1]] >= 0).all(axis=1)
                 & (codes[:, [width - 5, width - 4, width - 2, width - 1]] <= 9).all(axis=1))
    ok = ~empty & (lens >= 7) & (codes[:, width - 6] == colon) & (codes[:, width - 3] == colon) & digits_ok
    hv = (np.clip(hours, 0, 9) * (10 ** np.arange(hours.shape[1] - 1, -1, -1, dtype=np.int64))).sum(axis=1)
    mm = codes[:, width - 5] * 10 + codes[:, width - 4]
    ss = codes[:, width - 2] * 10 + codes[:, width - 1]
    ok &= (mm < 60) & (ss < 60)
    out[ok] = (hv * 3600 + mm * 60 + ss)[ok]
    return out, ~empty & ~ok


def _fast_ints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised non-negative integers -> (values, empty mask, mask of values needing the slow path)."""
    n = len(values)
    out = np.zeros(n, np.int64)
    if n == 0:
        z = np.zeros(0, bool)
        return out, z, z
    codes, lens, width = _digit_matrix(values)
    empty = lens == 0
    if width > 18:
        return out, empty, ~empty
    ok = ~empty & ((codes >= 0) & (codes <= 9)).all(axis=1)
    val = (np.clip(codes, 0, 9) * (10 ** np.arange(width - 1, -1, -1, dtype=np.int64))).sum(axis=1)
    out[ok] = val[ok]
    return out, empty, ~empty & ~ok


class _Typer:
    """Turns an all-string Table into typed columns following a column spec, raising located DataErrors."""

    def __init__(self, table: Table, warnings: list[str]) -> None:
        self.t = table
        self.w = warnings

    def _col(self, name: str) -> np.ndarray:
        return self.t.df[name].to_numpy(dtype=object)

    def fail(self, pos: int, name: str, message: str) -> DataError:
        return self.t.error(int(self.t.df.index[pos]), name, message)

    def require(self, name: str, level: int) -> bool:
        present = name in self.t.df.columns
        if not present and level >= 1:
            raise DataError("required column is missing", path=self.t.name, line=1, field=name)
        return present

    def _empty_required(self, name: str, empty: np.ndarray) -> None:
        if empty.any():
            raise self.fail(int(np.argmax(empty)), name, "required value is empty")

    def _sentinel(self, name: str, bad: np.ndarray, example: Any) -> None:
        if bad.any():
            self.w.append(f"{self.t.name}: {int(bad.sum())} placeholder value(s) like {example!r} in column "
                          f"'{name}' treated as missing")

    def strs(self, name: str, level: int) -> pd.Series:
        n = len(self.t.df)
        if not self.require(name, level):
            return pd.Series([""] * n, dtype=str)
        s = self.t.df[name].reset_index(drop=True)
        if level >= 2:
            self._empty_required(name, (s == "").to_numpy())
        return s

    def ints(self, name: str, level: int, default: int) -> np.ndarray:
        n = len(self.t.df)
        if not self.require(name, level):
            return np.full(n, default, np.int64)
        raw = self._col(name)
        out, empty, slow = _fast_ints(raw)
        if level >= 2:
            self._empty_required(name, empty)
        out[empty] = default
        if slow.any():
            idx = np.flatnonzero(slow)
            # a copy: a float result is returned as a read-only view under pandas copy-on-write
            num = pd.to_numeric(pd.Series(raw[idx], dtype=object), errors="coerce").to_numpy(dtype=float, copy=True)
            bad = ~np.isfinite(num) | (num != np.round(num))
            if bad.any():
                pos = int(idx[np.argmax(bad)])
                raise self.fail(pos, name, f"{raw[pos]!r} is not an integer")
            sentinel = num <= _SENTINEL
            if level < 2:
                self._sentinel(name, sentinel, raw[idx[np.argmax(sentinel)]] if sentinel.any() else None)
                num[sentinel] = default
            out[idx] = num.astype(np.int64)
        return out

    def floats(self, name: str, level: int, default: float = np.nan, minutes_from_time: bool = False) -> np.ndarray:
        n = len(self.t.df)
        if not self.require(name, level):
            return np.full(n, default, float)
        raw = self.t.df[name]
        num = np.array(pd.to_numeric(raw, errors="coerce"), dtype=float)
        empty = (raw == "").to_numpy()
        if level >= 2:
            self._empty_required(name, empty)
        bad = np.isnan(num) & ~empty
        if bad.any() and minutes_from_time:  # pre-standard feeds write durations as H:MM:SS
            idx = np.flatnonzero(bad)
            secs, slow = _fast_times(raw.to_numpy(dtype=object)[idx])
            good = ~slow
            num[idx[good]] = secs[good] / 60.0
            self.w.append(f"{self.t.name}: {int(good.sum())} H:MM:SS value(s) in column '{name}' read as minutes")
            bad[idx[good]] = False
        if bad.any():
            pos = int(np.argmax(bad))
            raise self.fail(pos, name, f"{raw.iloc[pos]!r} is not a number")
        if level < 2:
            sentinel = num <= _SENTINEL
            self._sentinel(name, sentinel, raw.iloc[int(np.argmax(sentinel))] if sentinel.any() else None)
            num[sentinel] = np.nan
        num[empty] = default
        return num

    def times(self, name: str, level: int) -> np.ndarray:
        n = len(self.t.df)
        if not self.require(name, level):
            return np.full(n, -1, np.int64)
        raw = self._col(name)
        out, slow = _fast_times(raw)
        if level >= 2:
            self._empty_required(name, (self.t.df[name] == "").to_numpy())
        for pos in np.flatnonzero(slow):
            try:
                out[pos] = parse_gtfs_time(raw[pos])
            except ValueError:
                raise self.fail(int(pos), name, f"{raw[pos]!r} is not a GTFS time (H:MM:SS)") from None
        return out

    def minutes(self, name: str, level: int) -> np.ndarray:
        vals = self.floats(name, level, np.nan, minutes_from_time=True)
        return np.where(np.isnan(vals), -1, np.round(vals)).astype(np.int64)

    def dates(self, name: str, level: int) -> pd.Series:
        n = len(self.t.df)
        if not self.require(name, level):
            return pd.Series([None] * n, dtype=object)
        raw = self.t.df[name].reset_index(drop=True)
        empty = (raw == "").to_numpy()
        if level >= 2:
            self._empty_required(name, empty)
        parsed = pd.to_datetime(raw.where(raw.str.fullmatch(r"\d{8}"), None), format="%Y%m%d", errors="coerce")
        bad = parsed.isna().to_numpy() & ~empty
        if bad.any():
            pos = int(np.argmax(bad))
            raise self.fail(pos, name, f"{raw.iloc[pos]!r} is not a GTFS date (YYYYMMDD)")
        return pd.Series([d.date() if not pd.isna(d) else None for d in parsed], dtype=object)

    def frame(self, spec: list[tuple[str, str, int, Any]], keep_extra: bool = True) -> pd.DataFrame:
        out: dict[str, Any] = {}
        for name, kind, level, default in spec:
            if kind == "str":
                out[name] = self.strs(name, level)
            elif kind == "int":
                out[name] = self.ints(name, level, default)
            elif kind == "float":
                out[name] = self.floats(name, level, default)
            elif kind == "dur":
                out[name] = self.floats(name, level, default, minutes_from_time=True)
            elif kind == "time":
                out[name] = self.times(name, level)
            elif kind == "minutes":
                out[name] = self.minutes(name, level)
            elif kind == "date":
                out[name] = self.dates(name, level)
        known = {s[0] for s in spec}
        if keep_extra:
            for c in self.t.df.columns:
                if c not in known:
                    out[c] = self.t.df[c].reset_index(drop=True)
        return pd.DataFrame(out, index=pd.RangeIndex(len(self.t.df)))


class Feed:
    """A GTFS feed whose tables are parsed lazily on first access (see module docstring)."""

    def __init__(self, path: str | os.PathLike, feed_id: str | None = None, *, strict: bool = False) -> None:
        self.source: str = str(path)
        #: strict: a trip without a time at its first/last stop raises DataError (else those stops are dropped)
        self.strict = strict
        #: rows dropped per file (exact duplicates, untimed trip ends)
        self.dropped: dict[str, int] = {}
        self._src = FeedSource(path)
        stem = Path(path).name
        for suffix in (".zip", ".gtfs"):
            stem = stem[: -len(suffix)] if stem.endswith(suffix) else stem
        self.feed_id: str = feed_id or stem
        self.warnings: list[str] = []
        #: per table, the 0-based record number in the file of each row of the typed frame
        self._records: dict[str, np.ndarray] = {}
        self._tables: dict[str, Table] = {}
        for name in ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt"):
            if not self._src.has(name):
                raise DataError(f"required file is missing from the feed {self.source}", path=name)
        if not (self._src.has("calendar.txt") or self._src.has("calendar_dates.txt")):
            self.warnings.append("neither calendar.txt nor calendar_dates.txt: no service is active on any day")

    def __repr__(self) -> str:
        return f"Feed({self.feed_id!r}, source={self.source!r})"

    # ---------------------------------------------------------------- helpers
    def file_names(self) -> list[str]:
        """Base names of the feed's files (junk entries excluded)."""
        return self._src.names()

    def line_of(self, file: str, row: int) -> int | None:
        """1-based line in ``file`` of row ``row`` (position) of the loaded table, if known."""
        recs = self._records.get(file)  # "stop_times.txt#flex" addresses flex_stop_times rows
        tab = self._tables.get(file.split("#")[0])
        if recs is None or tab is None or not 0 <= row < len(recs):
            return None
        return tab.line_of(int(recs[row]))

    def _read(self, name: str, dedupe: bool = True) -> Table | None:
        table = read_table(self._src, name, self.warnings)
        if table is None:
            return None
        self._tables[name] = table
        if dedupe:
            n = drop_duplicates(table, self.warnings)
            if n:
                self.dropped[name] = self.dropped.get(name, 0) + n
        return table

    def _load(self, name: str, spec: list, required: bool = False) -> pd.DataFrame:
        table = self._read(name)
        if table is None or table.df.shape[1] == 0:
            if required:
                raise DataError(f"required file is {'missing' if table is None else 'empty'}", path=name)
            return pd.DataFrame({c: pd.Series([], dtype=_empty_dtype(k)) for c, k, _, _ in spec})
        df = _Typer(table, self.warnings).frame(spec)
        self._records[name] = table.df.index.to_numpy()
        return df

    # ---------------------------------------------------------------- tables
    @cached_property
    def agency(self) -> pd.DataFrame:
        return self._load("agency.txt", _AGENCY, required=True)

    @cached_property
    def timezone(self) -> str:
        if len(self.agency) == 0:
            raise DataError("no agency row", path="agency.txt")
        return str(self.agency["agency_timezone"].iloc[0])

    @cached_property
    def stops(self) -> pd.DataFrame:
        return self._load("stops.txt", _STOPS, required=True)

    @cached_property
    def routes(self) -> pd.DataFrame:
        return self._load("routes.txt", _ROUTES, required=True)

    @cached_property
    def trips(self) -> pd.DataFrame:
        return self._load("trips.txt", _TRIPS, required=True)

    @cached_property
    def frequencies(self) -> pd.DataFrame:
        df = self._load("frequencies.txt", _FREQUENCIES)
        df = df.rename(columns={"start_time": "start_s", "end_time": "end_s", "headway_secs": "headway_s"})
        return df

    @cached_property
    def transfers(self) -> pd.DataFrame:
        return self._load("transfers.txt", _TRANSFERS)

    @cached_property
    def calendar(self) -> pd.DataFrame:
        return self._load("calendar.txt", _CALENDAR)

    @cached_property
    def calendar_dates(self) -> pd.DataFrame:
        return self._load("calendar_dates.txt", _CALENDAR_DATES)

    @cached_property
    def feed_info(self) -> pd.DataFrame | None:
        table = self._read("feed_info.txt")
        return None if table is None else table.df.reset_index(drop=True)

    @cached_property
    def booking_rules(self) -> pd.DataFrame:
        return self._load("booking_rules.txt", _BOOKING_RULES)

    @cached_property
    def location_groups(self) -> pd.DataFrame:
        return self._load("location_groups.txt", _LOCATION_GROUPS)

    @cached_property
    def location_group_stops(self) -> pd.DataFrame:
        return self._load("location_group_stops.txt", _LOCATION_GROUP_STOPS)

    @cached_property
    def shapes(self) -> pd.DataFrame:
        df = self._load("shapes.txt", _SHAPES)
        df = df.rename(columns={"shape_pt_lat": "lat", "shape_pt_lon": "lon", "shape_pt_sequence": "sequence",
                                "shape_dist_traveled": "dist"})
        return df.sort_values(["shape_id", "sequence"], kind="stable").reset_index(drop=True)

    @cached_property
    def locations(self) -> dict[str, dict]:
        if not self._src.has("locations.geojson"):
            return {}
        import shapely.geometry

        name = "locations.geojson"
        try:
            data = json.loads(decode(self._src.read_bytes(name), name, self.warnings))
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", path=name, line=exc.lineno) from exc
        except RecursionError:
            raise DataError("invalid JSON: nested too deeply", path=name) from None
        if not isinstance(data, dict) or not isinstance(data.get("features", []), list):
            raise DataError("not a GeoJSON FeatureCollection (an object with a list of features)", path=name)
        out: dict[str, dict] = {}
        for i, feat in enumerate(data.get("features") or []):
            if not isinstance(feat, dict):
                raise DataError(f"feature #{i + 1} is not a GeoJSON Feature object", path=name)
            props = feat.get("properties") or {}
            if not isinstance(props, dict):
                raise DataError(f"feature #{i + 1}: properties is not an object", path=name, field="properties")
            fid = feat.get("id", props.get("location_id", props.get("stop_id")))
            if fid is None or isinstance(fid, (dict, list)):
                raise DataError(f"feature #{i + 1} has no id", path=name, field="id")
            try:
                geom = shapely.geometry.shape(feat["geometry"])
            except Exception as exc:  # noqa: BLE001 - any malformed geometry
                raise DataError(f"feature {fid!r}: invalid geometry ({exc})", path=name, field="geometry") from exc
            if geom.is_empty:
                raise DataError(f"feature {fid!r}: empty geometry", path=name, field="geometry")
            if str(fid) in out:
                self.warnings.append(f"{name}: duplicate feature id {fid!r}; last kept")
            out[str(fid)] = {"geometry": geom, "properties": props}
        return out

    # ---------------------------------------------------------------- stop_times
    @cached_property
    def _stop_times_split(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        name = "stop_times.txt"
        table = self._read(name)
        assert table is not None
        df = table.df
        renames = {old: new for old, new in _DRAFT_NAMES.items() if old in df.columns}
        if renames:
            clash = [new for new in renames.values() if new in df.columns]
            df = df.drop(columns=[o for o, n in renames.items() if n in clash]).rename(
                columns={o: n for o, n in renames.items() if n not in clash})
            self.warnings.append(f"{name}: draft GTFS-Flex column name(s) {sorted(renames)} read as "
                                 f"{sorted(renames.values())}")
        pre = [c for c in _PRESTANDARD if c in df.columns]
        if pre:
            self.warnings.append(f"{name}: pre-standard GTFS-Flex column(s) ignored: {', '.join(pre)}")
        table.df = df
        if len(df.columns) == 0:
            raise DataError("required file is empty", path=name)
        typer = _Typer(table, self.warnings)
        st = typer.frame(_STOP_TIMES)
        records = table.df.index.to_numpy()
        if pre:
            st = st.drop(columns=pre)

        # flex rows: locations / location groups (also when referenced through stop_id, 2021 draft), or windows
        flex = ((st["location_id"] != "").to_numpy() | (st["location_group_id"] != "").to_numpy()
                | (st["start_pickup_drop_off_window"].to_numpy() >= 0)
                | (st["end_pickup_drop_off_window"].to_numpy() >= 0))
        stop_ids = st["stop_id"]
        unknown = ~stop_ids.isin(self.stops["stop_id"]).to_numpy() & (stop_ids != "").to_numpy()
        if unknown.any():
            loc_ids = set(self.locations)
            grp_ids = set(self.location_groups["location_group_id"]) if len(self.location_groups) else set()
            as_loc = unknown & stop_ids.isin(loc_ids).to_numpy()
            as_grp = unknown & ~as_loc & stop_ids.isin(grp_ids).to_numpy()
            if as_loc.any() or as_grp.any():
                self.warnings.append(f"{name}: {int(as_loc.sum() + as_grp.sum())} row(s) give a flex location "
                                     "or location group in stop_id (draft GTFS-Flex); read as location_id / "
                                     "location_group_id")
                loc = st["location_id"].to_numpy(dtype=object).copy()
                grp = st["location_group_id"].to_numpy(dtype=object).copy()
                sid = stop_ids.to_numpy(dtype=object).copy()
                loc[as_loc] = sid[as_loc]
                grp[as_grp] = sid[as_grp]
                sid[as_loc | as_grp] = ""
                st["location_id"] = pd.array(loc, dtype=str)
                st["location_group_id"] = pd.array(grp, dtype=str)
                st["stop_id"] = pd.array(sid, dtype=str)
                flex |= as_loc | as_grp
        empty_sid = (st["stop_id"] == "").to_numpy() & ~flex
        if empty_sid.any():
            raise typer.fail(int(np.argmax(empty_sid)), "stop_id", "required value is empty")

        fixed = self._fixed_stop_times(st[~flex].reset_index(drop=True), records[~flex], table)
        fx = st[flex].reset_index(drop=True)
        fx = fx.rename(columns={"start_pickup_drop_off_window": "start_window_s",
                                "end_pickup_drop_off_window": "end_window_s",
                                "arrival_time": "arrival_s", "departure_time": "departure_s"})
        fx["timepoint"] = np.where(fx["timepoint"].to_numpy() < 0, 0, fx["timepoint"].to_numpy())
        if len(fx):
            order = np.lexsort((fx["stop_sequence"].to_numpy(), pd.factorize(fx["trip_id"], sort=True)[0]))
            fx = fx.iloc[order].reset_index(drop=True)
            self._records["stop_times.txt#flex"] = records[flex][order]
        lead = ["trip_id", "stop_sequence", "stop_id", "location_id", "location_group_id", "start_window_s",
                "end_window_s", "arrival_s", "departure_s", "pickup_type", "drop_off_type",
                "pickup_booking_rule_id", "drop_off_booking_rule_id", "mean_duration_factor",
                "mean_duration_offset", "safe_duration_factor", "safe_duration_offset"]
        fx = fx[lead + [c for c in fx.columns if c not in lead]]
        return fixed, fx

    def _fixed_stop_times(self, st: pd.DataFrame, records: np.ndarray, table: Table) -> pd.DataFrame:
        n = len(st)
        codes, _ = pd.factorize(st["trip_id"], sort=True)
        seq = st["stop_sequence"].to_numpy()
        if n > 1 and not ((np.diff(codes) > 0) | ((np.diff(codes) == 0) & (np.diff(seq) > 0))).all():
            order = np.lexsort((seq, codes))
            st = st.iloc[order].reset_index(drop=True)
            codes, seq, records = codes[order], seq[order], records[order]
        if n > 1:
            same = (np.diff(codes) == 0) & (np.diff(seq) == 0)
            if same.any():
                self.warnings.append(f"stop_times.txt: {int(same.sum())} repeated (trip_id, stop_sequence) pair(s)")
        arr = np.array(st["arrival_time"], dtype=np.int64)
        dep = np.array(st["departure_time"], dtype=np.int64)
        arr = np.where(arr < 0, dep, arr)
        dep = np.where(dep < 0, arr, dep)
        known = arr >= 0
        start = np.ones(n, bool)
        end = np.ones(n, bool)
        if n > 1:
            start[1:] = codes[1:] != codes[:-1]
            end[:-1] = codes[1:] != codes[:-1]
        bad_ends = (start | end) & ~known
        if bad_ends.any():
            # untimed first/last stops: an error (strict), else those end stops are dropped with a warning
            timed_per_trip = np.bincount(codes, weights=known.astype(float), minlength=codes.max() + 1)
            hopeless = (timed_per_trip[codes] == 0)
            pos = int(np.argmax(hopeless)) if hopeless.any() else int(np.argmax(bad_ends))
            field_name, where = ("departure_time", "first") if start[pos] or hopeless[pos] else ("arrival_time", "last")
            err = table.error(int(records[pos]), field_name,
                              f"trip {st['trip_id'].iloc[pos]!r} has no time at its {where} stop "
                              "(times are required at the first and last stop of a trip)")
            if self.strict or hopeless.any():
                raise err
            idx = np.arange(n)
            # a row is kept when its trip has a timed row at or before it and one at or after it
            cs = np.cumsum(known)
            first = np.maximum.accumulate(np.where(start, idx, 0))
            before_trip = (cs - known)[first]
            timed_strictly_before = cs - known - before_trip
            keep = ((cs - before_trip) > 0) & ((timed_per_trip[codes] - timed_strictly_before) > 0)
            ntrips = len(np.unique(codes[bad_ends]))
            self.warnings.append(f"{err}; untimed end stops of {ntrips} trip(s) dropped "
                                 f"({int((~keep).sum())} rows)")
            self.dropped["stop_times.txt"] = self.dropped.get("stop_times.txt", 0) + int((~keep).sum())
            st = st[keep].reset_index(drop=True)
            codes, seq, records = codes[keep], seq[keep], records[keep]
            arr, dep, known = arr[keep], dep[keep], known[keep]
            n = len(st)
            start = np.ones(n, bool)
            end = np.ones(n, bool)
            if n > 1:
                start[1:] = codes[1:] != codes[:-1]
                end[:-1] = codes[1:] != codes[:-1]
        interp = ~known
        if interp.any():
            arr, dep = self._interpolate(st, codes, start, arr, dep, known)
        tp = st["timepoint"].to_numpy()
        tp = np.where(tp < 0, known.astype(np.int64), tp)
        out = pd.DataFrame({
            "trip_id": st["trip_id"], "stop_sequence": seq, "stop_id": st["stop_id"],
            "arrival_s": arr.astype(np.int64), "departure_s": dep.astype(np.int64),
            "pickup_type": st["pickup_type"], "drop_off_type": st["drop_off_type"], "timepoint": tp,
            "shape_dist_traveled": st["shape_dist_traveled"], "stop_headsign": st["stop_headsign"],
            "continuous_pickup": st["continuous_pickup"], "continuous_drop_off": st["continuous_drop_off"],
            "interpolated": interp,
            # "ligne virtuelle": fixed-schedule rows that run only if booked (pickup/drop_off_type 2)
            "pickup_booking_rule_id": st["pickup_booking_rule_id"],
            "drop_off_booking_rule_id": st["drop_off_booking_rule_id"],
        })
        known_cols = {c for c, *_ in _STOP_TIMES}
        for c in st.columns:
            if c not in known_cols:
                out[c] = st[c]
        self._records["stop_times.txt"] = records
        return out

    def _interpolate(self, st: pd.DataFrame, codes: np.ndarray, start: np.ndarray, arr: np.ndarray,
                     dep: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fill empty times linearly in shape_dist_traveled, else straight-line distance, else evenly."""
        n = len(st)
        idx = np.arange(n)
        prev_k = np.maximum.accumulate(np.where(known, idx, -1))
        next_k = np.minimum.accumulate(np.where(known, idx, n)[::-1])[::-1]
        first = np.maximum.accumulate(np.where(start, idx, 0))
        # per-row position measure: cumulative straight-line metres from the trip's first stop
        stops = self.stops.drop_duplicates("stop_id").set_index("stop_id")
        lat = stops["stop_lat"].reindex(st["stop_id"]).to_numpy(dtype=float)
        lon = stops["stop_lon"].reindex(st["stop_id"]).to_numpy(dtype=float)
        seg = np.zeros(n)
        seg[1:] = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
        seg[start] = 0.0
        cum = np.cumsum(np.nan_to_num(seg, nan=0.0))
        geo = cum - cum[first]
        geo_bad = np.bincount(codes, weights=np.isnan(seg).astype(float), minlength=codes.max() + 1) > 0
        geo[geo_bad[codes]] = np.nan
        # shape_dist_traveled when every row of the trip has it
        sdt = np.array(st["shape_dist_traveled"], dtype=float)
        counts = np.bincount(codes)
        has_sdt = np.bincount(codes, weights=(~np.isnan(sdt)).astype(float), minlength=len(counts)) == counts
        measure = np.where(has_sdt[codes], sdt, geo)
        m = np.flatnonzero(~known)
        p, q = prev_k[m], next_k[m]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = (measure[m] - measure[p]) / (measure[q] - measure[p])
        even = (m - p) / (q - p)
        frac = np.where(np.isfinite(frac) & (frac >= 0) & (frac <= 1), frac, even)
        t0, t1 = dep[p], arr[q]
        val = np.rint(t0 + frac * (t1 - t0)).astype(np.int64)
        arr = arr.copy()
        dep = dep.copy()
        arr[m] = val
        dep[m] = val
        return arr, dep

    @cached_property
    def stop_times(self) -> pd.DataFrame:
        return self._stop_times_split[0]

    @cached_property
    def flex_stop_times(self) -> pd.DataFrame:
        return self._stop_times_split[1]

    # ---------------------------------------------------------------- service days
    @cached_property
    def _service_index(self) -> tuple[dict[str, tuple[dt.date, dt.date, tuple[int, ...]]],
                                       dict[dt.date, dict[str, int]]]:
        cal: dict[str, tuple[dt.date, dt.date, tuple[int, ...]]] = {}
        c = self.calendar
        if len(c):
            days = c[_DAYS].to_numpy()
            for sid, s, e, d in zip(c["service_id"], c["start_date"], c["end_date"], days):
                if sid in cal:
                    self.warnings.append(f"calendar.txt: service_id {sid!r} appears twice; last row kept")
                cal[sid] = (s, e, tuple(int(x) for x in d))
        exc: dict[dt.date, dict[str, int]] = {}
        cd = self.calendar_dates
        for sid, day, et in zip(cd["service_id"], cd["date"], cd["exception_type"]):
            exc.setdefault(day, {})[sid] = int(et)
        return cal, exc

    def active_service_ids(self, day: dt.date) -> frozenset[str]:
        """service_ids running on ``day``: calendar.txt patterns, then calendar_dates.txt adds/removes."""
        cal, exc = self._service_index
        wd = day.weekday()
        active = {sid for sid, (s, e, d) in cal.items() if s <= day <= e and d[wd] == 1}
        for sid, et in exc.get(day, {}).items():
            if et == 1:
                active.add(sid)
            elif et == 2:
                active.discard(sid)
        return frozenset(active)

    @cached_property
    def _service_range(self) -> tuple[dt.date, dt.date] | None:
        cal, exc = self._service_index
        bounds = [d for s, e, _ in cal.values() for d in (s, e)] + list(exc)
        if not bounds:
            return None
        lo, hi = min(bounds), max(bounds)
        ndays = (hi - lo).days + 1
        count = np.zeros(ndays, np.int64)
        wd0 = lo.weekday()
        weekday = (np.arange(ndays) + wd0) % 7
        for s, e, d in cal.values():
            if e < s:
                continue
            i, j = (s - lo).days, (e - lo).days + 1
            count[i:j] += np.asarray(d, np.int64)[weekday[i:j]] == 1
        for day, sids in exc.items():
            for sid, et in sids.items():
                base = sid in cal and cal[sid][0] <= day <= cal[sid][1] and cal[sid][2][day.weekday()] == 1
                if et == 1 and not base:
                    count[(day - lo).days] += 1
                elif et == 2 and base:
                    count[(day - lo).days] -= 1
        on = np.flatnonzero(count > 0)
        if len(on) == 0:
            return None
        return lo + dt.timedelta(days=int(on[0])), lo + dt.timedelta(days=int(on[-1]))

    def service_range(self) -> tuple[dt.date, dt.date] | None:
        """First and last date on which any service runs, or None if none ever does."""
        return self._service_range

    def load_all(self) -> "Feed":
        """Parse every table now (useful to surface all errors and warnings at once)."""
        for attr in ("agency", "timezone", "stops", "routes", "trips", "stop_times", "flex_stop_times",
                     "frequencies", "transfers", "calendar", "calendar_dates", "feed_info", "booking_rules",
                     "location_groups", "location_group_stops", "locations"):
            getattr(self, attr)
        return self


def _empty_dtype(kind: str) -> Any:
    return {"str": str, "int": np.int64, "float": float, "dur": float, "time": np.int64,
            "minutes": np.int64, "date": object}[kind]


def load_feed(path: str | os.PathLike, feed_id: str | None = None, *, strict: bool = False) -> Feed:
    """Open a GTFS feed (.zip or folder); tables are parsed on first access.

    ``strict=True`` makes a trip without a time at its first or last stop a ``DataError``; by default
    (real feeds such as SamTrans 2017 have them) those untimed end stops are dropped with a warning.
    A trip with no time at all is always an error.
    """
    return Feed(path, feed_id, strict=strict)
