"""A category request (``--to mairie``: 89 town halls) plans only the sites that can be shown, and its answer is
the one planning every site gives: the arrival bounds it orders and skips sites by are true lower bounds."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from mobility.errors import InputError, NoRouteError
from mobility.planning import services
from mobility.planning.planner import PlanOptions

BOOKED = dt.datetime(2026, 11, 20, 8, 0)


def _origins(ctx, n: int, seed: int):
    stops = ctx.planner.network.stops
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        r = stops.iloc[int(rng.integers(len(stops)))]
        when = dt.datetime(2026, 12, int(rng.integers(1, 6)), int(rng.integers(6, 19)), int(rng.integers(0, 60)))
        out.append(((float(r.lat) + rng.uniform(-0.002, 0.002), float(r.lon) + rng.uniform(-0.002, 0.002)), when))
    return out


def _sites(ctx, category: str):
    return [s for s in ctx.catalogue.sites if category in s.categories]


@pytest.mark.parametrize("allow_tad", [True, False], ids=["tad", "no_tad"])
def test_arrival_bounds_are_lower_bounds(embedded_context, allow_tad):
    """No itinerary to a site arrives before its bound: on-demand rides, fixed lines and walking all the way."""
    ctx = embedded_context
    planner = ctx.planner
    sites = _sites(ctx, "mairie")
    places = [services._site_place(s) for s in sites]
    opts = PlanOptions(allow_tad=allow_tad)
    checked = tight = 0
    for origin, when in _origins(ctx, 4, seed=21 + allow_tad):
        try:
            bounds = planner.arrival_lower_bounds(origin, places, when, options=opts, booked_at=BOOKED)
        except InputError:
            continue
        for place, bound in zip(places, bounds):
            try:
                res = planner.plan(origin, place, when, options=opts, booked_at=BOOKED)
            except NoRouteError:
                continue
            first = min(it.arrival for it in res.itineraries)
            assert bound <= first, (origin, when, place.name, bound, first)
            checked += 1
            tight += bound == first
    assert checked > 50
    assert tight > checked // 10  # the bound is the arrival itself for many sites, not a vacuous one


def test_duration_bounds_bound_arrive_by_departures(embedded_context):
    """Arrive-by: no itinerary to a site leaves after the requested time minus the site's duration bound."""
    ctx = embedded_context
    planner = ctx.planner
    sites = _sites(ctx, "mairie")
    places = [services._site_place(s) for s in sites]
    checked = 0
    for origin, when in _origins(ctx, 3, seed=33):
        when = when.replace(hour=max(when.hour, 10))
        try:
            bounds = planner.duration_lower_bounds(origin, places, when, booked_at=BOOKED)
        except InputError:
            continue
        assert bounds is not None
        latest = planner.localize(when).timestamp()
        for place, bound in zip(places, bounds):
            try:
                res = planner.plan(origin, place, when, arrive_by=True, booked_at=BOOKED)
            except NoRouteError:
                continue
            last = max(it.departure for it in res.itineraries).timestamp()
            assert last <= latest - bound, (origin, when, place.name, bound)
            checked += 1
    assert checked > 50


def _both(ctx, monkeypatch, origin, category, when, **kw):
    def answer():
        try:
            return services.plan_trip(ctx, f"{origin[0]:.5f},{origin[1]:.5f}", category, when, booked_at=BOOKED,
                                      **kw).to_json()
        except InputError as exc:
            return repr(exc)

    counted = {"n": 0}
    real = services._plan

    def counting(*a, **k):
        counted["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(services, "_plan", counting)
    bounded = answer()
    planned_bounded = counted["n"]
    counted["n"] = 0
    monkeypatch.setattr(services, "KEEP_RANKED", 10 ** 6)  # plans every site in turn
    everything = answer()
    planned_all = counted["n"]
    monkeypatch.setattr(services, "KEEP_RANKED", 3)
    return bounded, everything, planned_bounded, planned_all


def test_category_answer_is_the_one_planning_every_site(embedded_context, monkeypatch):
    ctx = embedded_context
    saved = []
    for k, (origin, when) in enumerate(_origins(ctx, 8, seed=5)):
        kw = {"return_after_min": 60} if k % 3 == 0 else {}
        kw["arrive_by"] = k % 2 == 1
        a, b, n_bounded, n_all = _both(ctx, monkeypatch, origin, "mairie", when, **kw)
        assert a == b, (origin, when)
        if isinstance(a, dict) and not kw["arrive_by"]:
            saved.append(n_all - n_bounded)
    # depart-at: most of the 89 town halls are not planned (arrive-by's duration bound, without waits, skips fewer)
    assert saved and min(saved) > 0 and sum(saved) > 50 * len(saved)


@pytest.mark.slow  # 120 random requests, each also planned site by site (~2 min): CI's second step
@pytest.mark.parametrize("arrive_by", [False, True], ids=["depart_at", "arrive_by"])
@pytest.mark.parametrize("category", ["mairie", "point_information_jeunesse", "caf"])
def test_category_answers_on_random_requests(embedded_context, monkeypatch, category, arrive_by):
    ctx = embedded_context
    for origin, when in _origins(ctx, 20, seed=len(category) + arrive_by):
        a, b, _, _ = _both(ctx, monkeypatch, origin, category, when, arrive_by=arrive_by)
        assert a == b, (category, origin, when, arrive_by)


_HOURS = ["Mo-Fr 08:30-12:00,13:30-17:00", "Mo,Tu,Th,Fr 09:00-12:00,14:00-17:30; We 09:00-12:00",
          "Mo-Fr 08:00-12:00,12:00-12:05,14:00-14:08", "Fr 22:00-02:00; Sa 09:00-09:05", "Mo-Sa 23:50-24:00",
          "Sa 10:00-12:00", "24/7", "Mo-Fr 08:00-18:00; PH off"]


@pytest.mark.parametrize("text", _HOURS)
def test_served_lower_bound_bounds_every_served_arrival(text):
    """served_lower_bound is no later than the desk time of any arrival between its two times (minute by minute,
    also off the minute), and None exactly when none of them is served: touching and overnight intervals,
    short ones (the margin), arrivals served after the span's end on their own date."""
    from types import SimpleNamespace

    from mobility.domain.opening_hours import OpeningHours

    site = SimpleNamespace(opening_hours=OpeningHours.parse(text))
    rng = np.random.default_rng(len(text))
    tight = nones = 0
    draws = 4
    for _ in range(draws):
        lo = dt.datetime(2026, 12, 3) + dt.timedelta(minutes=int(rng.integers(0, 4 * 24 * 60)),
                                                     seconds=int(rng.integers(0, 60)))
        hi = lo + dt.timedelta(minutes=int(rng.integers(0, 12 * 60)))
        # hours and margins are whole minutes: whether an arrival is served changes only on whole minutes
        arrivals = [lo] + [lo.replace(second=0) + dt.timedelta(minutes=k + 1)
                           for k in range(int((hi - lo).total_seconds() // 60))]
        for margin in (0, 10):
            bound = services.served_lower_bound(site, lo, hi, margin)
            served = [t for t in (services.desk_time(site, a, margin) for a in arrivals) if t is not None]
            if not served:
                assert bound is None, (text, lo, hi, margin, bound)
                nones += 1
                continue
            assert bound is not None and bound <= min(served), (text, lo, hi, margin, bound, min(served))
            tight += bound == min(served)
    assert tight > 0 or nones == 2 * draws  # the bound is the first service itself in some cases


def test_served_lower_bound_waits_for_the_opening_after_the_horizon():
    """An arrival before the horizon's end is served at a later opening the same day: not "never"."""
    from types import SimpleNamespace

    from mobility.domain.opening_hours import OpeningHours

    site = SimpleNamespace(opening_hours=OpeningHours.parse("Mo-Fr 08:30-12:00"))
    evening = dt.datetime(2026, 12, 1, 18, 0)  # a Tuesday
    assert services.served_lower_bound(site, evening, evening + dt.timedelta(hours=12), 10) == \
        dt.datetime(2026, 12, 2, 8, 30)
    assert services.served_lower_bound(site, evening, evening + dt.timedelta(hours=5), 10) is None
    saturday = dt.datetime(2026, 12, 5, 9, 0)
    assert services.served_lower_bound(site, saturday, saturday + dt.timedelta(hours=12), 10) is None
    assert services.served_lower_bound(SimpleNamespace(opening_hours=None), saturday, saturday, 10) == saturday


@pytest.mark.parametrize("k, when, most, all_min", [
    (1, dt.datetime(2026, 12, 5, 10, 0), 14, 3 * 89),  # Saturday: every town hall closed, and on Sunday
    (1, dt.datetime(2026, 12, 1, 18, 30), 30, 3 * 89),  # a weekday evening: closed for the rest of the day
    (0, dt.datetime(2026, 12, 2, 14, 30), 10, 89),  # Wednesday afternoon: most are closed, two are reached
], ids=["saturday", "weekday_evening", "wednesday_afternoon"])
def test_closed_town_halls_are_not_all_planned(embedded_context, monkeypatch, k, when, most, all_min):
    """Town halls closed for the rest of the day (or all day): the sites whose hours serve no arrival within the
    horizon (nothing arriving after midnight near them) are not planned, on the requested day, for the reason of
    a day change and on the next days; the answer is the one planning every site."""
    origin = _origins(embedded_context, 2, seed=5)[k][0]
    a, b, n_bounded, n_all = _both(embedded_context, monkeypatch, origin, "mairie", when)
    assert isinstance(a, dict) and (a["day_changed"] is not None) == (all_min > 89)
    assert a == b
    assert n_all >= all_min and n_bounded <= most, (n_bounded, n_all)


def test_nothing_arrives_when_arrivals_between_says_so(embedded_context):
    """Planner.arrivals_between is never wrong when it says no itinerary arrives in a span, and it says so for
    many sites (fixed lines only, a span of 50 minutes: no bus arrives near many town halls then)."""
    ctx = embedded_context
    planner = ctx.planner
    places = [services._site_place(s) for s in _sites(ctx, "mairie")]
    opts = PlanOptions(allow_tad=False)
    when = planner.localize(dt.datetime(2026, 12, 1, 10, 0))
    start, end = when + dt.timedelta(minutes=40), when + dt.timedelta(minutes=90)  # after walking all the way
    may_arrive = planner.arrivals_between(when, start, end, options=opts)
    said_no = arrived = 0
    for origin, _ in _origins(ctx, 3, seed=8):
        for place in places:
            try:
                res = planner.plan(origin, place, when, options=opts, booked_at=BOOKED)
            except (NoRouteError, InputError):
                continue
            late = [it.arrival for it in res.itineraries if start <= it.arrival <= end]
            if not may_arrive(place):
                assert not late, (origin, place.name, late)
                said_no += 1
            arrived += bool(late)
    assert arrived > 5 and said_no > 20, (arrived, said_no)
