"""Door-to-service planning: resolve both ends, pick the best site of a category, respect opening hours,
plan the way back home, and say all of it truthfully (the day, the wait before opening, why this site).

:func:`plan_trip` is the Python API behind ``mobility plan --to "caf"`` and the web pages::

    ctx = load_context()
    trip = plan_trip(ctx, "12 rue de l'Église, Thérouanne", "caf", dt.datetime(2026, 12, 2, 9, 30),
                     arrive_by=True, return_after_min=60)
    trip.to_json()   # itineraries + "service", "opening", "return", "day_changed", "resolved" blocks

Rules (documented for operators):

* an end is, in this order: a (lat, lon) pair or "LAT,LON" (must lie in the territory), "stop:ID", a service
  site id ("svc-001"), a category ("caf", "mairie", "France services", "town hall"...: every site offering it),
  or free text resolved by the offline geocoder (a corrected typo is reported in ``resolved``);
* a category compares every site offering it whose status is known (a site recorded as historic or of
  unknown status is chosen only when named, or when the category has no other site: the answer says so),
  up to :data:`MAX_CANDIDATE_SITES`, the nearest first;
* the best site is the one where the resident is served earliest (depart-at) or that allows the latest
  departure while being served by the requested time (arrive-by); the answer gives the reason and the next
  candidates (``alternatives``);
* opening hours are evaluated at each itinerary's real arrival (``service_at_arrival``): open, opens later
  (with the wait), closes before the stay ends, or closed that day. An option that arrives before the
  opening says so, and the option arriving just after the opening is offered beside it;
* the day is explicit: every itinerary carries its date, and when the answer is for another day than asked
  (booking deadline passed, no service, site closed) ``day_changed`` says so with the reason. When nothing
  reaches the destination within the search horizon, the first option of the next
  :data:`NEXT_DAYS` days is given;
* round trip: leave the site ``return_after_min`` minutes after being served; the returns offered are the
  first one, the one with the least waiting and the last one of the day (``return.options``).
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mobility.deadline import check as check_deadline
from mobility.errors import InputError, NoRouteError, NotFoundError
from mobility.i18n import N_, Msg, PerLang, message
from mobility.geo import haversine_m
from mobility.loaders.services import ServiceSite, uncertain_status_kind
from mobility.domain.categories import category_label, match_category
from mobility.domain.dates import day_text, weekday_name
from mobility.planning.itinerary import LONG_WAIT_S, Itinerary, Place, duration_text
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
#: when nothing reaches the destination within the horizon, the next days tried for a first option
NEXT_DAYS = 7
#: searches at most made to find the option arriving just after the opening, and the returns between the
#: first and the last one (each search moves one departure later)
MAX_LATER_SEARCHES = 12
#: a booking deadline is compared with this "booked at" time to tell "booking closed" from "no service"
_BOOKING_FREE = dt.timedelta(days=60)

#: the opening states of a site at an arrival, whose sentence is "adv_<state>" in the catalogs
_STATE_KEYS = [N_("adv_open"), N_("adv_open_all_day"), N_("adv_opens_later"), N_("adv_closes_before_stay_end"),
               N_("adv_closed_that_day")]


def _say(lang: str, key: str, **fmt: Any) -> str:
    """The sentence ``key`` of the catalogs in ``lang`` (the advice sentences are the keys ``adv_*``)."""
    return message(key, lang, **fmt)


#: what a site's recorded ``status`` says, in the user's words: "adv_status_<kind>" (+ "_year" with a year)
_STATUS_KEYS = [N_("adv_status_historic"), N_("adv_status_historic_year"), N_("adv_status_unconfirmed"),
                N_("adv_status_unconfirmed_year"), N_("adv_status_unknown")]
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def _status_phrase(lang: str, status: str) -> str:
    """Why a site's activity is uncertain, from its recorded ``status`` (free text of the source, in English or
    French), said in ``lang``: its kind (:func:`~mobility.loaders.services.uncertain_status_kind`: a site only
    known from an old source, a project not confirmed open, or unknown) with, but for unknown, the latest year the
    text mentions. The text itself stays in the answer's ``service.status``."""
    kind = uncertain_status_kind(status) or "unknown"
    years = _YEAR.findall(status) if kind != "unknown" else []
    year = max(years) if years else None
    return _say(lang, f"adv_status_{kind}_year", year=year) if year else _say(lang, f"adv_status_{kind}")


def _fmt(t: dt.datetime) -> str:
    return t.strftime("%H:%M")


@dataclass
class Endpoint:
    """A resolved end of a trip: a place, and the service sites it stands for (empty for an address).

    ``corrected_from`` is the text the user typed when the geocoder had to correct it (a typo)."""

    place: Place
    sites: list[ServiceSite] = field(default_factory=list)
    category: str | None = None
    kind: str = "point"
    corrected_from: str | None = None
    #: sites of the category left out because their current activity is not confirmed
    uncertain: list[ServiceSite] = field(default_factory=list)

    def resolved_json(self) -> dict:
        out: dict[str, Any] = {"label": self.place.name, "lat": round(self.place.lat, 6),
                               "lon": round(self.place.lon, 6), "kind": self.kind}
        if self.category:
            out["category"] = self.category
        if self.corrected_from is not None:
            out["corrected_from"] = self.corrected_from
        return out


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
    margin_min: int = DEFAULT_MARGIN_MIN
    stay_min: int | None = None
    #: None, or {"reason": "booking_closed"|"no_service"|"site_closed", "message"}
    day_changed: dict | None = None
    #: why the site was chosen among several ({"reason", "message"}), and the next candidates
    choice: dict | None = None
    alternatives: list[dict] = field(default_factory=list)
    #: the destination as requested (a category, before a site was chosen); ``destination`` when None
    requested: Endpoint | None = None
    #: when the request was made (its ``booked_at``, else now): an option leaving before it is gone
    asked_at: dt.datetime | None = None

    @property
    def itineraries(self) -> list[Itinerary]:
        return self.plan.itineraries if self.plan else []

    def departed(self, it: Itinerary) -> bool:
        """Whether ``it`` leaves before the request was made (the minute of the request counts as now: the web
        rounds "now" up to the next minute)."""
        return self.asked_at is not None and it.departure < self.asked_at - dt.timedelta(minutes=1)

    @property
    def date(self) -> dt.date | None:
        """The travel date: the departure day of the first itinerary."""
        return self.itineraries[0].departure.date() if self.itineraries else None

    def itinerary_json(self, it: Itinerary) -> dict:
        """An outbound itinerary with its waits and, for a service, the opening state at its arrival."""
        out = summarised(it)
        if self.departed(it):
            out["departed"] = True
        if self.site is not None:
            out["service_at_arrival"] = service_state(self.site, it.arrival, self.stay_min, self.lang)
        return out

    def to_json(self) -> dict:
        date = self.date
        return {
            "request": {"from": self.origin.place.to_json(), "to": self.destination.place.to_json(),
                        ("arrive" if self.arrive_by else "depart"): self.when.isoformat(),
                        "options": dict(self.options.__dict__)},
            "date": date.isoformat() if date else None,
            "requested_date": self.when.date().isoformat(),
            "day_changed": self.day_changed,
            "resolved": {"from": self.origin.resolved_json(), "to": self.destination.resolved_json()},
            "origin": self.origin.place.to_json(),
            "destination": self.destination.place.to_json(),
            "service": site_json(self.site, self.lang) if self.site else None,
            "opening": self.opening,
            "choice": self.choice,
            "alternatives": self.alternatives,
            "itineraries": [self.itinerary_json(it) for it in self.itineraries],
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
        "status_confirmed": not site.status_uncertain,
    }


def long_waits(it: Itinerary) -> list[dict]:
    """The waits of at least :data:`~mobility.planning.itinerary.LONG_WAIT_S` at one place."""
    return [{"at": it.legs[i].origin.name, "minutes": int(secs // 60)} for i, secs in it.waits(LONG_WAIT_S).items()]


def summarised(it: Itinerary) -> dict:
    """Itinerary JSON plus what an operator reads first: TAD bookings needed, long waits."""
    out = it.to_json()
    out["tad_bookings"] = sum(1 for leg in it.legs if leg.booking)
    out["long_waits"] = long_waits(it)
    return out


def service_state(site: ServiceSite, arrival: dt.datetime, stay_min: int | None = None,
                  lang: str | None = None) -> dict:
    """The opening state of ``site`` at ``arrival`` (and through a stay of ``stay_min`` minutes).

    ``state`` is ``open``, ``opens_later`` (the resident waits ``wait_min`` minutes for ``opens_at``),
    ``closes_before_stay_end``, ``closed_that_day`` or ``unknown`` (no hours); ``open`` is whether the site
    is open at the arrival itself, ``closes_at`` when the open interval in question ends (null when open
    round the clock). Times are HH:MM of the arrival's time zone.
    """
    hours = site.opening_hours
    out: dict[str, Any] = {"state": "unknown", "open": None, "opens_at": None, "closes_at": None, "wait_min": 0}
    if hours is None:
        return _with_message(out, site, arrival, stay_min, lang)
    is_open = hours.is_open(arrival)
    slot = hours.next_open_interval(arrival)
    out["open"] = is_open
    if slot is not None and (is_open or slot[0].date() == arrival.date()):
        start, end = slot
        served = max(start, arrival)
        if end - arrival < dt.timedelta(hours=24):
            out["closes_at"] = _fmt(end)
        if not is_open:
            out["opens_at"] = _fmt(start)
            out["wait_min"] = int(math.ceil((start - arrival).total_seconds() / 60))
        out["state"] = "open" if is_open else "opens_later"
        if stay_min is not None and served + dt.timedelta(minutes=stay_min) > end:
            out["state"] = "closes_before_stay_end"
    else:
        out["state"] = "closed_that_day"
    return _with_message(out, site, arrival, stay_min, lang)


def _with_message(state: dict, site: ServiceSite, arrival: dt.datetime, stay_min: int | None,
                  lang: str | None) -> dict:
    if lang is None:
        return state
    key = state["state"]
    if key == "open" and state["closes_at"] is None:
        key = "open_all_day"
    wait = duration_text(state["wait_min"] * 60)
    return {**state, "message": _say(lang, "adv_" + key, site=site.name, hm=_fmt(arrival), closes=state["closes_at"],
                                     opens=state["opens_at"], wait=wait, stay=stay_min)}


# ------------------------------------------------------------------------------------------- endpoints

def resolve_endpoint(ctx, spec: Any, role: str) -> Endpoint:
    """Turn what the user typed into an :class:`Endpoint` (see the module docstring for the order)."""
    if isinstance(spec, tuple):
        lat, lon = float(spec[0]), float(spec[1])
        return _point(ctx, lat, lon, role)
    text = str(spec or "").strip()
    if not text:
        raise InputError("err_origin_empty" if role == "origin" else "err_destination_empty")
    if len(text) > 200:
        raise InputError("err_end_too_long", role=Msg("role_" + role), n=200)
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
            raise NotFoundError("err_unknown_site", id=text) from None
        site = None
    if site is not None:
        return Endpoint(_site_place(site), [site], kind="service")
    category = match_category(text)
    if category is not None:
        sites = ctx.catalogue.by_category(category)
        if not sites:
            raise NotFoundError("err_no_site_of_category", key=category,
                                label=PerLang(lambda lang, c=category: category_label(c, lang)))
        known = [s for s in sites if not s.status_uncertain]
        uncertain = [s for s in sites if s.status_uncertain] if known else []
        return Endpoint(_site_place((known or sites)[0]), known or sites, category, kind="category",
                        uncertain=uncertain)
    hit = ctx.geocoder.resolve(text)
    corrected = text if hit.score < 1.0 else None  # the geocoder repaired a typo: say what it understood
    if hit.kind == "service" and hit.id:
        try:
            site = ctx.catalogue.get(hit.id)
            return Endpoint(_site_place(site), [site], kind="service", corrected_from=corrected)
        except NotFoundError:
            pass
    return Endpoint(Place(hit.label, hit.lat, hit.lon), kind=hit.kind, corrected_from=corrected)


def _point(ctx, lat: float, lon: float, role: str) -> Endpoint:
    if ctx.communes is not None and not ctx.geocoder.contains(lat, lon):
        raise InputError("err_end_outside_territory", role=Msg("role_" + role), lat=f"{lat:.5f}", lon=f"{lon:.5f}")
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


def served_lower_bound(site: ServiceSite, earliest: dt.datetime, latest: dt.datetime,
                       margin_min: int) -> dt.datetime | None:
    """A time before which no arrival in [``earliest``, ``latest``] is served (:func:`desk_time`); None when no
    such arrival is served at all. Unknown hours: ``earliest`` (they serve at once).

    Why it holds: an arrival ``a`` is served either (A) at ``a``, inside an open interval (s, e) with s <= a and
    e - a >= margin (``is_open_during``), or (B) at max(S, a), where (S, E) is ``next_open_interval(a)``, S on
    a's date and E - max(S, a) >= margin. Each interval lies within a merged interval (s', e') of the days
    earliest.date() - 1 .. latest.date() + 1: (A)'s within a.date() - 1 .. a.date() + 1 as the margin is
    under a day; (B)'s may run past the last day, but then e' is more than a day after S, longer than any
    margin. (s', e') starts before the midnight ending latest's date (s' <= a in (A), s' <= S in (B)), and a
    visit fits from max(s', earliest) <= the served time: :meth:`OpeningHours.earliest_visit` finds it or an
    earlier one. An arrival served after ``latest`` on its own date counts: waiting on site is allowed.
    """
    hours = site.opening_hours
    if hours is None:
        return earliest
    if earliest > latest:
        return None
    last_midnight = dt.datetime.combine(latest.date() + dt.timedelta(days=1), dt.time(0), tzinfo=latest.tzinfo)
    return hours.earliest_visit(earliest, last_midnight, margin_min)


def _candidates(ctx, origin: Place, dest: Endpoint) -> list[ServiceSite]:
    sites = dest.sites or []
    if len(sites) <= MAX_CANDIDATE_SITES:
        return list(sites)
    return _nearest_first(origin, sites)[:MAX_CANDIDATE_SITES]


def _nearest_first(origin: Place, sites: list[ServiceSite]) -> list[ServiceSite]:
    d = haversine_m(origin.lat, origin.lon, np.array([s.lat for s in sites]), np.array([s.lon for s in sites]))
    return [sites[i] for i in np.argsort(d, kind="stable")]


def _plan(ctx, origin: Place, dest: Place, when: dt.datetime, arrive_by: bool, opts: PlanOptions,
          **extra) -> PlanResult | None:
    try:
        return ctx.planner.plan(origin, dest, when, arrive_by=arrive_by, options=opts, **extra)
    except NoRouteError:
        return None


def plan_trip(ctx, origin: Any, destination: Any, when: dt.datetime, *, arrive_by: bool = False,
              options: PlanOptions | None = None, return_after_min: int | None = None,
              margin_min: int = DEFAULT_MARGIN_MIN, lang: str = "fr", **plan_extra) -> TripPlan:
    """Plan from ``origin`` to ``destination`` (see module docstring), optionally with the way back.

    ``plan_extra`` is passed on to :meth:`Planner.plan` (e.g. ``booked_at`` for on-demand transport).
    Raises InputError / NotFoundError for bad ends, NoRouteError when no itinerary exists on the requested
    day nor the :data:`NEXT_DAYS` following ones between two addresses; for a service, returns a TripPlan
    with no itinerary (and notes saying why) rather than raising.
    """
    opts = (options or PlanOptions()).validated()
    if not (0 <= margin_min <= 240):
        raise InputError("err_option_range", name="margin_min", value=repr(margin_min), lo=0, hi=240, unit=" min")
    if return_after_min is not None and not (0 <= return_after_min <= 12 * 60):
        raise InputError("err_option_range", name="return_after_min", value=repr(return_after_min), lo=0, hi=720,
                         unit=" min")
    o = resolve_endpoint(ctx, origin, "origin")
    d = resolve_endpoint(ctx, destination, "destination")
    when = ctx.planner.localize(when)
    trip = TripPlan(o, d, when, arrive_by, opts, None, lang=lang, margin_min=margin_min,
                    stay_min=return_after_min, requested=d)
    if d.uncertain:
        trip.notes.append(_say(lang, "adv_uncertain_skipped", n=len(d.uncertain),
                               names=", ".join(s.name for s in d.uncertain)))

    if not d.sites:  # an address or a stop: plain door-to-door
        trip.plan = _plan(ctx, o.place, d.place, when, arrive_by, opts, **plan_extra)
    else:
        _plan_to_sites(ctx, trip, when, plan_extra)
    if not trip.itineraries:
        _first_option_of_next_days(ctx, trip, plan_extra)
    if not trip.itineraries:
        if not d.sites:
            raise NoRouteError("err_no_itinerary_days", n=NEXT_DAYS,
                               day=PerLang(lambda lang, d=when.date(): day_text(d, lang)))
        return trip
    first = trip.itineraries[0]
    # an arrive-by answer that arrives on the requested day (having left the evening before) is that day's
    if trip.day_changed is None and (first.arrival if arrive_by else first.departure).date() != when.date():
        trip.day_changed = {"reason": "no_service", "message": _day_message(trip, "no_service", first)}
    if trip.site is not None and trip.site.status_uncertain:
        trip.notes.append(_say(lang, "adv_uncertain_only", site=trip.site.name,
                                status=_status_phrase(lang, trip.site.status)))
    _say_departed(ctx, trip, plan_extra.get("booked_at"))
    if return_after_min is not None:
        trip.return_block = _return_trip(ctx, trip, o.place, return_after_min, plan_extra)
    return trip


def _say_departed(ctx, trip: TripPlan, asked_at: dt.datetime | None) -> None:
    """Records when the request was made (``asked_at``, its ``booked_at``, else now) and names in a note the
    options that leave before it (each is also marked ``departed``): an arrive-by request for later today can
    be met only by a bus that has gone; such an option stays in the answer (it is the latest that arrives in
    time) but is never left unsaid."""
    tz = ctx.planner.tz
    ref = trip.asked_at = ctx.planner.localize(asked_at) if asked_at is not None else dt.datetime.now(tz)
    gone = [it.departure for it in trip.itineraries if trip.departed(it)]
    if gone:
        at = _fmt(ref) if ref.date() == trip.when.date() else f"{day_text(ref.date(), trip.lang)} {_fmt(ref)}"
        trip.notes.append(_say(trip.lang, "adv_departed", at=at,
                               times=", ".join(_fmt(t.astimezone(tz)) for t in gone)))


def _rank_sites(ctx, trip: TripPlan, sites: list[ServiceSite], when: dt.datetime, opts: PlanOptions,
                plan_extra: dict) -> tuple[list[tuple[float, ServiceSite, PlanResult, dt.datetime]], dict]:
    """Each site that can be reached, best first: (rank key, site, plan, served-at of its first option);
    and {site id: "closed" | "unreached"} for the others.

    Depart-at ranks by the time the resident can be served (:func:`desk_time`: the arrival, or the opening
    later that day). Arrive-by keeps the options served by the requested time (an arrival before the
    opening counts, served at the opening) and ranks by the latest departure.
    """
    origin, margin = trip.origin.place, trip.margin_min
    ranked, failed = [], {}
    order = ((i, -math.inf) for i in range(len(sites)))
    bounded = len(sites) > KEEP_RANKED
    if bounded:
        # the nearest site first (the answer always says why it was not chosen), then by bound of the rank key
        near = sites.index(_nearest_first(origin, sites)[0])
        ranks = (_by_departure_bound(ctx, trip, sites, when, opts, plan_extra) if trip.arrive_by
                 else _by_served_bound(ctx, trip, sites, when, opts, plan_extra))
        if ranks is None:
            bounded = False
        else:
            order = itertools.chain([(near, -math.inf)], ((i, b) for i, b in ranks if i != near))
    unreachable: tuple[float, set] | None = None  # arrive-by: (departure, sites nothing leaving then reaches by when)
    planned_since = 0
    for i, bound in order:
        site = sites[i]
        check_deadline()  # a category plans every site: stop when nobody waits for the answer any more
        if bounded and len(ranked) >= KEEP_RANKED:
            third_at = sorted(r[:2] for r in ranked)[KEEP_RANKED - 1]  # (rank key, index) of the third best
            third = third_at[0]
            # its rank key is no better than its bound, and the sites come in order of (bound, index), the order
            # ties are ranked in: past the third best, it and the sites after it cannot be shown
            if (bound, i) > third_at:
                break
            if trip.arrive_by and (unreachable is None or (planned_since >= 8 and -third > unreachable[0])):
                unreachable = (-third, _unreached_leaving_at(ctx, trip, sites, -third, when, opts, plan_extra))
                planned_since = 0
            if unreachable is not None and i in unreachable[1]:
                continue  # everything leaving when the third best does arrives too late: it leaves earlier
        planned_since += 1
        hours = site.opening_hours
        if bounded and not trip.arrive_by and bound == math.inf and hours is not None:
            # _by_served_bound proved that no option serves the resident: what planning it would conclude
            failed[site.id] = "unreached"
            continue
        if trip.arrive_by and hours is not None and not any(
                start <= when for start, _ in hours.intervals_on(when.date(), when.tzinfo)):
            failed[site.id] = "closed"  # no opening by the requested time that day: nothing to plan
            continue
        plan = _plan(ctx, origin, _site_place(site), when, trip.arrive_by, opts, **plan_extra)
        served = [] if plan is None else [(desk_time(site, it.arrival, margin), it) for it in plan.itineraries]
        served = [(t, it) for t, it in served if t is not None and (not trip.arrive_by or t <= when)]
        if not served:
            failed[site.id] = "unreached"
            continue
        if trip.arrive_by:
            served.sort(key=lambda p: -p[1].departure.timestamp())
            key = -served[0][1].departure.timestamp()
        else:
            served.sort(key=lambda p: (p[0], p[1].arrival))
            key = served[0][0].timestamp()
        plan.itineraries = [it for _, it in served]
        ranked.append((key, i, site, plan, served[0][0]))
    ranked.sort(key=lambda r: (r[0], r[1]))  # ties: in the order of the sites, as planning them all in turn
    return [(key, site, plan, served) for key, _, site, plan, served in ranked], failed


#: the sites a category answer shows: the chosen one and two alternatives (the nearest site is always planned)
KEEP_RANKED = 3


def _unreached_leaving_at(ctx, trip: TripPlan, sites: list[ServiceSite], departure_s: float, when: dt.datetime,
                          opts: PlanOptions, plan_extra: dict) -> set:
    """Arrive-by: the sites that nothing leaving the origin at ``departure_s`` (POSIX) or later reaches by
    ``when`` (their arrival bound from that departure is later): each of their options leaves earlier."""
    leave = dt.datetime.fromtimestamp(departure_s, when.tzinfo)
    if leave.date() != when.date():
        return set()
    arrivals = ctx.planner.arrival_lower_bounds(trip.origin.place, [_site_place(s) for s in sites], leave,
                                                options=opts, booked_at=plan_extra.get("booked_at"))
    return {i for i, a in enumerate(arrivals) if a > when}


def _by_departure_bound(ctx, trip: TripPlan, sites: list[ServiceSite], when: dt.datetime, opts: PlanOptions,
                        plan_extra: dict):
    """Arrive-by: the sites as ``(index, bound)`` in increasing order of a bound of their rank key (minus the
    latest departure, POSIX seconds): nothing arriving by ``when`` leaves after ``when`` minus the least
    duration of :meth:`Planner.duration_lower_bounds`. None when no bound is known (all sites are planned)."""
    durations = ctx.planner.duration_lower_bounds(trip.origin.place, [_site_place(s) for s in sites], when,
                                                  options=opts, booked_at=plan_extra.get("booked_at"))
    if durations is None:
        return None
    t = when.timestamp()
    keys = [-(t - d) for d in durations]
    return iter(sorted(((i, k) for i, k in enumerate(keys)), key=lambda p: (p[1], p[0])))


def _by_served_bound(ctx, trip: TripPlan, sites: list[ServiceSite], when: dt.datetime, opts: PlanOptions,
                     plan_extra: dict):
    """The sites as ``(index, bound)`` in increasing order of a time (POSIX seconds) before which each
    cannot serve the resident (depart-at): :func:`served_lower_bound` of the arrivals from the planner's arrival
    bound (:meth:`Planner.arrival_lower_bounds`) to the end of the search horizon (``plan`` drops the options
    arriving later). inf: no itinerary ``plan`` can give serves the resident (nothing reaches the site, or its
    hours serve no arrival in that span), so planning it would mark it "unreached".

    The opening is looked up lazily: a site's served bound is never before its arrival bound, so the sites
    are taken in order of arrival bound and a served bound is computed only when the site could come next.
    """
    horizon_end = when + dt.timedelta(hours=opts.max_hours)  # the same sum as plan()'s filter
    # a site closed every day from the request's to the horizon's serves no arrival (served_lower_bound needs
    # an interval starting before the midnight after the horizon and ending after the arrival: one of its
    # spans ends after the arrival on a day from the arrival's to the horizon's, the one ending at that
    # midnight if it runs into the next day): the planner's bounds are asked for the others only, if any
    shut = [s.opening_hours is not None and not s.opening_hours.open_on_some_day(when.date(), horizon_end.date())
            for s in sites]
    asked = [i for i in range(len(sites)) if not shut[i]]
    found = ctx.planner.arrival_lower_bounds(trip.origin.place, [_site_place(sites[i]) for i in asked], when,
                                             options=opts, booked_at=plan_extra.get("booked_at")) if asked else []
    arrivals: list[dt.datetime | None] = [None] * len(sites)
    for i, a in zip(asked, found):
        arrivals[i] = a
    arr_s = [math.inf if a is None or a.year == dt.MAXYEAR else a.timestamp() for a in arrivals]
    midnight = dt.datetime.combine(when.date() + dt.timedelta(days=1), dt.time(0), tzinfo=when.tzinfo)
    late_test = None

    def arrives_after_midnight(i: int) -> bool:
        nonlocal late_test
        if late_test is None:  # asked once, for the sites that need it
            late_test = ctx.planner.arrivals_between(when, midnight, horizon_end, options=opts)
        return late_test(_site_place(sites[i]))

    by_arrival = sorted(range(len(sites)), key=lambda i: (arr_s[i], i))
    ready: list[tuple[float, int]] = []
    nxt = 0
    while nxt < len(by_arrival) or ready:
        while nxt < len(by_arrival) and (not ready or arr_s[by_arrival[nxt]] <= ready[0][0]):
            i = by_arrival[nxt]
            nxt += 1
            bound = arr_s[i]
            if math.isfinite(bound):
                served = served_lower_bound(sites[i], arrivals[i], horizon_end, trip.margin_min)
                if served is not None and served >= midnight and not arrives_after_midnight(i):
                    # every option arrives before midnight, and would be served that day, before `served`:
                    # none is served
                    served = None
                bound = math.inf if served is None else served.timestamp()
            heapq.heappush(ready, (bound, i))
        bound, i = heapq.heappop(ready)
        yield i, bound


def _plan_to_sites(ctx, trip: TripPlan, when: dt.datetime, plan_extra: dict, fallback: bool = True) -> None:
    """Best site (and its itineraries) among the candidates; fills trip.plan, site, opening, choice and
    alternatives. Arrive-by with no site reachable in time: the nearest open slot of the nearest site."""
    lang, d, opts = trip.lang, trip.destination, trip.options
    origin = trip.origin.place
    sites = _candidates(ctx, origin, d)
    if d.category and len(d.sites) > len(sites):
        trip.notes.append(_say(lang, "adv_compared", n=len(sites), total=len(d.sites)))
    ranked, failed = _rank_sites(ctx, trip, sites, when, opts, plan_extra)
    if ranked:
        _, site, plan, served = ranked[0]
        _choose(trip, site, plan)
        if d.category:
            _explain_choice(trip, ranked, failed, sites)
        trip.opening = _opening_block(site, plan.itineraries[0].arrival, trip.margin_min, lang)
        if served > plan.itineraries[0].arrival:
            trip.opening["served_at"] = served.isoformat()
        _offer_arrival_after_opening(ctx, trip, plan_extra)
        return
    if not sites or not fallback:
        return
    site = _nearest_first(origin, sites)[0]
    _choose(trip, site, None)
    if site.opening_hours is None or not trip.arrive_by:
        hours = site.opening_hours.describe(lang) if site.opening_hours else ""
        trip.opening = {"open_on_arrival": None, "next_open": None, "message": hours}
        trip.notes.append(_say(lang, "adv_no_open_reach"))
        return
    trip.opening = _closed_block(site, when, lang)
    target = _nearest_open_time(site, when, trip.margin_min)
    retry = _plan(ctx, origin, _site_place(site), target, True, opts, **plan_extra) if target else None
    if retry is not None and retry.itineraries:
        trip.plan = retry
        trip.notes.append(_say(lang, "adv_proposed", hm=_fmt(when), target=_fmt(target),
                               weekday=weekday_name(target, lang)))
        trip.opening["proposed_arrival"] = target.isoformat()
        if len(sites) > 1:
            trip.choice = {"reason": "nearest_open_slot", "message": _say(lang, "adv_choice_proposed", site=site.name)}
        if target.date() != when.date():
            trip.day_changed = {"reason": "site_closed",
                                "message": _day_message(trip, "site_closed", retry.itineraries[0])}


def _choose(trip: TripPlan, site: ServiceSite, plan: PlanResult | None) -> None:
    d = trip.destination
    trip.plan, trip.site = plan, site
    trip.destination = Endpoint(_site_place(site), [site], d.category, d.kind, d.corrected_from, d.uncertain)


def _explain_choice(trip: TripPlan, ranked: list, failed: dict, sites: list[ServiceSite]) -> None:
    """Why the first of ``ranked`` was chosen, and up to two alternatives: the next ranked site, and the
    nearest site when it was not chosen (with why), else the one after."""
    lang = trip.lang
    _, site, plan, served = ranked[0]
    first = plan.itineraries[0]
    if len(sites) == 1:
        trip.choice = {"reason": "only_site", "message": _say(lang, "adv_choice_only", site=site.name)}
    elif trip.arrive_by:
        trip.choice = {"reason": "latest_departure",
                       "message": _say(lang, "adv_choice_latest", site=site.name, hm=_fmt(first.departure),
                                       n=len(sites))}
    else:
        trip.choice = {"reason": "earliest_served",
                       "message": _say(lang, "adv_choice_earliest", site=site.name, hm=_fmt(served), n=len(sites))}

    def ranked_alternative(other: ServiceSite, other_plan: PlanResult, other_served: dt.datetime) -> dict:
        it = other_plan.itineraries[0]
        if trip.arrive_by:
            delta = duration_text((first.departure - it.departure).total_seconds())
            reason = _say(lang, "adv_alt_earlier", hm=_fmt(it.departure), delta=delta)
        else:
            delta = duration_text((other_served - served).total_seconds())
            reason = _say(lang, "adv_alt_later", hm=_fmt(other_served), delta=delta)
        return {"site_id": other.id, "name": other.name, "arrival": it.arrival.isoformat(), "reason": reason}

    alternatives = [ranked_alternative(o, p, t) for _, o, p, t in ranked[1:3]]
    # the nearest site, when not chosen, is the one the resident asks about: always say why not
    nearest = _nearest_first(trip.origin.place, sites)[0]
    if nearest.id != site.id and all(a["site_id"] != nearest.id for a in alternatives):
        entry = next((ranked_alternative(o, p, t) for _, o, p, t in ranked if o.id == nearest.id), None)
        if entry is None:
            hours = nearest.opening_hours.describe(lang) if nearest.opening_hours else ""
            reason = (_say(lang, "adv_alt_closed", hours=hours) if failed.get(nearest.id) == "closed"
                      else _say(lang, "adv_alt_unreached"))
            entry = {"site_id": nearest.id, "name": nearest.name, "arrival": None, "reason": reason}
        alternatives = alternatives[:1] + [entry]
    trip.alternatives = alternatives


def _offer_arrival_after_opening(ctx, trip: TripPlan, plan_extra: dict) -> None:
    """The first option waits outside a closed door: offer beside it the one arriving just after opening."""
    site, first = trip.site, trip.itineraries[0]
    state = service_state(site, first.arrival)
    if state["state"] != "opens_later":
        return
    opening = dt.datetime.combine(first.arrival.date(), dt.time.fromisoformat(state["opens_at"]),
                                  tzinfo=first.arrival.tzinfo)
    place = trip.destination.place
    t = first.departure + dt.timedelta(minutes=1)
    for _ in range(MAX_LATER_SEARCHES):
        plan = _plan(ctx, trip.origin.place, place, t, False, trip.options, **plan_extra)
        if plan is None:
            return
        after = [it for it in plan.itineraries
                 if it.arrival >= opening and desk_time(site, it.arrival, trip.margin_min) == it.arrival]
        if after:
            best = min(after, key=lambda it: (it.arrival, -it.departure.timestamp()))
            if best.arrival.date() == opening.date():
                best.tag = "after_opening"
                trip.plan.itineraries.append(best)
                msg = _say(trip.lang, "adv_after_opening", hm=_fmt(best.arrival))
                if trip.arrive_by and best.arrival > trip.when:
                    msg += _say(trip.lang, "adv_after_requested")
                trip.notes.append(msg)
            return
        earliest = min(plan.itineraries, key=lambda it: it.arrival)
        if earliest.departure - t < dt.timedelta(minutes=1):
            # it leaves as soon as asked (an on-demand ride, a walk): leaving later arrives as much later
            t += max(opening - earliest.arrival, dt.timedelta(minutes=1))
        else:
            t = earliest.departure + dt.timedelta(minutes=1)


def _first_option_of_next_days(ctx, trip: TripPlan, plan_extra: dict) -> None:
    """Nothing on the requested day: the first option of the next :data:`NEXT_DAYS` days, with the reason.

    Depart-at tries each day from midnight over 24 h; arrive-by keeps the requested time of day."""
    rng = ctx.planner.network.service_range()
    when = trip.when
    reason = _why_not_that_day(ctx, trip, plan_extra)
    day_opts = trip.options if trip.arrive_by else replace(trip.options, max_hours=24.0)
    for days in range(1, NEXT_DAYS + 1):
        day = when.date() + dt.timedelta(days=days)
        if rng is None or day > rng[1]:
            return
        start = dt.datetime.combine(day, when.time() if trip.arrive_by else dt.time(0, 0), tzinfo=when.tzinfo)
        if trip.requested.sites:
            probe = replace(trip, when=start, plan=None, site=None, opening=None, notes=[], choice=None,
                            alternatives=[], options=day_opts, destination=trip.requested)
            _plan_to_sites(ctx, probe, start, plan_extra, fallback=False)
            if not probe.itineraries:
                continue
            for name in ("plan", "site", "destination", "opening", "choice", "alternatives"):
                setattr(trip, name, getattr(probe, name))
            trip.notes.extend(n for n in probe.notes if n not in trip.notes)
        else:
            plan = _plan(ctx, trip.origin.place, trip.destination.place, start, trip.arrive_by, day_opts,
                         **plan_extra)
            if plan is None:
                continue
            trip.plan = plan
        trip.plan.options = trip.options
        for it in trip.plan.itineraries:
            it.tag = it.tag or "next_day"
        trip.day_changed = {"reason": reason, "message": _day_message(trip, reason, trip.itineraries[0])}
        # the day change says why nothing ran on the requested day: no second, vaguer note about it
        trip.notes = [n for n in trip.notes if n != _say(trip.lang, "adv_no_open_reach")]
        return


def _why_not_that_day(ctx, trip: TripPlan, plan_extra: dict) -> str:
    """site_closed (every candidate closed all day), booking_closed (something would have run had it been
    booked in time) or no_service."""
    dest = trip.requested
    day = trip.when.date()
    sites = dest.sites
    if sites and all(s.opening_hours is not None and not s.opening_hours.intervals_on(day, trip.when.tzinfo)
                     for s in sites):
        return "site_closed"
    flex = ctx.planner.network.flex
    if flex or flex.rules:  # on-demand rides or must-book runs: would booking in time have helped?
        early = {**plan_extra, "booked_at": trip.when - _BOOKING_FREE}
        if sites:
            probe = replace(trip, plan=None, site=None, opening=None, notes=[], choice=None, alternatives=[],
                            destination=dest)
            _plan_to_sites(ctx, probe, trip.when, early, fallback=False)
            found = bool(probe.itineraries)
        else:
            found = _plan(ctx, trip.origin.place, dest.place, trip.when, trip.arrive_by, trip.options,
                          **early) is not None
        if found:
            return "booking_closed"
    return "no_service"


def _day_message(trip: TripPlan, reason: str, first: Itinerary) -> str:
    lang = trip.lang
    asked, day = day_text(trip.when.date(), lang), day_text(first.departure.date(), lang)
    hm = _fmt(first.departure)
    if reason == "booking_closed":
        return _say(lang, "adv_day_booking_closed", asked=asked, day=day, hm=hm)
    if reason == "site_closed":
        name = trip.site.name if trip.site else ""
        return _say(lang, "adv_day_site_closed", site=name, asked=asked, day=day, hm=hm)
    after = "" if trip.arrive_by else _say(lang, "adv_day_no_service_after", hm=_fmt(trip.when))
    return _say(lang, "adv_day_no_service", asked=asked, after=after, day=day, hm=hm)


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


def _opening_block(site: ServiceSite, arrival: dt.datetime, margin_min: int, lang: str) -> dict:
    """The opening state at the first option's real arrival (``open_on_arrival``, ``message``)."""
    if site.opening_hours is None:
        return {"open_on_arrival": None, "next_open": None, "message": _say(lang, "adv_unknown", site=site.name)}
    state = service_state(site, arrival, None, lang)
    slot = site.opening_hours.next_open_interval(arrival)
    return {"open_on_arrival": bool(state["open"]), "state": state["state"],
            "next_open": None if state["open"] or slot is None else slot[0].isoformat(),
            "message": f"{state['message']} ({site.opening_hours.describe(lang)})"}


def _closed_block(site: ServiceSite, when: dt.datetime, lang: str) -> dict:
    """The site is closed at the requested arrive-by time."""
    slot = site.opening_hours.next_open_interval(when)
    nxt = slot[0] if slot else None
    msg = _say(lang, "adv_closed_at", site=site.name, weekday=weekday_name(when, lang), hm=_fmt(when),
               next=f"{weekday_name(nxt, lang)} {_fmt(nxt)}" if nxt else "", hours=site.opening_hours.describe(lang))
    return {"open_on_arrival": False, "state": "closed", "next_open": nxt.isoformat() if nxt else None,
            "message": msg}


# ------------------------------------------------------------------------------------------- the way back

def _return_trip(ctx, trip: TripPlan, home: Place, stay_min: int, plan_extra: dict) -> dict:
    """The way back, leaving ``stay_min`` after being served (after the arrival when the site opens later):
    the first return, the one with the least waiting and the last one of the day, when they differ."""
    lang, opts = trip.lang, trip.options
    site_place = trip.destination.place
    first_out = trip.itineraries[0]
    served = desk_time(trip.site, first_out.arrival, trip.margin_min) if trip.site else None
    leave = (served or first_out.arrival) + dt.timedelta(minutes=stay_min)
    end_of_day = dt.datetime.combine(first_out.arrival.date(), dt.time(23, 59), tzinfo=first_out.arrival.tzinfo)

    def same_day(plan: PlanResult | None) -> list[Itinerary]:
        return [it for it in (plan.itineraries if plan else []) if leave <= it.departure and it.arrival <= end_of_day]

    first_back = same_day(_plan(ctx, site_place, home, leave, False, opts, **plan_extra)) if leave < end_of_day else []
    latest_plan = _plan(ctx, site_place, home, end_of_day, True, opts, **plan_extra)
    last = max((it for it in same_day(latest_plan) if it.rides), key=lambda it: (it.departure, -it.arrival.timestamp()),
               default=None)  # walking home can be done at any time: no "last departure" to give
    if not first_back and last is None:
        # say when the last return of the day left, although it is too early for this stay
        latest = max((it.departure for it in latest_plan.itineraries), default=None) if latest_plan else None
        message = _say(lang, "adv_return_none") + (_say(lang, "adv_return_last", hm=_fmt(latest)) if latest else "")
        return {"leave_after": leave.isoformat(), "stay_min": stay_min, "status": "none_same_day",
                "last_departure": latest.isoformat() if latest else None, "itineraries": [], "options": [],
                "message": message}
    returns = list(first_back) + ([last] if last else [])
    returns += _returns_between(ctx, site_place, home, returns, last, opts, plan_extra, same_day)
    first = min(returns, key=lambda it: (it.arrival, -it.departure.timestamp()))
    least = min(returns, key=lambda it: (it.wait_s, it.arrival))
    options: list[dict] = []
    for kind, it in (("first", first), ("least_wait", least), ("last", last)):
        if it is None:
            continue
        same = next((o for o in options if o["_it"] is it or _same_times(o["_it"], it)), None)
        if same is not None:
            same["kinds"].append(kind)
            continue
        options.append({"_it": it, "kind": kind, "kinds": [kind]})
    message = _say(lang, "adv_return_ok", hm=_fmt(first.arrival))
    if last is not None:
        message += _say(lang, "adv_return_last", hm=_fmt(last.departure))
    return {"leave_after": leave.isoformat(), "stay_min": stay_min, "status": "ok",
            "last_departure": last.departure.isoformat() if last else None,
            "itineraries": [summarised(it) for it in first_back or [first]],
            "options": [{**summarised(o["_it"]), "kind": o["kind"], "kinds": o["kinds"]} for o in options],
            "message": message}


def _same_times(a: Itinerary, b: Itinerary) -> bool:
    return a.departure == b.departure and a.arrival == b.arrival and a.transfers == b.transfers


def _returns_between(ctx, origin: Place, home: Place, found: list[Itinerary], last: Itinerary | None,
                     opts: PlanOptions, plan_extra: dict, keep) -> list[Itinerary]:
    """The returns leaving between the first one and the last one: one depart-at search after the other,
    each a minute after the previous earliest option left (a profile of the evening)."""
    if not found or last is None:
        return []
    out: list[Itinerary] = []
    earliest = min(found, key=lambda it: it.arrival)
    for _ in range(MAX_LATER_SEARCHES):
        if not earliest.rides:
            break
        t = earliest.departure + dt.timedelta(minutes=1)
        if t > last.departure:
            break
        its = keep(_plan(ctx, origin, home, t, False, opts, **plan_extra))
        if not its:
            break
        out += its
        earliest = min(its, key=lambda it: it.arrival)
    return out
