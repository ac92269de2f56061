"""Door-to-service planning on the embedded data: best site, opening hours, round trips, clear errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mobility.errors import InputError, NoRouteError, NotFoundError
from mobility.interfaces.cli import main
from mobility.planning.services import desk_time, plan_trip, resolve_endpoint

THEROUANNE = "12 rue de l'Église, Thérouanne"
WEDNESDAY = dt.date(2026, 12, 2)


@pytest.fixture(scope="module")
def ctx():
    from mobility.planning.context import load_context

    return load_context()


def at(hh: int, mm: int = 0, day: dt.date = WEDNESDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm))


def test_endpoints_resolve_text_sites_categories_and_coordinates(ctx):
    assert resolve_endpoint(ctx, "svc-001", "to").sites[0].id == "svc-001"
    caf = resolve_endpoint(ctx, "CAF", "to")
    assert caf.category == "caf" and [s.id for s in caf.sites] == ["svc-201"]
    # the 2011 Maisons des services publics and the announced France Services host CAF desks too, but
    # nobody knows whether they receive the public today: they are left out (and the answer says so)
    assert {s.id for s in caf.uncertain} == {"svc-001", "svc-002", "svc-004"}
    assert all(s.status_uncertain for s in caf.uncertain)
    home = resolve_endpoint(ctx, "12 r de l eglise therouanne", "from")
    assert home.kind == "address" and "Thérouanne" in home.place.name
    assert resolve_endpoint(ctx, "50.7539,2.2669", "from").kind == "point"


@pytest.mark.parametrize("text, error, words", [
    ("48.8566,2.3522", InputError, "outside the territory"),
    ("zzzz qqqq xxxx", InputError, "no address matches"),  # French with text("fr"): "aucune adresse"
    ("", InputError, "Please give the starting point"),
    ("x" * 300, InputError, "too long"),
])
def test_bad_origins_get_clear_messages(ctx, text, error, words):
    with pytest.raises(error, match=words):
        plan_trip(ctx, text, "svc-001", at(9))


def test_best_site_of_a_category_is_the_one_served_first(ctx):
    trip = plan_trip(ctx, THEROUANNE, "mairie", at(8))
    chosen = desk_time(trip.site, trip.itineraries[0].arrival, 10)
    assert chosen is not None
    # brute force over the same candidates: none is served earlier
    from mobility.planning.services import _candidates

    for site in _candidates(ctx, trip.origin.place, resolve_endpoint(ctx, "mairie", "to")):
        try:
            other = plan_trip(ctx, THEROUANNE, site.id, at(8))
        except NoRouteError:
            continue
        times = [desk_time(site, it.arrival, 10) for it in other.itineraries]
        times = [t for t in times if t is not None]
        if times:
            assert chosen <= min(times), f"{site.name} is served earlier than {trip.site.name}"


def test_closed_site_on_arrive_by_says_so_and_offers_the_nearest_open_slot(ctx):
    # the Mairie de Saint-Omer opens only in the afternoon on Wednesdays
    trip = plan_trip(ctx, "Place Foch, Saint-Omer", "svc-018", at(9, 30), arrive_by=True)
    assert trip.opening["open_on_arrival"] is False
    assert "fermé le mercredi à 09:30" in trip.opening["message"]
    assert trip.opening["next_open"].startswith("2026-12-02T14:00")
    assert trip.opening["proposed_arrival"].startswith("2026-12-02T14:10")
    assert trip.itineraries and all(it.arrival <= dt.datetime.fromisoformat(trip.opening["proposed_arrival"])
                                    for it in trip.itineraries)


def test_round_trip_with_a_same_day_return(ctx):
    trip = plan_trip(ctx, THEROUANNE, "svc-001", at(11, 30), arrive_by=True, return_after_min=60)
    back = trip.return_block
    assert back["status"] == "ok" and back["itineraries"]
    first_back = back["itineraries"][0]
    assert dt.datetime.fromisoformat(first_back["departure"]) >= trip.itineraries[0].arrival + dt.timedelta(minutes=60)
    assert dt.datetime.fromisoformat(first_back["arrival"]).date() == WEDNESDAY
    assert back["last_departure"] is not None


def test_round_trip_without_a_same_day_return_says_so_plainly(ctx):
    # arrive at the Fauquembergues MSP by 16:50 (12:48 with the only connection), stay 5 hours:
    # the last coach home (17:16) has left by then
    trip = plan_trip(ctx, THEROUANNE, "svc-001", at(16, 50), arrive_by=True, return_after_min=300)
    back = trip.return_block
    assert back["status"] == "none_same_day" and back["itineraries"] == []
    assert "aucun retour" in back["message"]
    assert dt.datetime.fromisoformat(back["last_departure"]) < dt.datetime.fromisoformat(back["leave_after"])


def test_unknown_category_and_unknown_site(ctx, capsys):
    assert main(["services", "--category", "boulangerie", "--lang", "en"]) == 2
    assert "unknown service category" in capsys.readouterr().err


def test_cli_plan_to_a_category_with_return_as_json(ctx, capsys):
    rc = main(["plan", "--from", THEROUANNE, "--to", "caf", "--arrive", "2026-12-02T09:30",
               "--return-after", "60", "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    body = json.loads(out)
    assert body["service"]["categories"] and "caf" in body["service"]["categories"]
    assert body["itineraries"] and body["return"]["status"] in ("ok", "none_same_day")
    for it in body["itineraries"]:
        assert {"duration_s", "wait_s", "walk_m", "transfers", "tad_bookings"} <= set(it)


def test_cli_geocode_and_services(capsys):
    assert main(["geocode", "ST-OMER"]) == 0
    assert "Saint-Omer" in capsys.readouterr().out.splitlines()[0]
    assert main(["services", "--category", "france services", "--json"]) == 0
    sites = json.loads(capsys.readouterr().out)
    assert sites and all("france_services" in s["categories"] for s in sites)


def test_depart_at_with_nothing_that_day_proposes_the_next_day(ctx):
    # after 09:00 no connection reaches the Fauquembergues MSP while it is open on Tuesday 1 December
    trip = plan_trip(ctx, "Thérouanne", "svc-001", dt.datetime(2026, 12, 1, 9, 0))
    assert trip.day_changed["reason"] == "no_service"
    assert not any("aucun itinéraire" in n for n in trip.notes)  # the headline says it, once
    assert trip.day_changed["message"].startswith("Aucun transport ne permet ce trajet le mardi 1 décembre 2026 "
                                                  "après 09:00. Premier trajet proposé : le mercredi 2 décembre 2026")
    first = trip.itineraries[0]
    assert first.tag == "next_day"
    assert first.departure.date() == dt.date(2026, 12, 2)
    assert desk_time(trip.site, first.arrival, 10) is not None
