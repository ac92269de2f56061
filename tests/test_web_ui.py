"""Issue 10 without a browser: phone numbers in one format, one booking box per TAD itinerary with its pickup
point and window, earlier/later re-plans, names instead of ids, field-level errors in each language with
clickable candidates, the map library only where a map is shown, the print view's header and static map,
and the planner's downloads (slow: one surface)."""

from __future__ import annotations

import re

import pytest

from mobility.interfaces.web import create_app
from mobility.interfaces.web.views import national_phone, phones_national, tel_href

DAY = "2026-12-01"
BOOKED = "2026-11-30T10:00"
DELETTES = {"from": "Delettes", "to": "svc-001", "date": DAY, "time": "08:00", "booked_at": BOOKED}


@pytest.fixture(scope="module")
def client(embedded_context):
    return create_app(context=embedded_context).test_client()


@pytest.mark.parametrize("raw,national", [("+33 3 53 48 00 00", "03 53 48 00 00"), ("0353480000", "03 53 48 00 00"),
                                          ("03.53.48.00.00", "03 53 48 00 00"), ("+44 20 7946 0000", "+44 20 7946 0000"),
                                          ("", "")])
def test_national_phone(raw, national):
    assert national_phone(raw) == national


def test_phones_in_a_sentence_and_tel_links():
    assert phones_national("appeler le +33 3 53 48 00 00 ou le 0321887000") == \
        "appeler le 03 53 48 00 00 ou le 03 21 88 70 00"
    assert tel_href("03 53 48 00 00") == "tel:+33353480000"


def test_operator_booking_box_once_with_pickup_and_window(client):
    text = client.get("/operateur/", query_string=DELETTES).get_data(as_text=True)
    card = text[text.index('id="it-1"'):text.index("</article>", text.index('id="it-1"'))]
    assert card.count('class="booking"') == 1
    assert "03 53 48 00 00" in card and "+33 3 53" not in card  # one phone format
    assert 'class="pickup-point">Delettes' in card and "TAD Aire et Morinie" in card
    assert re.search(r'class="pickup-window">vers \d\d:\d\d · créneau du service 07:00–19:00', card)
    assert "lundi 30 novembre 2026 à 17:00" in card and "À dire au téléphone" in card
    assert "Réserver au 03 53 48 00 00 avant" not in card  # the booking sentence is not repeated
    assert "svc-001" not in text.split('id="to-id"')[0].split('id="to"')[1]  # the field shows the name
    assert 'id="earlier-link"' in text and 'id="later-link"' in text and "Alt+N" in text


def test_later_and_earlier_links_shift_the_time(client):
    answer = client.get("/api/plan", query_string=DELETTES).get_json()
    text = client.get("/operateur/", query_string=DELETTES).get_data(as_text=True)
    later = re.search(r'id="later-link" class="button" href="([^"]+)"', text).group(1).replace("&amp;", "&")
    earlier = re.search(r'id="earlier-link" class="button" href="([^"]+)"', text).group(1).replace("&amp;", "&")
    first_dep = min(it["departure"] for it in answer["itineraries"])[11:16]
    last_arr = max(it["arrival"] for it in answer["itineraries"])[11:16]
    assert "arrive_by=0" in later and re.search(r"time=(\d\d:\d\d)", later).group(1) > first_dep
    assert "arrive_by=1" in earlier and re.search(r"time=(\d\d:\d\d)", earlier).group(1) < last_arr
    assert client.get(later).status_code == 200 and client.get(earlier).status_code == 200


def test_a_picked_name_plans_to_its_site(client):
    name = "Maison des services publics du canton de Fauquembergues - pôle de Fauquembergues (Fauquembergues)"
    resp = client.get("/operateur/", query_string={**DELETTES, "to": name, "to_id": "svc-001"})
    assert resp.status_code == 200
    assert 'name="to_id" value="svc-001"' in resp.get_data(as_text=True)
    # an edited text no longer goes with the stale id: it is resolved as typed
    resp = client.get("/operateur/", query_string={**DELETTES, "to": "caf", "to_id": "svc-001"})
    assert "Caisse" in resp.get_data(as_text=True) or resp.status_code == 200


@pytest.mark.parametrize("lang,query,field,sentence", [
    ("fr", {"from": "", "to": "svc-001"}, "from", "Indiquez votre adresse ou votre commune de départ."),
    ("en", {"from": "", "to": "svc-001"}, "from", "Enter your starting address or town."),
    ("fr", {"from": "Delettes", "to": ""}, "to", "Choisissez une destination"),
    ("en", {"from": "zzzz qqqq", "to": "svc-001", "date": DAY}, "from", "We cannot find"),
    ("fr", {"from": "Delettes", "to": "svc-001", "date": "2031-01-01"}, "date", "Les horaires connus vont du"),
    ("en", {"from": "Delettes", "to": "svc-001", "date": DAY, "max_walk_m": "-5"}, "max_walk_m",
     "Enter a walking distance between 0 and 20,000 metres."),
])
def test_field_errors_in_the_page_language(client, lang, query, field, sentence):
    resp = client.get("/itineraire", query_string={**query, "lang": lang})
    assert resp.status_code in (400, 404)
    text = resp.get_data(as_text=True)
    tag = re.search(r'<(?:input|select) id="%s"[^>]*>' % field, text).group(0)
    assert 'aria-invalid="true"' in tag and f'{field}-error' in tag
    message = re.search(r'<p id="%s-error" class="field-error">([^<]*)</p>' % field, text).group(1)
    assert sentence in message.replace("&#39;", "'")
    assert text.count('aria-invalid="true"') == 1
    assert "parameter '" not in text


def test_ambiguous_address_candidates_are_links(client):
    resp = client.get("/itineraire", query_string={"from": "rue de l'église", "to": "svc-001", "date": DAY})
    links = re.findall(r'<ul class="candidates"[^>]*>(.*?)</ul>', resp.get_data(as_text=True), re.S)
    hrefs = re.findall(r'href="([^"]+)"', links[0])
    assert len(hrefs) >= 2 and all("from=Rue+de+l" in h for h in hrefs)
    again = client.get(hrefs[0].replace("&amp;", "&"))
    assert 'id="from-error"' not in again.get_data(as_text=True)


def test_map_library_only_where_a_map_is_shown(client):
    form = client.get("/").get_data(as_text=True)
    assert "leaflet" not in form and "map.js" not in form
    error = client.get("/itineraire", query_string={"from": "", "to": "svc-001"}).get_data(as_text=True)
    assert "leaflet" not in error
    results = client.get("/itineraire", query_string={**DELETTES}).get_data(as_text=True)
    assert "/static/vendor/leaflet/leaflet.js" in results


def test_print_view_header_map_and_heading_order(client):
    text = client.get("/operateur/imprimer", query_string={**DELETTES, "return_after_min": "60"}).get_data(as_text=True)
    assert '<p class="centre-name">' in text and "03 53 48 00 00" in text.split("</header>")[0]
    levels = [int(h) for h in re.findall(r"<h([1-6])\b", text)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels
    src = re.search(r'<img src="([^"]+carte\.png[^"]+)"', text).group(1).replace("&amp;", "&")
    png = client.get(src)
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png.data) > 20_000


@pytest.mark.slow
def test_planner_downloads(client):
    query = {"to": "france_services", "date": DAY, "time": "08:00", "window": "60"}
    page = client.get("/planificateur/", query_string=query).get_data(as_text=True)
    for fmt, mime in (("geojson", "application/geo+json"), ("gpkg", "application/geopackage+sqlite3"),
                      ("png", "image/png"), ("csv", "text/csv")):
        href = re.search(r'id="download-%s" href="([^"]+)"' % fmt, page).group(1).replace("&amp;", "&")
        resp = client.get(href)
        assert resp.status_code == 200 and resp.mimetype == mime, fmt
        assert f".{fmt}" in resp.headers["Content-Disposition"]
    iso = client.get("/api/isochrones", query_string=query).get_json()
    assert {t["site_id"] for t in iso["properties"]["targets"]} >= {"svc-004", "svc-006"}
    assert iso["properties"]["population_total"] == pytest.approx(128316, abs=1)


def test_an_option_gone_at_the_time_of_the_request_carries_a_badge(client):
    # arrive by 10:30 asked at 09:40 the same day: the 07:24 bus has gone (tests/test_advice.py has the answer)
    query = {"from": "12 rue de l'Église, Thérouanne", "to": "caf", "date": "2026-12-02", "time": "10:30",
             "arrive_by": "1", "booked_at": "2026-12-02T09:40"}
    page = client.get("/itineraire", query_string=query).get_data(as_text=True)
    assert page.count('class="badge badge-tag badge-departed">Déjà parti à l&#39;heure de la demande</span>') == 1
    assert "il est trop tard pour le(s) départ(s) de 07:24" in page  # the note
    early = client.get("/itineraire", query_string={**query, "booked_at": "2026-12-01T09:00"}).get_data(as_text=True)
    assert "badge-departed" not in early and "trop tard" not in early
