"""The one GTFS time axis: "noon minus 12 h" in elapsed time, exact across daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from mobility.timeaxis import TimeAxis, after, elapsed_s, service_day_origin

PARIS = ZoneInfo("Europe/Paris")
AXIS = TimeAxis.of("Europe/Paris")


def test_origin_is_midnight_on_ordinary_days():
    assert AXIS.origin(dt.date(2026, 12, 2)) == dt.datetime(2026, 12, 2, 0, 0, tzinfo=PARIS)
    assert AXIS.seconds(dt.datetime(2026, 12, 2, 8, 30)) == 8 * 3600 + 1800
    assert AXIS.at(dt.date(2026, 12, 2), 25 * 3600) == dt.datetime(2026, 12, 3, 1, 0, tzinfo=PARIS)


def test_spring_forward_day_counts_from_23_00_the_evening_before():
    day = dt.date(2027, 3, 28)  # clocks go from 02:00 to 03:00
    origin = AXIS.origin(day)
    assert (origin.date(), origin.hour, origin.utcoffset()) == (dt.date(2027, 3, 27), 23, dt.timedelta(hours=1))
    # a trip at "08:00:00" in stop_times.txt leaves at 08:00 on the clock (summer time)
    at8 = AXIS.at(day, 8 * 3600)
    assert (at8.hour, at8.minute, at8.utcoffset()) == (8, 0, dt.timedelta(hours=2))
    assert AXIS.seconds(at8, day) == 8 * 3600
    assert AXIS.shift_s(dt.date(2027, 3, 27), day) == 23 * 3600


def test_fall_back_day_counts_from_01_00():
    day = dt.date(2026, 10, 25)  # clocks go from 03:00 back to 02:00
    origin = service_day_origin(day, PARIS)
    assert (origin.hour, origin.utcoffset()) == (1, dt.timedelta(hours=2))
    at8 = after(origin, 8 * 3600)
    assert (at8.hour, at8.utcoffset()) == (8, dt.timedelta(hours=1))
    assert AXIS.shift_s(day, dt.date(2026, 10, 26)) == 24 * 3600
    assert AXIS.shift_s(dt.date(2026, 10, 24), day) == 25 * 3600
    assert elapsed_s(origin, at8) == 8 * 3600


def test_other_time_zone_shift():
    # the same calendar day starts 6 hours later in New York than in Paris (in winter)
    assert AXIS.shift_s(dt.date(2026, 12, 1), dt.date(2026, 12, 1), ZoneInfo("America/New_York")) == 6 * 3600
