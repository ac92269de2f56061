"""What a resident is told: the opening state at the real arrival, the travel date and why it moved, the next
service day, the choice of returns, why a site was chosen, what was understood, and exact exit statuses.

Expected values are derived from the embedded data (site hours, the timetable) wherever they can be, so a
regenerated data set keeps these tests meaningful.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random

import pytest

from mobility.interfaces.cli import main
from mobility.interfaces.text import format_trip
from mobility.planning import services
from mobility.planning.services import desk_time, plan_trip

THEROUANNE = "12 rue de l'Église, Thérouanne"
WEDNESDAY = dt.date(2026, 12, 2)
BOOKED = dt.datetime(2026, 11, 30, 10, 0)  # before every "day before 17:00" deadline of the week
#: a farm road in the Fauquembergues TAD zone, about 7 km from the nearest stop (see test_tad.py)
IN_FAUQ_ZONE = "50.54309509508218,2.2215832450358017"


@pytest.fixture(scope="module")
def ctx():
    from mobility.planning.context import load_context

    return load_context()


def independent_state(site, arrival: dt.datetime) -> dict:
    """The opening state at ``arrival`` from the site's intervals of that day (not the planner's code path)."""
    for start, end in site.opening_hours.intervals_on(arrival.date(), arrival.tzinfo):
        if start <= arrival < end:
            return {"open": True, "opens_at": None, "wait_min": 0}
    later = [start for start, _ in site.opening_hours.intervals_on(arrival.date(), arrival.tzinfo)
             if start > arrival and start.date() == arrival.date()]
    if later:
        opens = min(later)
        return {"open": False, "opens_at": opens.strftime("%H:%M"),
                "wait_min": math.ceil((opens - arrival).total_seconds() / 60)}
    return {"open": False, "opens_at": None, "wait_min": 0}


def test_arrive_by_before_opening_says_so_and_offers_the_option_after_opening(ctx):
    trip = plan_trip(ctx, THEROUANNE, "caf", dt.datetime.combine(WEDNESDAY, dt.time(9, 30)), arrive_by=True,
                     booked_at=BOOKED)
    body = trip.to_json()
    site = trip.site
    first = trip.itineraries[0]
    opening = min(s for s, _ in site.opening_hours.intervals_on(WEDNESDAY, first.arrival.tzinfo))
    assert first.arrival < opening, "the only bus before 09:30 arrives before the opening"
    state = body["itineraries"][0]["service_at_arrival"]
    assert state["open"] is False and state["state"] == "opens_later"
    assert state["opens_at"] == opening.strftime("%H:%M")
    assert state["wait_min"] == math.ceil((opening - first.arrival).total_seconds() / 60)
    assert body["opening"]["open_on_arrival"] is False
    assert "ouvert à l'arrivée" not in body["opening"]["message"]
    assert f"n'ouvre qu'à {opening:%H:%M} (attente {state['wait_min']} min)" in body["opening"]["message"]
    # no itinerary anywhere claims "open" when it arrives before the opening
    for it, js in zip(trip.itineraries, body["itineraries"]):
        assert js["service_at_arrival"]["open"] == site.opening_hours.is_open(it.arrival)
    # the option arriving just after the opening is offered beside it, and says it is later than asked
    after = [it for it in trip.itineraries if it.tag == "after_opening"]
    assert len(after) == 1 and after[0].arrival >= opening
    assert desk_time(site, after[0].arrival, 10) == after[0].arrival
    assert any("option arrivant après l'ouverture" in n and "(après l'heure demandée)" in n for n in trip.notes)
    text = format_trip(trip, "fr")
    assert f"n'ouvre qu'à {opening:%H:%M}" in text and "arrive après l'ouverture" in text


def test_request_after_the_booking_deadline_moves_the_day_and_says_why(ctx):
    trip = plan_trip(ctx, IN_FAUQ_ZONE, "50.7539,2.2669", dt.datetime(2026, 12, 1, 9, 0),
                     booked_at=dt.datetime(2026, 11, 30, 17, 30))
    body = trip.to_json()
    assert body["requested_date"] == "2026-12-01"
    assert body["date"] > "2026-12-01"
    assert body["day_changed"]["reason"] == "booking_closed"
    assert "délai de réservation" in body["day_changed"]["message"]
    assert all(it["date"] == body["date"] for it in body["itineraries"][:1])
    # booked in time, the same request is served on the requested day
    in_time = plan_trip(ctx, IN_FAUQ_ZONE, "50.7539,2.2669", dt.datetime(2026, 12, 1, 9, 0), booked_at=BOOKED)
    assert in_time.to_json()["date"] == "2026-12-01" and in_time.day_changed is None


def test_saturday_request_to_a_weekday_site_is_moved_with_the_reason(ctx):
    saturday = dt.date(2026, 12, 5)
    trip = plan_trip(ctx, "Thérouanne", "svc-001", dt.datetime.combine(saturday, dt.time(9)), booked_at=BOOKED)
    body = trip.to_json()
    assert body["requested_date"] == "2026-12-05"
    assert body["day_changed"]["reason"] == "site_closed"
    assert body["day_changed"]["message"].startswith(f"{trip.site.name} est fermé le samedi 5 décembre 2026.")
    assert body["date"] == "2026-12-07"  # Monday: the site is closed on Saturday and Sunday
    assert all(it["date"] == "2026-12-07" for it in body["itineraries"])
    en = plan_trip(ctx, "Thérouanne", "svc-001", dt.datetime.combine(saturday, dt.time(9)), booked_at=BOOKED,
                   lang="en")
    assert "is closed on Saturday 5 December 2026" in en.day_changed["message"]


def test_evening_request_gives_the_next_morning_with_its_date(ctx, capsys):
    trip = plan_trip(ctx, "50.7536,2.2677", "50.5995,2.0969", dt.datetime(2026, 11, 24, 21, 30), booked_at=BOOKED)
    body = trip.to_json()
    assert body["date"] == "2026-11-25" and body["itineraries"][0]["date"] == "2026-11-25"
    assert body["day_changed"]["reason"] == "no_service"
    assert "après 21:30" in body["day_changed"]["message"]
    rc = main(["plan", "--from", "50.7536,2.2677", "--to", "50.5995,2.0969", "--depart", "2026-11-24T21:30",
               "--booked-at", "2026-11-30T10:00"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "mardi 24 novembre 2026" in out.splitlines()[0]
    assert "Option 1 — mercredi 25 novembre 2026" in out


def test_first_trip_more_than_12_hours_away_is_the_next_service_day(ctx):
    # Friday 21:00: no bus until Saturday midday, beyond the 12-hour search horizon
    trip = plan_trip(ctx, "50.7536,2.2677", "50.5995,2.0969", dt.datetime(2026, 12, 4, 21, 0), booked_at=BOOKED)
    first = trip.itineraries[0]
    assert first.departure - dt.datetime(2026, 12, 4, 21, 0, tzinfo=first.departure.tzinfo) > dt.timedelta(hours=12)
    assert first.tag == "next_day" and trip.day_changed["reason"] == "no_service"
    assert trip.to_json()["date"] == first.departure.date().isoformat()


def test_round_trip_offers_first_least_wait_and_last_returns(ctx):
    trip = plan_trip(ctx, "Aire-sur-la-Lys", "svc-019", dt.datetime.combine(WEDNESDAY, dt.time(10)),
                     return_after_min=60, booked_at=BOOKED)
    back = trip.return_block
    kinds = [o["kind"] for o in back["options"]]
    assert kinds == ["first", "least_wait", "last"]
    leave = dt.datetime.fromisoformat(back["leave_after"])
    served = desk_time(trip.site, trip.itineraries[0].arrival, 10)
    assert leave == served + dt.timedelta(minutes=60)
    opts = {o["kind"]: o for o in back["options"]}
    for o in back["options"]:
        assert o["legs"] and dt.datetime.fromisoformat(o["departure"]) >= leave
        assert dt.datetime.fromisoformat(o["arrival"]).date() == WEDNESDAY
    arrival = {k: dt.datetime.fromisoformat(o["arrival"]) for k, o in opts.items()}
    departure = {k: dt.datetime.fromisoformat(o["departure"]) for k, o in opts.items()}
    assert arrival["first"] == min(arrival.values())
    assert opts["least_wait"]["wait_s"] < opts["first"]["wait_s"]
    assert departure["last"] == max(departure.values())
    assert back["last_departure"] == opts["last"]["departure"]
    text = format_trip(trip, "fr")
    assert "premier retour" in text and "le moins d'attente" in text and "dernier retour" in text


def test_long_waits_are_flagged_in_hours(ctx):
    trip = plan_trip(ctx, THEROUANNE, "svc-001", dt.datetime.combine(WEDNESDAY, dt.time(7)), booked_at=BOOKED)
    it = trip.to_json()["itineraries"][0]
    assert it["long_waits"] and all(w["minutes"] >= 30 for w in it["long_waits"])
    longest = max(w["minutes"] for w in it["long_waits"])
    assert longest >= 60
    text = format_trip(trip, "fr")
    assert f"Attente longue : {longest // 60} h {longest % 60:02d}" in text


def test_category_choice_is_explained_when_the_nearest_site_is_closed(ctx):
    # Arques town hall opens only in the afternoon on Wednesdays
    trip = plan_trip(ctx, "Arques", "mairie", dt.datetime.combine(WEDNESDAY, dt.time(10)), arrive_by=True,
                     booked_at=BOOKED)
    body = trip.to_json()
    assert body["service"]["id"] != "svc-021"
    assert body["choice"]["reason"] == "latest_departure" and trip.site.name in body["choice"]["message"]
    alts = body["alternatives"]
    assert 1 <= len(alts) <= 2
    arques = next(a for a in alts if a["site_id"] == "svc-021")
    assert arques["reason"].startswith("fermé à l'heure demandée")
    depart = plan_trip(ctx, "Arques", "mairie", dt.datetime.combine(WEDNESDAY, dt.time(9)), booked_at=BOOKED,
                       lang="en")
    arques = next(a for a in depart.alternatives if a["site_id"] == "svc-021")
    assert arques["reason"].startswith("served at 14:00")
    assert depart.choice["reason"] == "earliest_served"


def test_sites_of_unknown_status_are_not_chosen_unless_named(ctx):
    trip = plan_trip(ctx, THEROUANNE, "caf", dt.datetime.combine(WEDNESDAY, dt.time(9)), booked_at=BOOKED)
    assert not trip.site.status_uncertain
    assert any("activité actuelle n'est pas confirmée écarté" in n for n in trip.notes)
    named = plan_trip(ctx, THEROUANNE, "svc-002", dt.datetime.combine(WEDNESDAY, dt.time(9)), booked_at=BOOKED)
    assert named.site.id == "svc-002"
    assert any("téléphonez avant de vous déplacer" in n for n in named.notes)


def test_the_uncertain_status_of_a_site_is_said_in_the_users_language(ctx):
    # svc-002's status in the data: "historic (inaugurated May 2011); current status unknown" (the source's words)
    when = dt.datetime.combine(WEDNESDAY, dt.time(9))
    fr = plan_trip(ctx, THEROUANNE, "svc-002", when, booked_at=BOOKED)
    note = next(n for n in fr.notes if "téléphonez" in n)
    assert "n'est pas confirmée (dernière mention en 2011, rien de connu depuis)" in note
    assert "historic" not in note and "unknown" not in note
    en = plan_trip(ctx, THEROUANNE, "svc-002", when, booked_at=BOOKED, lang="en")
    assert any("is not confirmed (last mentioned in 2011, nothing known since); phone before you travel" in n
               for n in en.notes)
    assert en.to_json()["service"]["status"] == "historic (inaugurated May 2011); current status unknown"
    assert en.to_json()["service"]["status_confirmed"] is False


@pytest.mark.parametrize("status, fr, en", [
    ("historic (seat transferred here by arrêté of 2012-02-24; EPCI merged into CAPSO 2017-01-01); current use "
     "unknown", "dernière mention en 2017, rien de connu depuis", "last mentioned in 2017, nothing known since"),
    ("historique", "site connu par une source ancienne, rien de connu depuis",
     "known from an old source, nothing known since"),
    ("project: works since summer 2020; opening not confirmed in sources", "projet mentionné en 2020, ouverture "
     "non confirmée", "a project mentioned in 2020, its opening not confirmed"),
    ("ouverture non confirmée", "projet dont l'ouverture n'est pas confirmée", "a project whose opening is not "
     "confirmed"),
    ("unknown since 2019", "situation actuelle inconnue", "current status unknown"),
])
def test_status_phrases(status, fr, en):
    assert services._status_phrase("fr", status) == fr
    assert services._status_phrase("en", status) == en


def test_what_was_understood_includes_the_corrected_typo(ctx, capsys):
    trip = plan_trip(ctx, "12 rue de l'Eglise Therouane", "svc-019", dt.datetime.combine(WEDNESDAY, dt.time(9)),
                     booked_at=BOOKED)
    res = trip.to_json()["resolved"]
    assert res["from"]["label"].startswith("12 Rue de l'Église") and "Thérouanne" in res["from"]["label"]
    assert res["from"]["corrected_from"] == "12 rue de l'Eglise Therouane"
    assert res["to"]["label"] == trip.site.name and "corrected_from" not in res["to"]
    exact = plan_trip(ctx, THEROUANNE, "svc-019", dt.datetime.combine(WEDNESDAY, dt.time(9)), booked_at=BOOKED)
    assert "corrected_from" not in exact.to_json()["resolved"]["from"]
    assert main(["plan", "--from", "12 rue de l'Eglise Therouane", "--to", "svc-019", "--depart",
                 "2026-12-02T09:00", "--lang", "en"]) == 0
    assert "(corrected from \"12 rue de l'Eglise Therouane\")" in capsys.readouterr().out


def test_exit_status_3_for_no_itinerary_and_2_for_bad_input(capsys):
    # no walking at all: no stop can be reached, on that day nor the next seven
    assert main(["plan", "--from", "50.7536,2.2677", "--to", "50.5995,2.0969", "--depart", "2026-12-02T09:00",
                 "--max-walk-m", "0", "--lang", "en"]) == 3
    assert "no itinerary" in capsys.readouterr().err
    assert main(["plan", "--from", "50.7536,2.2677", "--to", "50.5995,2.0969", "--depart", "2031-12-09T09:00",
                 "--lang", "en"]) == 2
    assert "outside the timetable" in capsys.readouterr().err
    assert main(["plan", "--from", "50.7536,2.2677", "--to", "50.5995,2.0969", "--depart", "2031-12-09T09:00",
                 "--lang", "fr"]) == 2
    assert "en dehors des dates de service" in capsys.readouterr().err


def test_cached_web_answers_follow_the_booking_state(ctx, monkeypatch):
    from mobility.interfaces.web import planning
    from mobility.interfaces.web.params import plan_request

    cache = planning.AnswerCache(16)
    req = plan_request({"from": IN_FAUQ_ZONE, "to": "50.7539,2.2669", "datetime": "2026-12-01T09:00"})
    assert req.booked_at is None
    monkeypatch.setattr(planning, "booked_now", lambda tz: BOOKED)
    before = planning.plan_json(ctx, req, cache)
    assert before["date"] == "2026-12-01" and before["day_changed"] is None
    monkeypatch.setattr(planning, "booked_now", lambda tz: dt.datetime(2026, 11, 30, 17, 30))
    after = planning.plan_json(ctx, req, cache)
    assert after["day_changed"]["reason"] == "booking_closed"
    assert cache.misses == 2 and cache.hits == 0
    assert planning.plan_json(ctx, req, cache) == after and cache.hits == 1


def test_booked_now_rounds_up_to_the_minute():
    from zoneinfo import ZoneInfo

    from mobility.interfaces.web.planning import booked_now

    now = booked_now(ZoneInfo("Europe/Paris"))
    assert now.second == 0 and now.microsecond == 0 and now.tzinfo is None
    assert dt.timedelta(0) <= now - dt.datetime.now(ZoneInfo("Europe/Paris")).replace(tzinfo=None) \
        <= dt.timedelta(minutes=1)


def test_cli_json_carries_the_contract(capsys):
    rc = main(["plan", "--from", THEROUANNE, "--to", "caf", "--arrive", "2026-12-02T09:30", "--return-after", "60",
               "--booked-at", "2026-11-30T10:00", "--json"])
    assert rc == 0
    body = json.loads(capsys.readouterr().out)
    assert {"date", "requested_date", "day_changed", "resolved", "alternatives", "choice"} <= set(body)
    assert set(body["resolved"]) == {"from", "to"}
    for it in body["itineraries"]:
        assert {"date", "service_at_arrival", "long_waits"} <= set(it)
        assert set(it["service_at_arrival"]) >= {"open", "opens_at", "closes_at", "wait_min"}
    assert all(o["kind"] in ("first", "least_wait", "last") for o in body["return"]["options"])


def test_service_at_arrival_agrees_with_the_opening_hours_on_random_requests(ctx):
    rng = random.Random(20261201)
    sites = [s for s in ctx.catalogue.sites if s.opening_hours is not None and s.main_category != "mairie"]
    sites += rng.sample([s for s in ctx.catalogue.sites if s.main_category == "mairie"], 6)
    communes = ["Thérouanne", "Lumbres", "Aire-sur-la-Lys", "Arques", "Fauquembergues", "Éperlecques", "Wizernes",
                "Saint-Omer", "Longuenesse", "Esquerdes"]
    checked = 0
    for _ in range(30):
        site = rng.choice(sites)
        day = WEDNESDAY + dt.timedelta(days=rng.randrange(0, 7))
        when = dt.datetime.combine(day, dt.time(rng.randrange(6, 18), rng.choice((0, 15, 30, 45))))
        trip = plan_trip(ctx, rng.choice(communes), site.id, when, arrive_by=rng.random() < 0.5, booked_at=BOOKED)
        for it, js in zip(trip.itineraries, trip.to_json()["itineraries"]):
            want = independent_state(trip.site, it.arrival)
            got = js["service_at_arrival"]
            assert (got["open"], got["opens_at"], got["wait_min"]) == (want["open"], want["opens_at"],
                                                                       want["wait_min"]), (site.id, when, it.arrival)
            checked += 1
    assert checked >= 20


def test_options_that_left_before_the_request_are_named(ctx):
    # "I must be at the CAF by 10:30" asked at 09:40 the same day: the latest options that arrive in time may
    # have left already; they stay (the answer is the same) but the resident is told
    due = dt.datetime.combine(WEDNESDAY, dt.time(10, 30))
    early = plan_trip(ctx, THEROUANNE, "caf", due, arrive_by=True, booked_at=BOOKED)
    assert not any("trop tard" in n for n in early.notes)
    asked = dt.datetime.combine(WEDNESDAY, dt.time(9, 40))
    late = plan_trip(ctx, THEROUANNE, "caf", due, arrive_by=True, booked_at=asked)
    gone = [it.departure.strftime("%H:%M") for it in late.itineraries
            if it.departure.replace(tzinfo=None) < asked - dt.timedelta(minutes=1)]
    assert gone, "the case needs an option that left before 09:40"
    assert f"attention : à l'heure de la demande (09:40), il est trop tard pour le(s) départ(s) de {', '.join(gone)}" \
        in late.notes
    en = plan_trip(ctx, THEROUANNE, "caf", due, arrive_by=True, booked_at=asked, lang="en")
    assert f"warning: at the time of the request (09:40), it is too late for the departure(s) at {', '.join(gone)}" \
        in en.notes
    # each gone option is marked too: in the JSON, the readable answer and the web page
    assert [bool(i.get("departed")) for i in late.to_json()["itineraries"]] == [
        it.departure.replace(tzinfo=None) < asked - dt.timedelta(minutes=1) for it in late.itineraries]
    assert not any("departed" in i for i in early.to_json()["itineraries"])
    text = format_trip(late)
    assert text.count("— déjà parti à l'heure de la demande") == len(gone)
    assert "Option 1 — mercredi 2 décembre 2026 — déjà parti à l'heure de la demande" in text
    assert "already gone at the time of the request" in format_trip(en, "en")
    # leaving "now": an option leaving in the minute of the request is not gone
    now = plan_trip(ctx, THEROUANNE, "caf", asked, booked_at=asked)
    assert now.itineraries and not any("trop tard" in n for n in now.notes)
