"""Door-to-service planning: resolve both ends, pick the best site of a category, respect opening hours,
and plan the way back home the same day.

:func:`plan_trip` is the Python API behind ``mobility plan --to "caf"`` and the web pages::

    ctx = load_context()
    trip = plan_trip(ctx, "12 rue de l'Église, Thérouanne", "caf", dt.datetime(2026, 12, 2, 9, 30),
                     arrive_by=True, return_after_min=60)
    trip.to_json()   # itineraries + "service", "opening" and "return" blocks

Rules (documented for operators):

* an end is, in this order: a (lat, lon) pair or "LAT,LON" (must lie in the territory), "stop:ID", a service
  site id ("svc-001"), a category ("caf", "mairie", "France services", "town hall"...: every site offering it),
  or free text resolved by the offline geocoder;
* the best site of a category is the one where the resident is served earliest (depart-at) or allowing the
  latest departure (arrive-by), comparing every site of the category (up to :data:`MAX_CANDIDATE_SITES`,
  the nearest first; the answer says so if the cap applied);
* opening hours: the site must be open on arrival and stay open ``margin_min`` minutes; otherwise the answer
  says so and offers the nearest open slot (arrive by the next opening + margin);
* round trip: leave the site ``return_after_min`` minutes after arriving and get home the same day, or say
  plainly that no return is possible the same day; the last possible departure home is reported too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mobility.errors import InputError, NoRouteError, NotFoundError
from mobility.geo import haversine_m
from mobility.loaders.services import ServiceSite
from mobility.planning.categories import category_label, match_category
from mobility.planning.itinerary import Itinerary, Place
from mobility.planning.planner import PlanOptions, PlanResult, parse_latlon

#: what a site id looks like ("svc-001"): such a text is never sent to the geocoder
_SITE_ID = re.compile(r"^[a-z]{2,10}-\d{1,6}$", re.IGNORECASE)
#: a category query compares every site of the category (nearest first); this cap only guards against a
#: user-supplied catalogue of thousands of sites, and the answer says when it applied
MAX_CANDIDATE_SITES = 200
#: default stay at the service for a round trip (minutes)
DEFAULT_STAY_MIN = 60
#: default time the desk must stay open after the arrival (minutes)
DEFAULT_MARGIN_MIN = 10


@dataclass
class Endpoint:
    """A resolved end of a trip: a place, and the service sites it stands for (empty for an address)."""

    place: Place
    sites: list[ServiceSite] = field(default_factory=list)
    category: str | None = None
    kind: str = "point"


@dataclass
class TripPlan:
    """A door-to-service answer. ``plan`` is the outbound result (None when nothing was found)."""

    origin: Endpoint
    destination: Endpoint
    when: dt.datetime
    arrive_by: bool
    options: PlanOptions
    plan: PlanResult | None
    site: ServiceSite | None = None
    opening: dict | None = None
    return_block: dict | None = None
    notes: list[str] = field(default_factory=list)
    lang: str = "fr"

    @property
    def itineraries(self) -> list[Itinerary]:
        return self.plan.itineraries if self.plan else []

    def to_json(self) -> dict:
        return {
            "request": {"from": self.origin.place.to_json(), "to": self.destination.place.to_json(),
                        ("arrive" if self.arrive_by else "depart"): self.when.isoformat(),
                        "options": dict(self.options.__dict__)},
            "origin": self.origin.place.to_json(),
            "destination": self.destination.place.to_json(),
            "service": site_json(self.site, self.lang) if self.site else None,
            "opening": self.opening,
            "itineraries": [summarised(it) for it in self.itineraries],
            "return": self.return_block,
            "notes": self.notes,
        }


def site_json(site: ServiceSite, lang: str = "fr") -> dict:
    """The public description of a site."""
    return {
        "id": site.id, "name": site.name, "categories": list(site.categories),
        "category_labels": [category_label(c, lang) for c in site.categories],
        "address": site.address, "commune": site.commune, "lat": site.lat, "lon": site.lon,
        "opening_hours": site.opening_hours_text,
        "opening_hours_text": site.opening_hours.describe(lang) if site.opening_hours else "",
        "phone": site.phone, "wheelchair": site.wheelchair, "status": site.status,
    }


def summarised(it: Itinerary) -> dict:
    """Itinerary JSON plus what an operator reads first: TAD bookings needed."""
    out = it.to_json()
    out["tad_bookings"] = sum(1 for leg in it.legs if leg.booking)
    return out


# ------------------------------------------------------------------------------------------- endpoints

def resolve_endpoint(ctx, spec: Any, role: str) -> Endpoint:
    """Turn what the user typed into an :class:`Endpoint` (see the module docstring for the order)."""
    if isinstance(spec, tuple):
        lat, lon = float(spec[0]), float(spec[1])
        return _point(ctx, lat, lon, role)
    text = str(spec or "").strip()
    if not text:
        raise InputError(f"the {role} is empty: give an address, a commune, a stop, a service or LAT,LON")
    if len(text) > 200:
        raise InputError(f"the {role} is too long (200 characters at most)")
    try:
        lat, lon = parse_latlon(text)
    except InputError:
        pass
    else:
        return _point(ctx, lat, lon, role)
    if text.lower().startswith("stop:"):
        return Endpoint(ctx.planner.place(text), kind="stop")
    try:
        site = ctx.catalogue.get(text)
    except NotFoundError:
        if _SITE_ID.match(text):
            raise NotFoundError(f"unknown service site id {text!r}") from None
        site = None
    if site is not None:
        return Endpoint(_site_place(site), [site], kind="service")
    category = match_category(text)
    if category is not None:
        sites = ctx.catalogue.by_category(category)
        if not sites:
            raise NotFoundError(f"no site offers {category_label(category, 'en')} ({category}) in the loaded data")
        return Endpoint(_site_place(sites[0]), sites, category, kind="category")
    hit = ctx.geocoder.resolve(text)
    if hit.kind == "service" and hit.id:
        try:
            site = ctx.catalogue.get(hit.id)
            return Endpoint(_site_place(site), [site], kind="service")
        except NotFoundError:
            pass
    return Endpoint(Place(hit.label, hit.lat, hit.lon), kind=hit.kind)


def _point(ctx, lat: float, lon: float, role: str) -> Endpoint:
    if ctx.communes is not None and not ctx.geocoder.contains(lat, lon):
        raise InputError(f"the {role} ({lat:.5f}, {lon:.5f}) is outside the territory covered "
                         "(the Audomarois: CAPSO and Pays de Lumbres)")
    return Endpoint(Place(f"{lat:.5f}, {lon:.5f}", lat, lon))


def _site_place(site: ServiceSite) -> Place:
    return Place(site.name, site.lat, site.lon)


# ------------------------------------------------------------------------------------------- planning

def _open_ok(site: ServiceSite, arrival: dt.datetime, margin_min: int) -> bool | None:
    """True/False when the site's hours are known, None when they are not."""
    if site.opening_hours is None:
        return None
    return site.opening_hours.is_open_during(arrival, margin_min=margin_min)


def desk_time(site: ServiceSite, arrival: dt.datetime, margin_min: int) -> dt.datetime | None:
    """When the resident can be served: the arrival if the site is open then (for ``margin_min`` more
    minutes), else the next opening later the same day (they wait on site); None if it does not reopen
    that day. Unknown hours: the arrival."""
    ok = _open_ok(site, arrival, margin_min)
    if ok is None or ok:
        return arrival
    slot = site.opening_hours.next_open_interval(arrival)
    if slot is None or slot[0].date() != arrival.date():
        return None
    start, end = slot
    if end - max(start, arrival) < dt.timedelta(minutes=margin_min):
        return None
    return max(start, arrival)


def _candidates(ctx, origin: Place, dest: Endpoint) -> list[ServiceSite]:
    sites = dest.sites or []
    if len(sites) <= MAX_CANDIDATE_SITES:
        return list(sites)
    d = haversine_m(origin.lat, origin.lon, np.array([s.lat for s in sites]), np.array([s.lon for s in sites]))
    return [sites[i] for i in np.argsort(d, kind="stable")[:MAX_CANDIDATE_SITES]]


def _plan(ctx, origin: Place, dest: Place, when: dt.datetime, arrive_by: bool, opts: PlanOptions,
          **extra) -> PlanResult | None:
    try:
        return ctx.planner.plan(origin, dest, when, arrive_by=arrive_by, options=opts, **extra)
    except NoRouteError:
        return None


def _better(a: Itinerary, b: Itinerary | None, arrive_by: bool) -> bool:
    if b is None:
        return True
    return a.departure > b.departure if arrive_by else a.arrival < b.arrival


def _fmt(t: dt.datetime) -> str:
    return t.strftime("%H:%M")


def _weekday(t: dt.datetime, lang: str) -> str:
    names = {"fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
             "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]}
    return names.get(lang, names["fr"])[t.weekday()]


def plan_trip(ctx, origin: Any, destination: Any, when: dt.datetime, *, arrive_by: bool = False,
              options: PlanOptions | None = None, return_after_min: int | None = None,
              margin_min: int = DEFAULT_MARGIN_MIN, lang: str = "fr", **plan_extra) -> TripPlan:
    """Plan from ``origin`` to ``destination`` (see module docstring), optionally with the way back.

    ``plan_extra`` is passed on to :meth:`Planner.plan` (e.g. ``booked_at`` for on-demand transport).
    Raises InputError / NotFoundError for bad ends; returns a TripPlan with no itinerary (and notes saying
    why) rather than raising when nothing reaches an open site.
    """
    opts = (options or PlanOptions()).validated()
    if not (0 <= margin_min <= 240):
        raise InputError("margin_min must be between 0 and 240 minutes")
    if return_after_min is not None and not (0 <= return_after_min <= 12 * 60):
        raise InputError("return_after_min must be between 0 and 720 minutes")
    o = resolve_endpoint(ctx, origin, "origin")
    d = resolve_endpoint(ctx, destination, "destination")
    when = ctx.planner._localize(when)
    trip = TripPlan(o, d, when, arrive_by, opts, None, lang=lang)

    if not d.sites:  # an address or a stop: plain door-to-door
        trip.plan = ctx.planner.plan(o.place, d.place, when, arrive_by=arrive_by, options=opts, **plan_extra)
    else:
        _plan_to_sites(ctx, trip, o.place, d, when, arrive_by, opts, margin_min, lang, plan_extra)
    if trip.plan is None or not trip.plan.itineraries:
        if not trip.notes:
            raise NoRouteError("no itinerary found at that time within the walking limit")
        return trip
    if return_after_min is not None:
        trip.return_block = _return_trip(ctx, trip, o.place, return_after_min, opts, lang, plan_extra)
    return trip


def _plan_to_sites(ctx, trip: TripPlan, origin: Place, d: Endpoint, when: dt.datetime, arrive_by: bool,
                   opts: PlanOptions, margin_min: int, lang: str, plan_extra: dict, retry: bool = True) -> None:
    """Best site (and its itineraries) among the candidates; fills trip.plan, trip.site, trip.opening.

    Depart-at ranks sites by the time the resident can be served (:func:`desk_time`: the arrival, or the
    opening later that day). Arrive-by needs the site open at the requested time; if no candidate is,
    the nearest open slot of the nearest site is proposed instead.
    """
    sites = _candidates(ctx, origin, d)
    if d.category and len(d.sites) > len(sites):
        trip.notes.append(f"{len(sites)} nearest of {len(d.sites)} sites compared" if lang == "en" else
                          f"comparaison des {len(sites)} sites les plus proches sur {len(d.sites)}")
    best = None  # (rank key, site, plan)
    for site in sites:
        if arrive_by:
            if _open_ok(site, when, 0) is False:
                continue
            plan = _plan(ctx, origin, _site_place(site), when, True, opts, **plan_extra)
            if plan is None:
                continue
            key = -max(it.departure for it in plan.itineraries).timestamp()
        else:
            plan = _plan(ctx, origin, _site_place(site), when, False, opts, **plan_extra)
            if plan is None:
                continue
            served = [(desk_time(site, it.arrival, margin_min), it) for it in plan.itineraries]
            served = [(t, it) for t, it in served if t is not None]
            if not served:
                continue
            plan.itineraries = [it for _, it in sorted(served, key=lambda p: (p[0], p[1].arrival))]
            key = min(t for t, _ in served).timestamp()
        if best is None or key < best[0]:
            best = (key, site, plan)
    if best is not None:
        _, site, plan = best
        trip.plan, trip.site = plan, site
        trip.destination = Endpoint(_site_place(site), [site], d.category, d.kind)
        at = when if arrive_by else plan.itineraries[0].arrival
        trip.opening = _opening_block(site, at, _open_ok(site, at, 0 if arrive_by else margin_min), lang)
        served = None if arrive_by else desk_time(site, at, margin_min)
        if served is not None and served > at:
            wait = int((served - at).total_seconds() // 60)
            trip.opening["served_at"] = served.isoformat()
            trip.opening["message"] = (
                f"arrival {_fmt(at)}, {site.name} opens at {_fmt(served)} (wait {wait} min)" if lang == "en" else
                f"arrivée {_fmt(at)}, {site.name} ouvre à {_fmt(served)} (attente {wait} min)")
        return
    site = sites[0] if sites else None
    if site is None or not retry:
        return
    trip.site = site
    trip.destination = Endpoint(_site_place(site), [site], d.category, d.kind)
    if site.opening_hours is None or not arrive_by:
        hours = site.opening_hours.describe(lang) if site.opening_hours else ""
        trip.opening = {"open_on_arrival": None, "next_open": None, "message": hours}
        trip.notes.append("no itinerary reaches the site while it is open that day" if lang == "en"
                          else "aucun itinéraire n'atteint le site pendant ses heures d'ouverture ce jour-là")
        if not arrive_by:
            _propose_next_days(ctx, trip, origin, d, when, opts, margin_min, lang, plan_extra)
        return
    trip.opening = _opening_block(site, when, False, lang)
    target = _nearest_open_time(site, when, margin_min)
    retry = _plan(ctx, origin, _site_place(site), target, True, opts, **plan_extra) if target else None
    if retry is not None and retry.itineraries:
        trip.plan = retry
        trip.notes.append(f"closed at {_fmt(when)}; proposed: arrive by {_fmt(target)} on {_weekday(target, 'en')}"
                          if lang == "en" else
                          f"fermé à {_fmt(when)} ; proposition : arriver pour {_fmt(target)} le {_weekday(target, 'fr')}")
        trip.opening["proposed_arrival"] = target.isoformat()


#: a depart-at request that finds nothing that day is retried on this many following days (from 05:00)
NEXT_DAYS = 3


def _propose_next_days(ctx, trip: TripPlan, origin: Place, d: Endpoint, when: dt.datetime, opts: PlanOptions,
                       margin_min: int, lang: str, plan_extra: dict) -> None:
    """Nothing reaches an open site on the requested day: offer the first option of the next days."""
    rng = ctx.planner.network.service_range()
    for days in range(1, NEXT_DAYS + 1):
        start = dt.datetime.combine(when.date() + dt.timedelta(days=days), dt.time(5, 0), tzinfo=when.tzinfo)
        if rng is None or start.date() > rng[1]:
            return
        probe = TripPlan(trip.origin, d, start, False, opts, None, lang=lang)
        _plan_to_sites(ctx, probe, origin, d, start, False, opts, margin_min, lang, plan_extra, retry=False)
        if probe.plan is not None and probe.plan.itineraries:
            first = probe.plan.itineraries[0]
            trip.plan, trip.site, trip.destination, trip.opening = probe.plan, probe.site, probe.destination, probe.opening
            trip.notes.append(f"proposed: leave on {_weekday(first.departure, 'en')} {first.departure:%d/%m} at "
                              f"{_fmt(first.departure)}" if lang == "en" else
                              f"proposition : partir le {_weekday(first.departure, 'fr')} {first.departure:%d/%m} "
                              f"à {_fmt(first.departure)}")
            return


def _nearest_open_time(site: ServiceSite, when: dt.datetime, margin_min: int) -> dt.datetime | None:
    """The arrive-by time nearest to ``when`` at which the site is open: the last moment of an earlier
    opening the same day (closing - margin) or the next opening (+ margin)."""
    margin = dt.timedelta(minutes=margin_min)
    options = []
    for start, end in site.opening_hours.intervals_on(when.date(), when.tzinfo):
        if end <= when and end - start > margin:
            options.append(end - margin)
    slot = site.opening_hours.next_open_interval(when)
    if slot is not None:
        options.append(slot[0] + margin)
    return min(options, key=lambda t: abs((t - when).total_seconds()), default=None)


def _opening_block(site: ServiceSite, at: dt.datetime, ok: bool | None, lang: str) -> dict:
    if ok is None:
        return {"open_on_arrival": None, "next_open": None,
                "message": "opening hours unknown" if lang == "en" else "horaires d'ouverture inconnus"}
    slot = site.opening_hours.next_open_interval(at)
    hours = site.opening_hours.describe(lang)
    if ok:
        msg = (f"open on arrival ({hours})" if lang == "en" else f"ouvert à l'arrivée ({hours})")
        return {"open_on_arrival": True, "next_open": None, "message": msg}
    nxt = slot[0] if slot else None
    when_txt = (f"{_weekday(nxt, lang)} {_fmt(nxt)}" if nxt else "")
    msg = (f"{site.name} is closed on {_weekday(at, 'en')} at {_fmt(at)}; next opening {when_txt} ({hours})"
           if lang == "en" else
           f"{site.name} est fermé le {_weekday(at, 'fr')} à {_fmt(at)} ; prochaine ouverture {when_txt} ({hours})")
    return {"open_on_arrival": False, "next_open": nxt.isoformat() if nxt else None, "message": msg}


def _return_trip(ctx, trip: TripPlan, home: Place, stay_min: int, opts: PlanOptions, lang: str,
                 plan_extra: dict) -> dict:
    """The way back: leave the site ``stay_min`` after arriving, home the same day; plus the last return."""
    site_place = trip.destination.place
    arrival = trip.itineraries[0].arrival
    leave = arrival + dt.timedelta(minutes=stay_min)
    end_of_day = dt.datetime.combine(arrival.date(), dt.time(23, 59), tzinfo=arrival.tzinfo)
    back = _plan(ctx, site_place, home, leave, False, opts, **plan_extra) if leave < end_of_day else None
    same_day = [it for it in (back.itineraries if back else []) if it.arrival <= end_of_day]
    last = _plan(ctx, site_place, home, end_of_day, True, opts, **plan_extra)
    last_departure = max((it.departure for it in last.itineraries), default=None) if last else None
    block: dict = {"leave_after": leave.isoformat(), "stay_min": stay_min,
                   "last_departure": last_departure.isoformat() if last_departure else None}
    if same_day:
        block["status"] = "ok"
        block["itineraries"] = [summarised(it) for it in same_day]
        block["message"] = (f"return possible, first option home at {_fmt(same_day[0].arrival)}" if lang == "en"
                            else f"retour possible, première arrivée à domicile à {_fmt(same_day[0].arrival)}")
    else:
        block["status"] = "none_same_day"
        block["itineraries"] = []
        block["message"] = ("no return home is possible the same day after the visit" if lang == "en"
                            else "aucun retour à domicile n'est possible le jour même après le rendez-vous")
    if last_departure is not None:
        block["message"] += (f"; last departure from the site {_fmt(last_departure)}" if lang == "en"
                             else f" ; dernier départ du site à {_fmt(last_departure)}")
    return block
