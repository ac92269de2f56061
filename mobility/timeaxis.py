"""The GTFS time axis: times of a service day are seconds after "noon minus 12 h" of that day, local time of
the feed (the GTFS reference, stop_times.txt: 12 hours before noon, which is midnight except on the days of a
daylight-saving change). One object converts between those seconds and datetimes for every layer.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo


_UTC = dt.timezone.utc


@functools.lru_cache(maxsize=4096)  # a request asks for a few days' origins several times each
def service_day_origin(day: dt.date, tz: dt.tzinfo | None) -> dt.datetime:
    """Time 0 of the GTFS service ``day`` in ``tz``: noon minus 12 hours of elapsed time (23:00 or 01:00 of
    the evening before on the days of a daylight-saving change, midnight on every other day)."""
    noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=tz)
    if tz is None:
        return noon - dt.timedelta(hours=12)
    return (noon.astimezone(_UTC) - dt.timedelta(hours=12)).astimezone(tz)


def after(origin: dt.datetime, secs: float) -> dt.datetime:
    """``secs`` seconds of elapsed time after ``origin``, in ``origin``'s time zone. (Python adds a timedelta
    to an aware datetime on the wall clock, which is an hour off across a daylight-saving change.)"""
    if origin.tzinfo is None:
        return origin + dt.timedelta(seconds=secs)
    return (origin.astimezone(_UTC) + dt.timedelta(seconds=secs)).astimezone(origin.tzinfo)


def elapsed_s(start: dt.datetime, end: dt.datetime) -> float:
    """Seconds of elapsed time from ``start`` to ``end`` (aware datetimes; wall-clock difference otherwise)."""
    if start.tzinfo is None or end.tzinfo is None:
        return (end - start).total_seconds()
    return (end.astimezone(_UTC) - start.astimezone(_UTC)).total_seconds()


@dataclass(frozen=True)
class TimeAxis:
    """Seconds of GTFS service days in one time zone, and back to aware datetimes."""

    tz: dt.tzinfo

    @classmethod
    def of(cls, tz: "str | dt.tzinfo") -> "TimeAxis":
        return cls(ZoneInfo(tz) if isinstance(tz, str) else tz)

    def origin(self, day: dt.date) -> dt.datetime:
        """Time 0 of ``day`` (see :func:`service_day_origin`)."""
        return service_day_origin(day, self.tz)

    def localize(self, when: dt.datetime) -> dt.datetime:
        """``when`` in this time zone; a naive datetime is read as local wall time."""
        return when.replace(tzinfo=self.tz) if when.tzinfo is None else when.astimezone(self.tz)

    def seconds(self, when: dt.datetime, day: dt.date | None = None) -> int:
        """Seconds of ``when`` on the axis of ``day`` (default: ``when``'s own local date)."""
        when = self.localize(when)
        return int(round(elapsed_s(self.origin(day or when.date()), when)))

    def at(self, day: dt.date, secs: float) -> dt.datetime:
        """The datetime of ``secs`` seconds on the axis of ``day``."""
        return after(self.origin(day), int(secs))

    def shift_s(self, day: dt.date, other: dt.date, other_tz: dt.tzinfo | None = None) -> int:
        """Seconds from time 0 of ``day`` to time 0 of ``other`` (in ``other_tz``, default this zone):
        86400 per day apart, 23 or 25 hours across a daylight-saving change."""
        return int(round(elapsed_s(self.origin(day), service_day_origin(other, other_tz or self.tz))))
