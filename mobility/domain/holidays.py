"""French calendars: public holidays (the ``holidays`` library, metropolitan France) and school holidays of
zone B, the académie de Lille (the ``vacances-scolaires-france`` library, the Ministry's official calendar)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from vacances_scolaires_france import SchoolHolidayDates, UnsupportedYearException

#: school-holiday zone of the Audomarois (académie de Lille)
SCHOOL_ZONE = "B"


def easter_sunday(year: int) -> date:
    """Western Easter Sunday (the day before Easter Monday, a public holiday)."""
    (monday,) = (d for d, name in public_holidays(year).items() if name == "Lundi de Pâques")
    return monday - timedelta(days=1)


@lru_cache(maxsize=256)
def public_holidays(year: int) -> dict[date, str]:
    """The national public holidays of ``year`` -> French name, in date order."""
    import holidays  # (0.04 s to import: loaded when first asked, not with the opening hours at start-up)

    return dict(sorted(holidays.country_holidays("FR", years=year, language="fr").items()))


def _as_date(day: date | datetime) -> date:
    return day.date() if isinstance(day, datetime) else day


def is_public_holiday(day: date | datetime) -> bool:
    """True if ``day`` (a date or datetime) is a French public holiday."""
    day = _as_date(day)
    return day in public_holidays(day.year)


def holiday_name(day: date | datetime) -> str | None:
    """French name of the public holiday on ``day``, or None."""
    day = _as_date(day)
    return public_holidays(day.year).get(day)


@lru_cache(maxsize=1)
def _school_dates() -> SchoolHolidayDates:
    return SchoolHolidayDates()  # reads the library's CSV once


def school_holiday_years() -> tuple[int, int]:
    """First and last calendar year the school-holiday calendar covers."""
    dates = _school_dates()
    return dates.min_year, dates.max_year


@lru_cache(maxsize=4096)
def is_school_holiday(day: date | datetime) -> bool:
    """True if ``day`` is in the school holidays of zone B; False outside the years the calendar covers."""
    try:
        return bool(_school_dates().is_holiday_for_zone(_as_date(day), SCHOOL_ZONE))
    except UnsupportedYearException:
        return False
