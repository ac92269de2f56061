"""French (metropolitan) public holidays for any year: fixed dates plus the Easter-based ones."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache


def easter_sunday(year: int) -> date:
    """Western Easter Sunday, by the anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (name from the published algorithm)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=256)
def public_holidays(year: int) -> dict[date, str]:
    """The 11 national public holidays of ``year`` -> French name, in date order."""
    easter = easter_sunday(year)
    days = {
        date(year, 1, 1): "Jour de l'an",
        easter + timedelta(days=1): "Lundi de Pâques",
        date(year, 5, 1): "Fête du Travail",
        date(year, 5, 8): "Victoire 1945",
        easter + timedelta(days=39): "Ascension",
        easter + timedelta(days=50): "Lundi de Pentecôte",
        date(year, 7, 14): "Fête nationale",
        date(year, 8, 15): "Assomption",
        date(year, 11, 1): "Toussaint",
        date(year, 11, 11): "Armistice 1918",
        date(year, 12, 25): "Noël",
    }
    return dict(sorted(days.items()))


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
