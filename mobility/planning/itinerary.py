"""Itineraries as people and programs see them: places, legs, times with offsets, JSON and readable text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from mobility.i18n import N_, lang_of, message

#: GTFS route_type (basic and extended, https://gtfs.org route types) -> itinerary leg mode
_BASIC_MODES = {0: "tram", 1: "subway", 2: "rail", 3: "bus", 4: "ferry", 5: "cable_car", 6: "gondola",
                7: "funicular", 11: "trolleybus", 12: "monorail"}
_EXTENDED_MODES = [(100, 200, "rail"), (200, 300, "coach"), (400, 500, "subway"), (700, 800, "bus"),
                   (800, 900, "trolleybus"), (900, 1000, "tram"), (1000, 1100, "ferry"), (1200, 1300, "ferry"),
                   (1300, 1400, "gondola"), (1400, 1500, "funicular"), (1500, 1600, "car"), (1700, 1800, "bus")]


def mode_of_route_type(route_type: int) -> str:
    """Leg mode of a GTFS route type (basic 0-12 or extended 100-1799); unknown types count as bus."""
    if route_type in _BASIC_MODES:
        return _BASIC_MODES[route_type]
    if route_type == 715:  # demand and response bus service
        return "tad"
    for lo, hi, mode in _EXTENDED_MODES:
        if lo <= route_type < hi:
            return mode
    return "bus"


@dataclass(frozen=True)
class Place:
    """A point of an itinerary: a door (no stop id), a stop, or a service site."""

    name: str
    lat: float
    lon: float
    stop_id: str | None = None

    def to_json(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "lat": round(self.lat, 6), "lon": round(self.lon, 6)}
        if self.stop_id is not None:
            out["stop_id"] = self.stop_id
        return out


@dataclass
class Leg:
    """One leg: a walk, a ride on a scheduled vehicle, or an on-demand (TAD) ride."""

    mode: str
    origin: Place
    destination: Place
    departure: dt.datetime
    arrival: dt.datetime
    distance_m: float = 0.0
    route: dict | None = None
    trip_id: str | None = None
    headsign: str | None = None
    agency: str | None = None
    intermediate_stops: int = 0
    geometry: list[tuple[float, float]] = field(default_factory=list)  # (lat, lon)
    headway_based: bool = False
    booking: dict | None = None
    window: dict | None = None
    #: when the ride must be booked by (the ``deadline`` of ``booking``), None when it needs no booking
    deadline: dt.datetime | None = field(default=None, compare=False)

    @property
    def duration_s(self) -> int:
        return int((self.arrival - self.departure).total_seconds())

    def to_json(self) -> dict:
        out: dict[str, Any] = {
            "mode": self.mode,
            "from": self.origin.to_json(),
            "to": self.destination.to_json(),
            "departure": self.departure.isoformat(),
            "arrival": self.arrival.isoformat(),
            "duration_s": self.duration_s,
            "distance_m": round(self.distance_m, 1),
        }
        if self.route is not None:
            out["route"] = self.route
        if self.trip_id is not None:
            out["trip_id"] = self.trip_id
        if self.headsign:
            out["headsign"] = self.headsign
        if self.agency:
            out["agency"] = self.agency
        if self.mode != "walk":
            out["intermediate_stops"] = self.intermediate_stops
        if self.headway_based:
            out["headway_based"] = True
        if self.booking is not None:
            out["booking"] = self.booking
        if self.window is not None:
            out["window"] = self.window
        if self.geometry:
            out["geometry"] = {"type": "LineString",
                               "coordinates": [[round(lon, 6), round(lat, 6)] for lat, lon in self.geometry]}
        return out


@dataclass
class Itinerary:
    """A door-to-door option; ``transfers`` counts changes of vehicle, ``walk_m`` all walking."""

    legs: list[Leg]
    #: why the answer offers this option besides the best ones ("after_opening", "next_day"), else None
    tag: str | None = None

    @property
    def departure(self) -> dt.datetime:
        return self.legs[0].departure

    @property
    def arrival(self) -> dt.datetime:
        return self.legs[-1].arrival

    @property
    def duration_s(self) -> int:
        return int((self.arrival - self.departure).total_seconds())

    @property
    def rides(self) -> list[Leg]:
        return [leg for leg in self.legs if leg.mode != "walk"]

    @property
    def transfers(self) -> int:
        return max(0, len(self.rides) - 1)

    @property
    def walk_m(self) -> float:
        return sum(leg.distance_m for leg in self.legs if leg.mode == "walk")

    @property
    def walk_s(self) -> int:
        return sum(leg.duration_s for leg in self.legs if leg.mode == "walk")

    @property
    def ride_s(self) -> int:
        return sum(leg.duration_s for leg in self.rides)

    @property
    def wait_s(self) -> int:
        return self.duration_s - self.walk_s - self.ride_s

    def waits(self, min_s: int = 1) -> dict[int, int]:
        """{index of the leg waited for: seconds} for each wait between two legs of at least ``min_s``
        seconds (at a stop, for a pick-up...); the place is that leg's origin."""
        return {i: gap for i, gap in ((i, int((self.legs[i].departure - self.legs[i - 1].arrival).total_seconds()))
                                      for i in range(1, len(self.legs))) if gap >= max(1, min_s)}

    def to_json(self) -> dict:
        out = {
            "date": self.departure.date().isoformat(),
            "departure": self.departure.isoformat(),
            "arrival": self.arrival.isoformat(),
            "duration_s": self.duration_s,
            "transfers": self.transfers,
            "walk_m": round(self.walk_m, 1),
            "walk_s": self.walk_s,
            "wait_s": self.wait_s,
            "legs": [leg.to_json() for leg in self.legs],
        }
        if self.tag is not None:
            out["tag"] = self.tag
        return out


# ------------------------------------------------------------------------------------------ readable text

#: the words of the readable text: keys itin_* of the catalogs (mobility.i18n)
_WORD_KEYS = [N_("itin_walk"), N_("itin_to"), N_("itin_take"), N_("itin_direction"), N_("itin_line"),
              N_("itin_from"), N_("itin_get_off"), N_("itin_arrive"), N_("itin_leave"), N_("itin_transfers"),
              N_("itin_walking"), N_("itin_duration"), N_("itin_option"), N_("itin_stops"), N_("itin_stop"),
              N_("itin_headway"), N_("itin_none"), N_("itin_long_wait")]
#: modes with a word in the catalogs (mode_bus: 'le bus' / 'the bus')
_MODES = ("bus", "coach", "rail", "tram", "subway", "tad", "ferry")


def _words(lang: str) -> dict[str, str]:
    return {k[5:]: message(k, lang) for k in _WORD_KEYS}


def _mode_word(mode: str, lang: str) -> str:
    return message("mode_" + mode, lang) if mode in _MODES else mode


def booking_instructions(booking: dict, lang: str) -> str:
    """The booking sentence of a leg's ``booking`` in ``lang`` (its JSON has both languages)."""
    text = booking.get("instructions_en") if lang_of(lang) == "en" else None
    return str(text or booking.get("instructions") or "")


def _hm(t: dt.datetime) -> str:
    return t.strftime("%H:%M")


#: a wait at one place at least this long is flagged to the traveller (seconds)
LONG_WAIT_S = 30 * 60


def duration_text(seconds: float) -> str:
    """'< 1 min', '25 min', '4 h 58'."""
    if seconds < 60:
        return "< 1 min"
    m = int(round(seconds / 60.0))
    return f"{m // 60} h {m % 60:02d}" if m >= 60 else f"{m} min"


def format_itinerary(it: Itinerary, lang: str = "fr") -> str:
    """Step-by-step text of one itinerary, for a person (French by default)."""
    w = _words(lang)
    lines = [f"{w['leave']} {_hm(it.departure)} — {w['arrive']} {_hm(it.arrival)} "
             f"({w['duration']} {duration_text(it.duration_s)}, {it.transfers} {w['transfers']}, "
             f"{int(round(it.walk_m))} m {w['walking']})"]
    waits = it.waits(LONG_WAIT_S)
    for i, leg in enumerate(it.legs):
        if i in waits:
            lines.append("         " + w["long_wait"].format(d=duration_text(waits[i]), place=leg.origin.name))
        if leg.mode == "walk":
            lines.append(f"  {_hm(leg.departure)}  {w['walk']} {int(round(leg.distance_m))} m "
                         f"({duration_text(leg.duration_s)}) {w['to']} {leg.destination.name}")
            continue
        mode_word = _mode_word(leg.mode, lang)
        route = leg.route or {}
        name = route.get("short_name") or route.get("long_name") or ""
        head = f" {w['direction']} {leg.headsign}" if leg.headsign else ""
        line = f"  {_hm(leg.departure)}  {w['take']} {mode_word} {name}{head} {w['from']} {leg.origin.name}"
        lines.append(line)
        extra = f", {w['headway']}" if leg.headway_based else ""
        n = leg.intermediate_stops + 1
        lines.append(f"  {_hm(leg.arrival)}  {w['get_off']} {leg.destination.name} "
                     f"({n} {w['stops'] if n > 1 else w['stop']}{extra})")
        if leg.booking:
            lines.append(f"         {booking_instructions(leg.booking, lang)}")
    return "\n".join(lines)


def format_plan(itineraries: list[Itinerary], lang: str = "fr") -> str:
    """All options, numbered."""
    w = _words(lang)
    if not itineraries:
        return w["none"]
    return "\n\n".join(f"{w['option']} {i}: {format_itinerary(it, lang)}" for i, it in enumerate(itineraries, 1))
