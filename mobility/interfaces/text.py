"""Readable text of a door-to-service answer for the command line (French by default; words from the catalogs).

Every line is true of the itinerary it sits next to: what was understood, the travel date (and why it is
not the requested one), the opening state at each arrival, long waits, and the choice of returns.
"""

from __future__ import annotations

import datetime as dt

from mobility.domain.categories import category_label
from mobility.planning.itinerary import duration_text, format_itinerary
from mobility.domain.dates import day_text
from mobility.i18n import N_, message

#: the words of the readable answer: keys cli_* of the catalogs (mobility.i18n)
_KEYS = [N_("cli_asked"), N_("cli_depart"), N_("cli_arrive"), N_("cli_understood"), N_("cli_from"),
         N_("cli_to"), N_("cli_corrected"), N_("cli_service"), N_("cli_phone"), N_("cli_note"), N_("cli_why"),
         N_("cli_alternatives"), N_("cli_option"), N_("cli_none"), N_("cli_return"), N_("cli_first"),
         N_("cli_least_wait"), N_("cli_last"), N_("cli_wait"), N_("cli_on_foot"), N_("cli_tag_after_opening"),
         N_("cli_tag_next_day"), N_("cli_departed")]


def _words(lang: str) -> dict[str, str]:
    return {k[4:]: message(k, lang) for k in _KEYS}


def _resolved_line(w: dict, sep: str, role: str, r: dict, lang: str) -> str:
    extra = f" ({w['corrected'].format(text=r['corrected_from'])})" if r.get("corrected_from") else ""
    category = f"{category_label(r['category'], lang)} → " if r.get("category") else ""
    return f"  {w[role]}{sep}{category}{r['label']}{extra}"


def format_trip(trip, lang: str = "fr") -> str:
    """Request and understanding, day change, service and choice, the itineraries, then the way back."""
    w = _words(lang)
    sep = message("cli_sep", lang)  # " : " in French typography, ": " in English
    out = trip.to_json()
    when = trip.when
    lines = [f"{w['asked']}{sep}{day_text(when.date(), lang)}, {w['arrive' if trip.arrive_by else 'depart']} "
             f"{when:%H:%M}",
             f"{w['understood']}{sep.rstrip()}",
             _resolved_line(w, sep, "from", out["resolved"]["from"], lang),
             _resolved_line(w, sep, "to", out["resolved"]["to"], lang)]
    if trip.day_changed:
        lines += ["", f"!! {trip.day_changed['message']}"]
    lines.append("")
    if trip.site is not None:
        lines.append(f"{w['service']}{sep}{trip.site.name}")
        if trip.site.address:
            lines.append(f"  {trip.site.address}")
        if trip.site.phone:
            lines.append(f"  {w['phone']} {trip.site.phone}")
    if trip.choice:
        lines.append(f"{w['why']}{sep}{trip.choice['message']}")
    for alt in trip.alternatives:
        lines.append(f"  {w['alternatives']}{sep}{alt['name']} — {alt['reason']}")
    for note in trip.notes:
        lines.append(f"{w['note']}{sep}{note}")
    if trip.site is not None or trip.notes:
        lines.append("")
    if not trip.itineraries:
        lines.append(w["none"])
    for i, (it, js) in enumerate(zip(trip.itineraries, out["itineraries"]), 1):
        tag = f" — {w['tag_' + it.tag]}" if it.tag and f"tag_{it.tag}" in w else ""
        if js.get("departed"):
            tag += f" — {w['departed']}"
        lines.append(f"{w['option']} {i} — {day_text(it.departure.date(), lang)}{tag}{sep}{format_itinerary(it, lang)}")
        if "service_at_arrival" in js:
            lines.append("  => " + js["service_at_arrival"]["message"])
        lines.append("")
    ret = trip.return_block
    if ret is not None:
        lines.append(f"{w['return']}{sep}{ret['message']}")
        for opt in ret.get("options", []):
            rides = " + ".join((leg.get("route") or {}).get("short_name") or leg["mode"] for leg in opt["legs"]
                               if leg["mode"] != "walk") or w["on_foot"]
            kinds = ", ".join(w[k] for k in opt["kinds"])
            wait = f", {w['wait']} {duration_text(opt['wait_s'])}" if opt["wait_s"] >= 60 else ""
            dep, arr = dt.datetime.fromisoformat(opt["departure"]), dt.datetime.fromisoformat(opt["arrival"])
            lines.append(f"  - {kinds}{sep}{dep:%H:%M} → {arr:%H:%M} ({rides}{wait})")
            for lw in opt["long_waits"]:
                lines.append(f"      {w['wait']} {duration_text(lw['minutes'] * 60)} — {lw['at']}")
    return "\n".join(lines).rstrip() + "\n"
