"""Acceptance: every real GTFS feed under ../shared/realdata loads and matches the counts in its stats.json."""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from pathlib import Path

import numpy as np
import pytest

from mobility.loaders.gtfs import Feed, load_feed
from mobility.loaders.gtfs_validate import validate_feed

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
pytestmark = pytest.mark.realdata

FEEDS = [
    "porto_alegre/poa_eptc.zip", "porto_alegre/poa_trensurb.zip", "sao_paulo/spo_gtfs.zip",
    "helsinki/hsl_helsinki_gtfs_2022-02-22.zip", "cobb_county/cobblinc-bus-30-only.gtfs.zip",
    "cobb_county/cobblinc-scheduled-deviated-flex.gtfs",
    "cobb_county/cobblinc-scheduled-deviated-flex.2021-11-draft-columns.gtfs.zip",
    "gtfs_flex/aspen-flex-on-demand.gtfs", "gtfs_flex/aspen-flex-on-demand.2021-11-draft-columns.gtfs.zip",
    "gtfs_flex/lincoln-county-flex.gtfs.zip", "gtfs_flex/ruralcommunity-flex-vt-us.zip",
    "gtfs_only/amtrak-gtfs-2021-10-06.zip", "gtfs_only/bydgoszcz.gtfs.zip", "gtfs_only/cairns_gtfs.zip",
    "gtfs_only/caltrain_gtfs.zip", "gtfs_only/kcm_gtfs.zip", "gtfs_only/nyc_subway_gtfs.zip",
    "gtfs_only/samtrans-2017-11-28.zip", "gtfs_only/shape_dist_traveled_gtfs.zip",
    "gtfs_only/vvs-bus-751-only.gtfs.zip", "gtfs_only/atb-region-nord-v2",
]

# stats.json's service_dates are min/max over calendar ranges and *all* calendar_dates (removals too);
# the loader's service_range() is the first/last date something actually runs. Where they differ:
ACTIVE_RANGE = {
    # calendar ends 2019-07-15; later calendar_dates are removals only
    "porto_alegre/poa_eptc.zip": (dt.date(2019, 4, 15), dt.date(2019, 7, 15)),
    # the last date in the data (New Year's Day) is a removal
    "gtfs_flex/ruralcommunity-flex-vt-us.zip": (dt.date(2017, 1, 1), dt.date(2018, 12, 31)),
    "gtfs_flex/lincoln-county-flex.gtfs.zip": (dt.date(2020, 6, 7), dt.date(2021, 12, 31)),
}


def _need_realdata() -> None:
    if not (REALDATA / "stats.json").exists():
        pytest.skip(f"real data not found at {REALDATA} (needs ../shared/realdata next to the repo)")


@functools.cache
def _stats() -> dict[str, dict]:
    return {g["path"]: g for g in json.loads((REALDATA / "stats.json").read_text())["gtfs"]}


@functools.cache
def _loaded(rel: str) -> tuple[Feed, float]:
    """Load every table of a feed once per test session; returns (feed, seconds)."""
    t0 = time.perf_counter()
    feed = load_feed(REALDATA / rel).load_all()
    feed.service_range()
    return feed, time.perf_counter() - t0


def feed(rel: str) -> Feed:
    _need_realdata()
    return _loaded(rel)[0]


def _date(s: str) -> dt.date:
    return dt.datetime.strptime(s, "%Y%m%d").date()


@pytest.mark.parametrize("rel", FEEDS)
def test_feed_loads_and_matches_stats(rel: str) -> None:
    f = feed(rel)
    st = _stats()[rel]
    assert len(f.stops) == st["stops"]
    assert len(f.trips) == st["trips"]
    rows = len(f.stop_times) + len(f.flex_stop_times) + f.dropped.get("stop_times.txt", 0)
    assert rows == st["stop_times"]
    lo, hi = _date(st["service_dates"][0]), _date(st["service_dates"][1])
    assert f.service_range() == ACTIVE_RANGE.get(rel, (lo, hi))
    # contract invariants of the fixed-stop table
    s = f.stop_times
    if len(s):
        assert (s["arrival_s"] >= 0).all() and (s["departure_s"] >= s["arrival_s"]).all()
        same = s["trip_id"].to_numpy()[1:] == s["trip_id"].to_numpy()[:-1]
        assert (np.diff(s["stop_sequence"].to_numpy())[same] > 0).all()
    # the loaded feed has no structural errors other than what we know real feeds contain
    errors = [p for p in validate_feed(f) if p.severity == "error"]
    assert not errors, errors[:5]


def test_amtrak_extreme_times_junk_and_transfers() -> None:
    f = feed("gtfs_only/amtrak-gtfs-2021-10-06.zip")
    assert f.stop_times["arrival_s"].max() == 86 * 3600 + 52 * 60
    assert not any("MACOSX" in n or n.startswith("._") for n in f.file_names())
    assert len(f.transfers) == 672 and set(f.transfers["transfer_type"]) == {0, 2}
    assert (f.stops["stop_timezone"] == "America/Chicago").any() and f.timezone


def test_poa_eptc_interpolated_between_neighbours() -> None:
    s = feed("porto_alegre/poa_eptc.zip").stop_times
    interp = s["interpolated"].to_numpy()
    assert interp.sum() > 100_000
    idx = np.arange(len(s))
    known = ~interp
    prev = np.maximum.accumulate(np.where(known, idx, -1))
    nxt = np.minimum.accumulate(np.where(known, idx, len(s))[::-1])[::-1]
    m = np.flatnonzero(interp)
    v = s["arrival_s"].to_numpy()[m]
    lo, hi = s["departure_s"].to_numpy()[prev[m]], s["arrival_s"].to_numpy()[nxt[m]]
    assert ((v >= lo) & (v <= hi)).all()
    assert ((v > lo) & (v < hi)).mean() > 0.999  # equal only for co-located stops / rounding
    # a concrete trip: timepoints at both ends, strictly increasing through its interpolated stops
    trip = s[s["trip_id"] == "1112-2@1#1245"]
    assert not trip["interpolated"].iloc[0] and trip["interpolated"].iloc[1:12].all()
    assert (np.diff(trip["arrival_s"].to_numpy()[:13]) > 0).all()


def test_samtrans_subfolder_and_untimed_ends() -> None:
    f = feed("gtfs_only/samtrans-2017-11-28.zip")
    assert {"stops.txt", "stop_times.txt", "calendar_attributes.txt"} <= set(f.file_names())
    assert ".DS_Store" not in f.file_names()
    assert f.dropped.get("stop_times.txt", 0) > 0 and any("untimed end stops" in w for w in f.warnings)


def test_trensurb_header_space() -> None:
    f = feed("porto_alegre/poa_trensurb.zip")
    assert "agency_name" in f.agency.columns and f.agency["agency_name"][0] == "TRENSURB"


def test_frequencies_helsinki_and_sao_paulo() -> None:
    h = feed("helsinki/hsl_helsinki_gtfs_2022-02-22.zip")
    assert len(h.frequencies) == 3226 and (h.frequencies["exact_times"] == 1).all()
    assert {109, 700, 701, 702, 704} <= set(h.routes["route_type"])
    assert h.active_service_ids(dt.date(2022, 2, 22)) and not h.active_service_ids(dt.date(2022, 2, 23))
    s = feed("sao_paulo/spo_gtfs.zip")
    assert len(s.frequencies) == 704 and (s.frequencies["exact_times"] == 0).all()
    assert (s.frequencies["headway_s"] > 0).all() and len(s.agency) == 1  # duplicate agency row dropped


def test_nyc_parent_stations() -> None:
    f = feed("gtfs_only/nyc_subway_gtfs.zip")
    assert (f.stops["location_type"] == 1).sum() == 91
    assert f.stops["parent_station"].isin(set(f.stops["stop_id"]) | {""}).all()


def test_calendar_dates_only_feeds() -> None:
    for rel, day in (("gtfs_only/bydgoszcz.gtfs.zip", dt.date(2020, 6, 1)),
                     ("gtfs_only/atb-region-nord-v2", dt.date(2019, 1, 15))):
        f = feed(rel)
        assert f.calendar.empty and len(f.active_service_ids(day)) > 0


@pytest.mark.parametrize("rel", ["cobb_county/cobblinc-scheduled-deviated-flex.gtfs",
                                 "cobb_county/cobblinc-scheduled-deviated-flex.2021-11-draft-columns.gtfs.zip"])
def test_cobb_flex(rel: str) -> None:
    f = feed(rel)
    fx = f.flex_stop_times
    assert len(fx) == 144 and (fx["start_window_s"] >= 0).all() and (fx["end_window_s"] > fx["start_window_s"]).all()
    assert fx["location_id"].isin(set(f.locations)).all() and len(f.locations) == 3
    assert {g["geometry"].geom_type for g in f.locations.values()} == {"Polygon"}
    assert set(fx["pickup_booking_rule_id"]) <= set(f.booking_rules["booking_rule_id"])
    if "draft" in rel:
        assert any("start_pickup_dropoff_window" in w for w in f.warnings)


def test_prestandard_flex_feeds_warn() -> None:
    f = feed("gtfs_flex/lincoln-county-flex.gtfs.zip")
    assert len(f.locations) == 188 and len(f.flex_stop_times) == 1022
    assert any("pre-standard" in w and "min_arrival_time" in w for w in f.warnings)
    r = feed("gtfs_flex/ruralcommunity-flex-vt-us.zip")
    assert r.stop_times["arrival_s"].max() == 25 * 3600
    assert any("start_service_area_id" in w for w in r.warnings)


def test_cobb_bus_sentinels() -> None:
    f = feed("cobb_county/cobblinc-bus-30-only.gtfs.zip")
    assert any("-999" in w for w in f.warnings)
    assert (f.stop_times["continuous_pickup"] == 1).all()


def test_largest_feed_is_fast() -> None:
    _need_realdata()
    f, seconds = _loaded("gtfs_only/bydgoszcz.gtfs.zip")
    assert len(f.stop_times) == 583_164
    assert seconds < 15, f"bydgoszcz took {seconds:.1f}s to load"
