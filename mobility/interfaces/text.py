"""Readable text of a door-to-service answer for the command line (French by default)."""

from __future__ import annotations

from mobility.planning.itinerary import format_plan


def format_trip(trip, lang: str = "fr") -> str:
    """Service, opening hours, the itineraries, then the way back."""
    fr = lang != "en"
    lines: list[str] = []
    if trip.site is not None:
        lines.append(f"Service : {trip.site.name}" if fr else f"Service: {trip.site.name}")
        if trip.site.address:
            lines.append(f"  {trip.site.address}")
        if trip.site.phone:
            lines.append(f"  {'Tél.' if fr else 'Phone'} {trip.site.phone}")
    if trip.opening:
        lines.append(f"  {trip.opening['message']}")
    for note in trip.notes:
        lines.append(f"Note : {note}" if fr else f"Note: {note}")
    if lines:
        lines.append("")
    lines.append(format_plan(trip.itineraries, lang))
    ret = trip.return_block
    if ret is not None:
        lines.append("")
        lines.append(("RETOUR : " if fr else "RETURN: ") + ret["message"])
        for i, it in enumerate(ret.get("itineraries", [])[:3], 1):
            legs = " + ".join((leg.get("route") or {}).get("short_name") or leg["mode"] for leg in it["legs"]
                              if leg["mode"] != "walk") or ("à pied" if fr else "on foot")
            lines.append(f"  {i}. {it['departure'][11:16]} → {it['arrival'][11:16]} ({legs})")
    return "\n".join(lines)
