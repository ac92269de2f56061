"""The pages' translator (``t('key')`` in the templates, words from the gettext catalogs of
:mod:`mobility.i18n`), the locale-aware filters, and the plain-words view of itineraries."""

from __future__ import annotations

import datetime as dt
from typing import Callable

from mobility.i18n import DEFAULT_LANG, N_, clock, day_text, distance, duration, lang_of, msgstrs
from mobility.i18n import translator as _translator


def translator(lang: str | None) -> Callable[..., str]:
    """``t(key, **fmt)`` in ``lang``: the pages' words come from the gettext catalogs of
    :mod:`mobility.i18n` (``mobility/locale/<lang>/LC_MESSAGES/mobility.po``); French, then the key, when a
    catalog lacks one."""
    return _translator(lang)


def js_strings(lang: str | None) -> dict[str, str]:
    """The words of the page scripts (the catalog keys ``js_*``), handed to them as JSON by base.html."""
    return {k: v for k, v in msgstrs(lang_of(lang)).items() if k.startswith("js_")}


def _page_lang(lang: str | None) -> str:
    """``lang``, else the language of the current request (the filters are called without one)."""
    if lang:
        return lang_of(lang)
    try:
        from flask import g, has_request_context

        return lang_of(getattr(g, "lang", None)) if has_request_context() else DEFAULT_LANG
    except ImportError:  # pragma: no cover
        return DEFAULT_LANG


def hm(iso: str | None, lang: str | None = None) -> str:
    """'2026-12-01T08:05:00+01:00' -> '08:05'."""
    if not iso:
        return ""
    return clock(dt.datetime.fromisoformat(iso), _page_lang(lang))


def day_label(iso: str | None, lang: str) -> str:
    if not iso:
        return ""
    return day_text(dt.datetime.fromisoformat(iso).date(), _page_lang(lang))


def minutes(seconds: float | None, lang: str | None = None) -> str:
    """'12 min', '1 h 05'."""
    return duration(seconds, _page_lang(lang))


def metres(m: float | None, lang: str | None = None) -> str:
    """'850 m'; '1,5 km' on a French page, '1.5 km' on an English one."""
    return distance(m, _page_lang(lang))


def booking_text(booking: dict, lang: str) -> str:
    """Plain words for a TAD booking: who to call and by when."""
    t = translator(lang)
    given = (booking.get("instructions_en") if lang_of(lang) == "en" else None) or booking.get("instructions")
    if given:  # the planner's sentence, in the page's language (the English one on an English page)
        return str(given)
    deadline = booking.get("deadline")
    dl = t("booking_deadline", when=f"{day_label(deadline, lang)} {hm(deadline, lang)}") if deadline else ""
    return t("booking_text", phone=booking.get("phone") or "?", deadline=dl)


#: modes with a word in the catalogs ("mode_bus": "le bus" / "the bus")
MODES = ("bus", "coach", "rail", "tram", "tad")
_MODE_KEYS = [N_("mode_bus"), N_("mode_coach"), N_("mode_rail"), N_("mode_tram"), N_("mode_tad")]
#: the comparison labels of :func:`label_itineraries` and the tags of an itinerary, chosen at run time
_LABEL_KEYS = [N_("fastest"), N_("fewest_changes"), N_("least_walking"), N_("tag_after_opening"), N_("tag_next_day"),
               N_("tag_departed")]


def leg_lines(leg: dict, lang: str) -> list[str]:
    """One or two sentences describing a leg."""
    t = translator(lang)
    if leg["mode"] == "walk":
        return [t("walk_to", dist=metres(leg.get("distance_m"), lang), dur=minutes(leg.get("duration_s"), lang),
                  place=leg["to"]["name"])]
    route = leg.get("route") or {}
    line = route.get("short_name") or route.get("long_name") or ""
    head = t("direction", h=leg["headsign"]) if leg.get("headsign") else ""
    mode = t("mode_" + leg["mode"]) if leg["mode"] in MODES else leg["mode"]
    n = int(leg.get("intermediate_stops", 0)) + 1
    stops = t("stop_1") if n == 1 else t("stops_n", n=n)
    return [t("ride", mode=mode, line=line, headsign=head, place=leg["from"]["name"]),
            t("get_off", place=leg["to"]["name"], stops=stops)]


def label_itineraries(its: list[dict]) -> list[list[str]]:
    """For each itinerary, the comparison labels it wins: fastest, fewest_changes, least_walking."""
    labels: list[list[str]] = [[] for _ in its]
    if not its:
        return labels
    crits = [("fastest", lambda it: it["duration_s"]), ("fewest_changes", lambda it: it["transfers"]),
             ("least_walking", lambda it: it["walk_m"])]
    for name, f in crits:
        best = min(f(it) for it in its)
        winners = [i for i, it in enumerate(its) if f(it) == best]
        if len(winners) < len(its) or len(its) == 1:
            for i in winners[:1] if name == "fastest" else winners:
                labels[i].append(name)
    return labels
