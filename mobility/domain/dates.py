"""Names of days and months in French and English, and the written date of a day ("mercredi 2 décembre 2026"):
one table for the planner's sentences, the booking instructions, the web pages and the map captions."""

from __future__ import annotations

import datetime as dt

DAY_NAMES = {"fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
             "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}
MONTH_NAMES = {"fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                      "octobre", "novembre", "décembre"),
               "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                      "October", "November", "December")}


def _lang(lang: str) -> str:
    return lang if lang in DAY_NAMES else "fr"


def weekday_name(day: dt.date, lang: str = "fr") -> str:
    """'mercredi' / 'Wednesday' (French for an unknown language)."""
    return DAY_NAMES[_lang(lang)][day.weekday()]


def month_name(day: dt.date, lang: str = "fr") -> str:
    """'décembre' / 'December'."""
    return MONTH_NAMES[_lang(lang)][day.month - 1]


def day_text(day: dt.date, lang: str = "fr") -> str:
    """'mercredi 2 décembre 2026' / 'Wednesday 2 December 2026'."""
    return f"{weekday_name(day, lang)} {day.day} {month_name(day, lang)} {day.year}"
