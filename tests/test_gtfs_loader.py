"""Unit tests of the GTFS loader and validator on tiny feeds built inside the tests (one quirk per test)."""

from __future__ import annotations

import datetime as dt
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mobility.errors import DataError
from mobility.loaders.gtfs import load_feed, parse_gtfs_time
from mobility.loaders.gtfs_validate import main as validate_main
from mobility.loaders.gtfs_validate import validate_feed

AGENCY = "agency_id,agency_name,agency_url,agency_timezone\nA,Agency,http://a.example,Europe/Paris\n"
# three stops 1 km apart on a meridian (B is 1/3 of the way from A to C... see interpolation tests)
STOPS = ("stop_id,stop_name,stop_lat,stop_lon\n"
         "S1,One,50.000,2.0\nS2,Two,50.009,2.0\nS3,Three,50.036,2.0\nS4,Four,50.045,2.0\n")
ROUTES = "route_id,agency_id,route_short_name,route_long_name,route_type\nR1,A,1,Line one,3\n"
TRIPS = "route_id,service_id,trip_id\nR1,WK,T1\n"
CALENDAR = ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
            "WK,1,1,1,1,1,0,0,20240101,20241231\n")
STOP_TIMES = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
              "T1,08:00:00,08:00:00,S1,1\nT1,08:10:00,08:11:00,S2,2\nT1,08:20:00,08:20:00,S3,3\n")


def base(**over: str | None) -> dict[str, str]:
    files = {"agency.txt": AGENCY, "stops.txt": STOPS, "routes.txt": ROUTES, "trips.txt": TRIPS,
             "calendar.txt": CALENDAR, "stop_times.txt": STOP_TIMES}
    for k, v in over.items():
        name = k.replace("__", ".") if "__" in k else k + ".txt"
        if v is None:
            files.pop(name, None)
        else:
            files[name] = v
    return files


def write_dir(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    d = tmp_path / "feed"
    d.mkdir()
    for name, text in files.items():
        (d / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return d


def write_zip(tmp_path: Path, files: dict[str, str | bytes], prefix: str = "", junk: bool = False) -> Path:
    p = tmp_path / "feed.zip"
    with zipfile.ZipFile(p, "w") as z:
        for name, text in files.items():
            z.writestr(prefix + name, text)
            if junk:
                z.writestr(f"__MACOSX/{prefix}._{name}", b"\x00\x05junk")
        if junk:
            z.writestr(prefix + ".DS_Store", b"\x00\x00junk")
    return p


def feed_of(tmp_path: Path, **over: str | None):
    return load_feed(write_dir(tmp_path, base(**over)))


# ------------------------------------------------------------------ times
@pytest.mark.parametrize("text,secs", [("08:00:00", 28800), ("7:10:00", 25800), ("25:10:00", 90600),
                                       ("86:52:00", 312720), (" 00:00:01 ", 1), ("100:00:00", 360000)])
def test_parse_gtfs_time(text: str, secs: int) -> None:
    assert parse_gtfs_time(text) == secs


@pytest.mark.parametrize("text", ["7h30", "", "12:60:00", "12:00", "1:2:3", "-1:00:00", "12:00:00:00"])
def test_parse_gtfs_time_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_gtfs_time(text)


def test_minimal_feed_types_and_defaults(tmp_path: Path) -> None:
    f = feed_of(tmp_path)
    assert f.timezone == "Europe/Paris" and f.feed_id == "feed"
    s = f.stops
    assert s["stop_lat"].dtype == float and (s["location_type"] == 0).all()
    assert (s["parent_station"] == "").all() and (s["wheelchair_boarding"] == 0).all()
    assert list(f.trips["direction_id"]) == [-1] and math.isnan(f.trips["safe_duration_factor"][0])
    st = f.stop_times
    assert list(st.columns[:10]) == ["trip_id", "stop_sequence", "stop_id", "arrival_s", "departure_s",
                                     "pickup_type", "drop_off_type", "timepoint", "shape_dist_traveled",
                                     "stop_headsign"]
    assert st["arrival_s"].dtype == np.int64 and list(st["departure_s"]) == [28800, 29460, 30000]
    assert len(f.flex_stop_times) == 0 and len(f.frequencies) == 0 and len(f.transfers) == 0
    assert f.booking_rules.empty and "booking_rule_id" in f.booking_rules.columns
    assert f.locations == {} and f.feed_info is None and f.location_groups.empty
    assert f.calendar["start_date"][0] == dt.date(2024, 1, 1)
    assert "stops.txt" in f.file_names()


def test_times_over_24h_and_single_digit_hours(tmp_path: Path) -> None:
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
          "T1,7:10:00,7:10:00,S1,1\nT1,25:10:00,25:10:00,S2,2\n")
    f = feed_of(tmp_path, stop_times=st)
    assert list(f.stop_times["arrival_s"]) == [25800, 90600]


def test_stop_times_sorted_by_trip_and_sequence(tmp_path: Path) -> None:
    trips = TRIPS + "R1,WK,T0\n"
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
          "T1,08:10:00,08:10:00,S2,20\nT1,08:00:00,08:00:00,S1,10\nT0,09:00:00,09:00:00,S3,5\n"
          "T0,09:05:00,09:05:00,S4,7\n")
    f = feed_of(tmp_path, trips=trips, stop_times=st)
    assert list(zip(f.stop_times["trip_id"], f.stop_times["stop_sequence"])) == [
        ("T0", 5), ("T0", 7), ("T1", 10), ("T1", 20)]


# ------------------------------------------------------------------ interpolation
def test_interpolation_by_straight_line_distance(tmp_path: Path) -> None:
    # S1->S2 is 1 km, S2->S3 3 km: S2 gets 1/4 of the 08:00 -> 08:40 run
    st = ('trip_id,arrival_time,departure_time,stop_id,stop_sequence\n'
          'T1,08:00:00,08:00:00,S1,1\nT1,"","",S2,2\nT1,08:40:00,08:40:00,S3,3\n')
    f = feed_of(tmp_path, stop_times=st)
    row = f.stop_times.iloc[1]
    assert abs(row["arrival_s"] - (28800 + 600)) <= 2 and row["arrival_s"] == row["departure_s"]
    assert bool(row["interpolated"]) and row["timepoint"] == 0 and f.stop_times["timepoint"][0] == 1


def test_interpolation_by_shape_dist_traveled(tmp_path: Path) -> None:
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled\n"
          "T1,08:00:00,08:00:00,S1,1,0\nT1,,,S2,2,3000\nT1,,,S3,3,3500\nT1,08:40:00,08:40:00,S4,4,4000\n")
    f = feed_of(tmp_path, stop_times=st)
    assert list(f.stop_times["arrival_s"]) == [28800, 28800 + 1800, 28800 + 2100, 28800 + 2400]


def test_interpolation_evenly_without_coordinates(tmp_path: Path) -> None:
    stops = "stop_id,stop_name,stop_lat,stop_lon\nS1,a,,\nS2,b,,\nS3,c,,\nS4,d,,\n"
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
          "T1,08:00:00,08:00:00,S1,1\nT1,,,S2,2\nT1,,,S3,3\nT1,08:30:00,08:30:00,S4,4\n")
    f = feed_of(tmp_path, stops=stops, stop_times=st)
    assert list(f.stop_times["arrival_s"]) == [28800, 29400, 30000, 30600]


def test_only_one_of_arrival_departure_given(tmp_path: Path) -> None:
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
          "T1,,08:00:00,S1,1\nT1,08:30:00,,S2,2\n")
    f = feed_of(tmp_path, stop_times=st)
    assert list(f.stop_times["arrival_s"]) == [28800, 30600]
    assert list(f.stop_times["departure_s"]) == [28800, 30600]


def test_missing_first_time_is_error_in_strict_mode(tmp_path: Path) -> None:
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
          "T1,,,S1,1\nT1,08:10:00,08:10:00,S2,2\nT1,08:20:00,08:20:00,S3,3\n")
    d = write_dir(tmp_path, base(stop_times=st))
    with pytest.raises(DataError) as exc:
        load_feed(d, strict=True).stop_times
    assert (exc.value.path, exc.value.line, exc.value.field) == ("stop_times.txt", 2, "departure_time")
    assert str(exc.value).startswith("stop_times.txt, line 2, field 'departure_time': trip 'T1'")
    # default: the untimed end stop is dropped with a warning
    f = load_feed(d)
    assert list(f.stop_times["stop_id"]) == ["S2", "S3"]
    assert any("untimed end stops" in w for w in f.warnings) and f.dropped["stop_times.txt"] == 1


def test_trip_without_any_time_is_always_error(tmp_path: Path) -> None:
    st = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,,,S1,1\nT1,,,S2,2\n"
    with pytest.raises(DataError, match=r"stop_times.txt, line 2, field 'departure_time'"):
        feed_of(tmp_path, stop_times=st).stop_times


# ------------------------------------------------------------------ errors name file, line, field
def test_bad_time_message(tmp_path: Path) -> None:
    st = STOP_TIMES + "T1,7h30,7h30,S4,4\n"
    with pytest.raises(DataError) as exc:
        feed_of(tmp_path, stop_times=st).stop_times
    assert str(exc.value) == "stop_times.txt, line 5, field 'arrival_time': '7h30' is not a GTFS time (H:MM:SS)"


def test_line_numbers_count_quoted_newlines(tmp_path: Path) -> None:
    stops = STOPS.replace("S2,Two,", 'S2,"Two\nlines",') + "S5,Five,north,2.0\n"
    with pytest.raises(DataError) as exc:
        feed_of(tmp_path, stops=stops).stops
    assert (exc.value.line, exc.value.field) == (7, "stop_lat")
    assert "'north' is not a number" in str(exc.value)


def test_bad_date_and_int(tmp_path: Path) -> None:
    cal = CALENDAR.replace("20241231", "2024-12-31")
    with pytest.raises(DataError, match=r"calendar.txt, line 2, field 'end_date': '2024-12-31' is not a GTFS date"):
        feed_of(tmp_path, calendar=cal).calendar
    (tmp_path / "b").mkdir()
    routes = ROUTES.replace(",3\n", ",bus\n")
    with pytest.raises(DataError, match=r"routes.txt, line 2, field 'route_type': 'bus' is not an integer"):
        feed_of(tmp_path / "b", routes=routes).routes


def test_missing_required_file_and_column(tmp_path: Path) -> None:
    with pytest.raises(DataError) as exc:
        load_feed(write_dir(tmp_path, base(stops=None)))
    assert exc.value.path == "stops.txt" and "missing" in str(exc.value)
    (tmp_path / "b").mkdir()
    trips = "route_id,trip_id\nR1,T1\n"
    with pytest.raises(DataError) as exc:
        load_feed(write_dir(tmp_path / "b", base(trips=trips))).trips
    assert (exc.value.path, exc.value.line, exc.value.field) == ("trips.txt", 1, "service_id")


def test_missing_feed_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_feed(tmp_path / "nope.zip")


# ------------------------------------------------------------------ file-format quirks
def test_zip_quirks_bom_crlf_spaces_subfolder_junk(tmp_path: Path) -> None:
    files = base()
    files["agency.txt"] = "\ufeffagency_id, agency_name ,agency_url,agency_timezone\r\nA, Agency ,u,Europe/Paris"
    files["stops.txt"] = STOPS.replace("\n", "\r\n").rstrip("\r\n")
    p = write_zip(tmp_path, files, prefix="gtfs-2024/", junk=True)
    f = load_feed(p)
    assert f.agency["agency_name"][0] == "Agency" and f.timezone == "Europe/Paris"
    assert len(f.stops) == 4 and f.stops["stop_id"].iloc[-1] == "S4"
    assert ".DS_Store" not in f.file_names() and "stops.txt" in f.file_names()
    assert any("header names" in w for w in f.warnings)


def test_cp1252_file_is_decoded_with_warning(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = dict(base())
    files["stops.txt"] = STOPS.replace("One", "Olsøya").encode("cp1252")
    f = load_feed(write_dir(tmp_path, files))
    assert f.stops["stop_name"][0] == "Olsøya" and any("UTF-8" in w for w in f.warnings)


def test_duplicate_rows_dropped_and_extra_columns_kept(tmp_path: Path) -> None:
    agency = AGENCY + AGENCY.splitlines()[1] + "\n"
    stops = STOPS.replace("stop_lon\n", "stop_lon,my_extra\n").replace(",2.0\n", ",2.0,x\n")
    f = feed_of(tmp_path, agency=agency, stops=stops)
    assert len(f.agency) == 1 and any("duplicate" in w for w in f.warnings)
    assert list(f.stops["my_extra"]) == ["x"] * 4


def test_sentinel_values_warn_and_become_missing(tmp_path: Path) -> None:
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,continuous_pickup,shape_dist_traveled\n"
          "T1,08:00:00,08:00:00,S1,1,-999,-999.0\nT1,08:10:00,08:10:00,S2,2,-999,12.5\n")
    f = feed_of(tmp_path, stop_times=st)
    assert list(f.stop_times["continuous_pickup"]) == [1, 1]
    assert math.isnan(f.stop_times["shape_dist_traveled"][0]) and f.stop_times["shape_dist_traveled"][1] == 12.5
    assert sum("placeholder" in w for w in f.warnings) == 2


def test_parent_stations_wheelchair_and_extended_route_types(tmp_path: Path) -> None:
    stops = ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,wheelchair_boarding\n"
             "P,Station,50.0,2.0,1,,1\nS1,One,50.0,2.0,0,P,2\nS2,Two,50.01,2.0,,,\nS3,c,50.02,2,,,\n")
    routes = "route_id,agency_id,route_short_name,route_long_name,route_type\nR1,A,1,x,109\n"
    trips = "route_id,service_id,trip_id,wheelchair_accessible,direction_id\nR1,WK,T1,1,0\n"
    f = feed_of(tmp_path, stops=stops, routes=routes, trips=trips)
    assert list(f.stops["location_type"]) == [1, 0, 0, 0]
    assert list(f.stops["parent_station"]) == ["", "P", "", ""]
    assert list(f.stops["wheelchair_boarding"]) == [1, 2, 0, 0]
    assert f.routes["route_type"][0] == 109 and f.trips["wheelchair_accessible"][0] == 1
    assert f.trips["direction_id"][0] == 0


# ------------------------------------------------------------------ frequencies, transfers
def test_frequencies(tmp_path: Path) -> None:
    freq = "trip_id,start_time,end_time,headway_secs,exact_times\nT1,06:00:00,09:00:00,600,1\nT1,9:00:00,24:30:00,900,\n"
    f = feed_of(tmp_path, frequencies=freq)
    fr = f.frequencies
    assert list(fr.columns[:5]) == ["trip_id", "start_s", "end_s", "headway_s", "exact_times"]
    assert list(fr["start_s"]) == [21600, 32400] and list(fr["end_s"]) == [32400, 88200]
    assert list(fr["headway_s"]) == [600, 900] and list(fr["exact_times"]) == [1, 0]
    (tmp_path / "b").mkdir()
    f2 = feed_of(tmp_path / "b", frequencies="trip_id,start_time,end_time,headway_secs\nT1,06:00:00,07:00:00,300\n")
    assert list(f2.frequencies["exact_times"]) == [0]


def test_transfers(tmp_path: Path) -> None:
    tr = "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nS1,S2,2,180\nS2,S1,0,\nS3,S3,,\n"
    t = feed_of(tmp_path, transfers=tr).transfers
    assert list(t["transfer_type"]) == [2, 0, 0]
    assert t["min_transfer_time"][0] == 180.0 and math.isnan(t["min_transfer_time"][1])
    assert (t["from_trip_id"] == "").all()


# ------------------------------------------------------------------ service days
def test_calendar_with_exceptions(tmp_path: Path) -> None:
    cal = CALENDAR + "SA,0,0,0,0,0,1,0,20240101,20241231\n"
    cd = "service_id,date,exception_type\nWK,20240101,2\nSA,20240102,1\nWK,20240106,1\n"
    f = feed_of(tmp_path, calendar=cal, calendar_dates=cd)
    assert f.active_service_ids(dt.date(2024, 1, 1)) == frozenset()  # Monday holiday removed
    assert f.active_service_ids(dt.date(2024, 1, 2)) == {"WK", "SA"}
    assert f.active_service_ids(dt.date(2024, 1, 6)) == {"WK", "SA"}  # Saturday + added WK
    assert f.active_service_ids(dt.date(2024, 1, 7)) == frozenset()
    assert f.active_service_ids(dt.date(2025, 1, 1)) == frozenset()
    assert f.service_range() == (dt.date(2024, 1, 2), dt.date(2024, 12, 31))


def test_calendar_dates_only_and_empty_calendar(tmp_path: Path) -> None:
    cd = "service_id,date,exception_type\nX,20240301,1\nX,20240305,1\nY,20240310,2\n"
    f = feed_of(tmp_path, calendar=None, calendar_dates=cd)
    assert f.active_service_ids(dt.date(2024, 3, 5)) == {"X"}
    assert f.service_range() == (dt.date(2024, 3, 1), dt.date(2024, 3, 5))
    (tmp_path / "b").mkdir()
    g = feed_of(tmp_path / "b", calendar="", calendar_dates=cd)
    assert g.calendar.empty and g.service_range() == (dt.date(2024, 3, 1), dt.date(2024, 3, 5))


def test_no_calendar_at_all(tmp_path: Path) -> None:
    f = feed_of(tmp_path, calendar=None)
    assert f.service_range() is None and f.active_service_ids(dt.date(2024, 1, 1)) == frozenset()
    assert any(p.severity == "error" and "calendar" in p.message for p in validate_feed(f))


# ------------------------------------------------------------------ GTFS-Flex
ZONE = {"type": "FeatureCollection", "features": [
    {"id": "zone_1", "type": "Feature", "properties": {"stop_name": "Zone 1"},
     "geometry": {"type": "Polygon", "coordinates": [[[2.0, 50.0], [2.1, 50.0], [2.1, 50.1], [2.0, 50.0]]]}}]}
RULES = ("booking_rule_id,booking_type,prior_notice_duration_min,prior_notice_last_day,prior_notice_last_time,"
         "message,phone_number\nB1,1,120,,,Call us,123\nB2,2,,1,17:00:00,,\n")


def flex_feed(tmp_path: Path, header_windows: tuple[str, str], extra: str = "") -> Path:
    s, e = header_windows
    st = (f"trip_id,stop_sequence,stop_id,location_id,arrival_time,departure_time,{s},{e},pickup_type,"
          f"drop_off_type,pickup_booking_rule_id,drop_off_booking_rule_id,mean_duration_factor{extra}\n"
          f"T1,1,S1,,07:30:00,07:30:00,,,0,1,,,{',' if extra else ''}\n"
          f"T1,2,,zone_1,,,07:30:00,08:00:00,2,2,B1,B1,1.5{',x' if extra else ''}\n"
          f"T1,3,S2,,08:10:00,08:10:00,,,1,0,,,{',' if extra else ''}\n")
    return write_dir(tmp_path, base(stop_times=st, locations__geojson=json.dumps(ZONE), booking_rules=RULES))


def test_flex_final_spec(tmp_path: Path) -> None:
    f = load_feed(flex_feed(tmp_path, ("start_pickup_drop_off_window", "end_pickup_drop_off_window")))
    assert list(f.stop_times["stop_id"]) == ["S1", "S2"]
    fx = f.flex_stop_times
    assert len(fx) == 1 and fx["location_id"][0] == "zone_1"
    assert (fx["start_window_s"][0], fx["end_window_s"][0], fx["arrival_s"][0]) == (27000, 28800, -1)
    assert fx["pickup_booking_rule_id"][0] == "B1" and fx["mean_duration_factor"][0] == 1.5
    assert math.isnan(fx["safe_duration_offset"][0])
    assert f.locations["zone_1"]["geometry"].geom_type == "Polygon"
    assert f.locations["zone_1"]["properties"]["stop_name"] == "Zone 1"
    br = f.booking_rules
    assert list(br["prior_notice_duration_min"]) == [120, -1] and list(br["prior_notice_last_time"]) == [-1, 61200]
    assert not f.warnings
    assert not [p for p in validate_feed(f) if p.severity == "error"]


def test_flex_draft_column_names_are_mapped(tmp_path: Path) -> None:
    f = load_feed(flex_feed(tmp_path, ("start_pickup_dropoff_window", "end_pickup_dropoff_window")))
    assert f.flex_stop_times["end_window_s"][0] == 28800
    assert any("draft" in w and "start_pickup_dropoff_window" in w for w in f.warnings)


def test_flex_prestandard_columns_warn(tmp_path: Path) -> None:
    d = flex_feed(tmp_path, ("start_pickup_drop_off_window", "end_pickup_drop_off_window"), ",min_arrival_time")
    f = load_feed(d)
    assert len(f.flex_stop_times) == 1
    assert any("pre-standard" in w and "min_arrival_time" in w for w in f.warnings)


def test_flex_zone_given_as_stop_id(tmp_path: Path) -> None:
    st = ("trip_id,stop_sequence,stop_id,start_pickup_drop_off_window,end_pickup_drop_off_window\n"
          "T1,1,zone_1,08:00:00,23:00:00\nT1,2,zone_1,08:00:00,23:00:00\n")
    f = load_feed(write_dir(tmp_path, base(stop_times=st, locations__geojson=json.dumps(ZONE))))
    assert list(f.flex_stop_times["location_id"]) == ["zone_1"] * 2
    assert (f.flex_stop_times["stop_id"] == "").all() and len(f.stop_times) == 0


# ------------------------------------------------------------------ validator
def test_validator_finds_structural_problems(tmp_path: Path) -> None:
    stops = STOPS + "S9,Bad,95.0,2.0,\n".replace(",\n", "\n") + "S8,Orphan,50,2\n"
    stops = stops.replace("stop_lon\n", "stop_lon,parent_station\n").replace("S8,Orphan,50,2", "S8,Orphan,50,2,NOPE")
    trips = TRIPS + "R9,WK,T2\nR1,NOSERVICE,T3\n"
    st = STOP_TIMES + "T2,09:00:00,09:00:00,S1,1\nT2,08:00:00,08:00:00,S2,2\nTX,09:00:00,09:00:00,S1,1\n"
    f = feed_of(tmp_path, stops=stops, trips=trips, stop_times=st)
    problems = validate_feed(f)
    errors = {(p.file, p.field) for p in problems if p.severity == "error"}
    assert ("stops.txt", "stop_lat") in errors and ("stops.txt", "parent_station") in errors
    assert ("trips.txt", "route_id") in errors and ("trips.txt", "service_id") in errors
    assert ("stop_times.txt", "trip_id") in errors and ("stop_times.txt", "arrival_time") in errors
    back = next(p for p in problems if p.field == "arrival_time")
    assert back.line == 6 and "backwards" in back.message


def test_validate_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_dir(tmp_path, base())
    assert validate_main([str(good)]) == 0
    (tmp_path / "b").mkdir()
    bad = write_dir(tmp_path / "b", base(trips=TRIPS + "R9,WK,T2\n"))
    assert validate_main([str(bad)]) == 1
    assert "route_id 'R9'" in capsys.readouterr().out
