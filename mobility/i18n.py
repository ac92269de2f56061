"""One translation system for every user-facing text: gettext catalogs (domain ``mobility``) and Babel's
locale data for dates, times and numbers.

Messages are identified by a short key (``"walk_to"``, ``"err_param_empty"``); each language's catalog
``mobility/locale/<lang>/LC_MESSAGES/mobility.po`` gives the sentence, compiled to ``mobility.mo`` beside it
(``python scripts/i18n.py compile``; ``tests/test_i18n.py`` fails when a key used in the code, the templates
or the scripts is missing from a catalog, untranslated, or when a ``.mo`` is older than its ``.po``)::

    t = translator("en")
    t("walk_to", dist=distance(1500, "en"), dur=duration(600, "en"), place="Gare")   # 'Walk 1.5 km (10 min) to Gare'

The keys are found in the sources by Babel's extractors (calls of ``t``, ``_`` and ``N_``); ``N_("key")``
marks a key chosen at run time. French is the default and the fallback language.
This module sits at the bottom layer: it imports nothing of the package.
"""

from __future__ import annotations

import datetime as dt
import gettext
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from babel.dates import format_date, format_time
from babel.numbers import format_decimal

DOMAIN = "mobility"
LANGS = ("fr", "en")
DEFAULT_LANG = "fr"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: Babel locale of each language (English dates as in Britain: "Wednesday 2 December 2026")
BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


def N_(key: str) -> str:
    """Marks ``key`` as a message id for the extractor (a key chosen at run time); returns it unchanged."""
    return key


def lang_of(value: str | None) -> str:
    """'en', 'en_GB.UTF-8', 'en-US' -> 'en'; unknown or empty -> French."""
    if not value:
        return DEFAULT_LANG
    code = str(value).strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    return code if code in LANGS else DEFAULT_LANG


def lang_from_environment(environ: dict | None = None) -> str:
    """The language of the system locale (LC_ALL, LC_MESSAGES, LANG, then LANGUAGE), French when unknown."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            value = env[name]
            if value in ("C", "POSIX") or value.startswith("C."):
                break
            return lang_of(value)
    for item in (env.get("LANGUAGE") or "").split(":"):
        if item and lang_of(item) == item.split("_")[0].lower():
            return lang_of(item)
    return DEFAULT_LANG


def lang_from_accept(header: str | None) -> str | None:
    """The preferred of our languages in an ``Accept-Language`` header (None when it names neither)."""
    best: tuple[float, int, str] | None = None
    for i, part in enumerate((header or "").split(",")):
        bits = part.strip().split(";")
        code = bits[0].strip().replace("-", "_").split("_")[0].lower()
        q = 1.0
        for b in bits[1:]:
            if b.strip().startswith("q="):
                try:
                    q = float(b.strip()[2:])
                except ValueError:
                    q = 0.0
        if code in LANGS and q > 0 and (best is None or (q, -i) > (best[0], best[1])):
            best = (q, -i, code)
    return best[2] if best else None


@lru_cache(maxsize=None)
def catalog(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (a NullTranslations when it has none)."""
    return gettext.translation(DOMAIN, str(LOCALE_DIR), [lang_of(lang)], fallback=True)


class Msg:
    """A message not yet in a language: ``Msg("role_origin")``, ``Msg("err_hint_did_you_mean", places=...)``;
    a parameter of another message (or of an error) rendered in that message's language."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params = params

    def text(self, lang: str | None) -> str:
        return message(self.key, lang or DEFAULT_LANG, **self.params)

    def __str__(self) -> str:
        return self.text("en")

    def __repr__(self) -> str:
        return f"Msg({self.key!r}, **{self.params!r})"


class PerLang:
    """A parameter computed for the message's language: ``PerLang(lambda lang: category_label(c, lang))``."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[str], str]) -> None:
        self.fn = fn

    def text(self, lang: str | None) -> str:
        return self.fn(lang_of(lang))


def _param(value: Any, lang: str) -> Any:
    if isinstance(value, (Msg, PerLang)):
        return value.text(lang)
    if isinstance(value, float) and not isinstance(value, bool):
        return format_decimal(value, locale=_locale(lang))  # "0,3" in French, "0.3" in English
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10000:
        return format_decimal(value, locale=_locale(lang))
    return value


def has_message(key: str) -> bool:
    """Whether ``key`` is a message of the (default language's) catalog."""
    return isinstance(key, str) and key in _msgstrs(DEFAULT_LANG)


def message(key: str, lang: str, /, **params: Any) -> str:
    """The sentence ``key`` in ``lang`` with its ``{placeholders}`` filled (French, then the key, when the
    catalog of ``lang`` lacks it). Parameters that are :class:`Msg` or :class:`PerLang` are put in ``lang``,
    numbers in its notation."""
    text = catalog(lang).gettext(key)
    if text == key and lang_of(lang) != DEFAULT_LANG:
        text = catalog(DEFAULT_LANG).gettext(key)
    if not params:
        return text
    return text.format(**{k: _param(v, lang_of(lang)) for k, v in params.items()})


def translator(lang: str | None) -> Callable[..., str]:
    """``t(key, **params)`` in ``lang`` (see :func:`message`)."""
    lang = lang_of(lang)

    def t(key: str, /, **params: Any) -> str:
        return message(key, lang, **params)

    t.lang = lang  # type: ignore[attr-defined]
    return t


@lru_cache(maxsize=None)
def _msgstrs(lang: str) -> dict[str, str]:
    cat = catalog(lang)
    return {k: v for k, v in getattr(cat, "_catalog", {}).items() if isinstance(k, str) and k}


def msgstrs(lang: str) -> dict[str, str]:
    """Every message of the catalog of ``lang``: key -> sentence (the tests scan outputs with it)."""
    return dict(_msgstrs(lang_of(lang)))


# ------------------------------------------------------------------------------------ dates, times, numbers

def _locale(lang: str | None) -> str:
    return BABEL_LOCALES[lang_of(lang)]


def number(value: float, lang: str | None, digits: int = 0) -> str:
    """``value`` with ``digits`` decimals in the locale's notation: 1,5 (fr) / 1.5 (en)."""
    fmt = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=fmt, locale=_locale(lang))


def distance(metres: float | None, lang: str | None) -> str:
    """'850 m', '1,5 km' (fr) / '1.5 km' (en); '' for None."""
    if metres is None:
        return ""
    m = float(metres)
    return f"{number(m / 1000, lang, 1)} km" if m >= 1000 else f"{number(round(m), lang)} m"


def duration(seconds: float | None, lang: str | None = None) -> str:
    """'< 1 min', '12 min', '1 h 05' (the same in both languages); '' for None."""
    if seconds is None:
        return ""
    m = int(round(float(seconds) / 60.0))
    if m < 1:
        return "< 1 min"
    return f"{m // 60} h {m % 60:02d}" if m >= 60 else f"{m} min"


def clock(value: dt.datetime | dt.time, lang: str | None = None) -> str:
    """'08:05' (24-hour clock in both languages)."""
    if isinstance(value, dt.datetime):  # the wall-clock time as given (Babel would move it to the machine's zone)
        value = value.time().replace(tzinfo=None)
    return format_time(value, "HH:mm", locale=_locale(lang))


def weekday_name(day: dt.date, lang: str | None = DEFAULT_LANG) -> str:
    """'mercredi' / 'Wednesday'."""
    return format_date(day, "EEEE", locale=_locale(lang))


def month_name(day: dt.date, lang: str | None = DEFAULT_LANG) -> str:
    """'décembre' / 'December'."""
    return format_date(day, "MMMM", locale=_locale(lang))


def day_text(day: dt.date, lang: str | None = DEFAULT_LANG) -> str:
    """'mercredi 2 décembre 2026' / 'Wednesday 2 December 2026'."""
    return format_date(day, "EEEE d MMMM y", locale=_locale(lang))


def weekday_names(lang: str | None = DEFAULT_LANG) -> tuple[str, ...]:
    """Monday to Sunday in ``lang``."""
    monday = dt.date(2024, 1, 1)
    return tuple(weekday_name(monday + dt.timedelta(days=i), lang) for i in range(7))


def join_words(items: Iterable[str], lang: str | None, style: str = "standard") -> str:
    """'a, b et c' / 'a, b and c'; with ``style="or"``: 'a, b ou c' / 'a, b or c'."""
    from babel.lists import format_list

    items = list(items)
    return format_list(items, style=style, locale=_locale(lang)) if items else ""


def one_of(*items: str) -> PerLang:
    """A parameter listing alternatives in the message's language: '.gpkg or .geojson' / '.gpkg ou .geojson'."""
    return PerLang(lambda lang: join_words(items, lang, "or"))
