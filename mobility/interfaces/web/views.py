"""What the pages show beside a TripPlan JSON: phone numbers in one format, one booking box per itinerary
(pickup point, pickup time and window, deadline, what to say on the phone), earlier/later re-plans, the
destination's name instead of its id, and the field a bad request is about (with clickable candidates).

Nothing here changes an answer: these are views of the JSON of :func:`mobility.planning.services.plan_trip`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Mapping

from mobility.errors import InputError, MobilityError, NoRouteError, NotFoundError

_PHONE = re.compile(r"(?:\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}")


def national_phone(phone: str | None) -> str:
    """'+33 3 53 48 00 00', '0353480000', '03.53.48.00.00' -> '03 53 48 00 00' (other numbers unchanged)."""
    if not phone:
        return ""
    digits = re.sub(r"[^\d+]", "", phone)
    if digits.startswith("+33") and len(digits) == 12:
        digits = "0" + digits[3:]
    if len(digits) == 10 and digits.startswith("0"):
        return " ".join(digits[i:i + 2] for i in range(0, 10, 2))
    return phone.strip()


def tel_href(phone: str | None) -> str:
    """'tel:+33353480000' for a French number, else the digits."""
    digits = re.sub(r"[^\d+]", "", phone or "")
    if len(digits) == 10 and digits.startswith("0"):
        digits = "+33" + digits[1:]
    return "tel:" + digits


def phones_national(text: str) -> str:
    """Every French phone number of a sentence in the national format."""
    return _PHONE.sub(lambda m: national_phone(m.group(0)), text or "")


def _at(iso: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(iso) if iso else None


def _hm(iso: str | None) -> str:
    d = _at(iso)
    return d.strftime("%H:%M") if d else ""


# ------------------------------------------------------------------------------------------- bookings
def zone_name(holder, lat: float, lon: float) -> str:
    """Name of the TAD zone (GTFS-Flex location) holding the point, '' when none (cached polygons)."""
    zones = holder.extras.get("tad_zone_polygons")
    if zones is None:
        from mobility.analysis.territory import tad_zones

        try:
            zones = [(z.name, z.geometry) for z in tad_zones(holder.get().planner.network)]
        except Exception:  # pragma: no cover - a feed without Flex locations
            zones = []
        with holder.extras_lock:
            holder.extras["tad_zone_polygons"] = zones
    import shapely

    p = shapely.Point(lon, lat)
    for name, geom in zones:
        if geom.buffer(1e-4).contains(p):
            return name
    return ""


def pickup_point(leg: dict, trip: dict, first: bool, holder=None) -> dict:
    """Where the TAD picks the rider up: a stop (meeting point), the resident's address, or a commune
    (address to give when booking). ``{"kind": "stop"|"address"|"commune"|"point", "name", "zone"}``."""
    frm = leg.get("from") or {}
    zone = zone_name(holder, frm["lat"], frm["lon"]) if holder is not None and "lat" in frm else ""
    if frm.get("stop_id"):
        return {"kind": "stop", "name": frm.get("name", ""), "zone": zone}
    kind = "point"
    if first:
        resolved = ((trip.get("resolved") or {}).get("from") or {})
        kind = {"address": "address", "street": "address", "commune": "commune"}.get(resolved.get("kind"), "point")
    return {"kind": kind, "name": frm.get("name", ""), "zone": zone}


def booking_boxes(it: dict, trip: dict, lang: str, holder=None) -> list[dict]:
    """One box per booking phone number of the itinerary: the TAD rides to book with it, each with its
    pickup point, pickup time, service window, drop-off and the connection it feeds; the deadline (the
    earliest of the rides) and the rule's own note."""
    boxes: dict[str, dict] = {}
    legs = it.get("legs") or []
    for k, leg in enumerate(legs):
        booking = leg.get("booking")
        if not booking:
            continue
        phone = national_phone(booking.get("phone"))
        box = boxes.setdefault(phone, {"phone": phone, "tel": tel_href(phone), "deadline": None, "rides": [],
                                       "notes": []})
        deadline = booking.get("deadline")
        if deadline and (box["deadline"] is None or _at(deadline) < _at(box["deadline"])):
            box["deadline"] = deadline
        note = phones_national(str(booking.get("message") or ""))
        if note and note not in box["notes"]:
            box["notes"].append(note)
        window = (leg.get("window") or {}).get("pickup") or {}
        nxt = next((x for x in legs[k + 1:] if x["mode"] != "walk"), None)
        connection = None
        if nxt is not None:
            route = nxt.get("route") or {}
            connection = {"line": route.get("short_name") or route.get("long_name") or "",
                          "mode": nxt["mode"], "departure": nxt.get("departure"),
                          "stop": (nxt.get("from") or {}).get("name", "")}
        box["rides"].append({
            "pickup": pickup_point(leg, trip, k == 0, holder),
            "pickup_time": leg.get("departure"),
            "window": [_hm(window.get("start")), _hm(window.get("end"))] if window else None,
            "drop_off": (leg.get("to") or {}).get("name", ""),
            "drop_off_time": leg.get("arrival"),
            "service": (leg.get("route") or {}).get("long_name") or "",
            "date": it.get("date"),
            "connection": connection,
        })
    return list(boxes.values())


# ------------------------------------------------------------------------------------ earlier / later
def shifted_queries(req, trip: dict | None) -> dict[str, dict[str, str]]:
    """Re-plans for earlier and later trips: depart after the first option's departure + 1 min (later),
    arrive before the last option's arrival - 1 min (earlier). Empty without itineraries."""
    its = (trip or {}).get("itineraries") or []
    if req is None or not its:
        return {}
    base = req.query()
    first_dep = min(_at(it["departure"]) for it in its) + dt.timedelta(minutes=1)
    last_arr = max(_at(it["arrival"]) for it in its) - dt.timedelta(minutes=1)
    return {"later": {**base, "date": first_dep.date().isoformat(), "time": first_dep.strftime("%H:%M"),
                      "arrive_by": "0"},
            "earlier": {**base, "date": last_arr.date().isoformat(), "time": last_arr.strftime("%H:%M"),
                        "arrive_by": "1"}}


# ------------------------------------------------------------------------------------------ destination
def place_name(ctx, value: str, lang: str) -> str | None:
    """The display name of a site id or category key ('svc-001' -> 'Maison des services… (Fauquembergues)'),
    None for any other text."""
    from mobility.domain.categories import category_label

    value = (value or "").strip()
    if not value:
        return None
    for s in ctx.catalogue.sites:
        if s.id == value:
            return f"{s.name} ({s.commune})"
    if value in ctx.catalogue.categories():
        return category_label(value, lang)
    return None


# ------------------------------------------------------------------------------------------ field errors
FIELDS = ("from", "to", "date", "time", "max_walk_m", "return_after_min", "max_transfers", "walk_speed_mps",
          "booked_at")
#: message keys of the errors (see mobility.errors) -> the code of the sentence shown at the field
_EMPTY = {"err_param_required", "err_param_empty", "err_origin_empty", "err_destination_empty", "err_address_empty"}
_END_CODES = {"err_no_address": "not_found", "err_ambiguous": "ambiguous", "err_point_outside": "outside",
              "err_end_outside_territory": "outside", "err_unknown_site": "unknown_site",
              "err_no_site_of_category": "unknown_site", "err_not_latlon": "not_found", "err_latlon_range": "outside",
              "err_far_from_street": "outside", "err_far_from_step_free_street": "outside"}


def field_error(ctx, values: Mapping[str, Any], exc: MobilityError) -> dict:
    """Which field a refused request is about and why: ``{"field", "code", "text", "candidates"}``
    (``field`` None for an error of the whole request, e.g. no itinerary). ``code`` picks the sentence in
    the page's language (``ferr_<code>[_<field>]``); ``text`` is what was typed; ``candidates`` are labels
    the user can pick (an ambiguous or unknown address)."""
    key = getattr(exc, "key", None) or ""
    params = getattr(exc, "params", None) or {}
    if key == "err_origin_empty":
        return _plain("from", "empty", "")
    if key == "err_destination_empty":
        return _plain("to", "empty", "")
    if key.startswith("err_param_") and key != "err_param_lang":
        name = str(params.get("name") or ("date" if key == "err_param_date" else "time" if key == "err_param_time"
                                         else ""))
        field = "date" if name == "datetime" else name
        code = "empty" if key in _EMPTY else ("too_long" if key == "err_param_too_long" else "invalid")
        return _plain(field if field in FIELDS else None, code, str(values.get(name, ""))[:200])
    if isinstance(exc, NoRouteError):
        return _plain(None, "no_route", "")
    if key in ("err_date_outside", "err_no_service_day"):
        return _plain("date", "date_outside", str(values.get("date", "")))
    if isinstance(exc, (InputError, NotFoundError)):
        from mobility.planning.services import resolve_endpoint

        for role, name in (("origin", "from"), ("destination", "to")):
            typed = str(values.get(name, "") or "").strip()
            try:
                resolve_endpoint(ctx, typed, role)
            except MobilityError as bad:
                return _end_error(ctx, name, typed, bad)
    return _plain(None, "other", "")


def _plain(field: str | None, code: str, text: str) -> dict:
    return {"field": field, "code": code, "text": text, "candidates": []}


def _end_error(ctx, name: str, typed: str, exc: MobilityError) -> dict:
    key = getattr(exc, "key", None) or ""
    code = "empty" if not typed or key in _EMPTY else _END_CODES.get(key, "not_found")
    candidates: list[str] = []
    if code in ("ambiguous", "not_found") and typed:
        for r in ctx.geocoder.search(typed, limit=8):
            if r.label not in candidates:
                candidates.append(r.label)
            if len(candidates) >= 6:
                break
    return {"field": name, "code": code, "text": typed, "candidates": candidates}


def error_message(err: dict, lang: str, ctx=None, exc: MobilityError | None = None) -> str:
    """The sentence of a :func:`field_error` in the page's language (the error's own sentence, translated,
    when no field sentence fits)."""
    from mobility.interfaces.web.i18n import day_label, translator

    t = translator(lang)
    code, field = err.get("code", "other"), err.get("field")
    if code == "date_outside" and ctx is not None:
        rng = ctx.planner.network.service_range()
        if rng:
            return t("ferr_date_outside", start=day_label(rng[0].isoformat(), lang),
                     end=day_label(rng[1].isoformat(), lang))
    if code == "other" and exc is not None:
        return exc.text(lang)
    for key in (f"ferr_{code}_{field}", f"ferr_{code}"):
        msg = t(key, text=err.get("text", ""))
        if msg != key:
            return msg
    return exc.text(lang) if exc is not None else t("ferr_other")
